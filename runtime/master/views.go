package master

import (
	"time"
)

// Transition is one state a task went through.
type Transition struct {
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// TaskDetail is one task with its history, for the web UI.
type TaskDetail struct {
	TaskState
	Command  string       `json:"command"`
	AgentURL string       `json:"agent_url"`
	History  []Transition `json:"history"`
}

// Task returns a framework's task, running or among the finished ones
// kept, with its state history.
func (m *Master) Task(fw, id string) (TaskDetail, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.lookupFw(fw)
	if f == nil {
		return TaskDetail{}, false
	}
	t := f.tasks[id]
	if t == nil {
		t = f.finished(id)
	}
	if t == nil {
		return TaskDetail{}, false
	}
	d := TaskDetail{TaskState: taskState(t), History: append([]Transition(nil), t.history...)}
	if t.info.Command != nil {
		d.Command = t.info.Command.Value
	}
	if ag := m.agents[t.agent]; ag != nil {
		d.AgentURL = ag.url
	}
	return d, true
}

// AgentTasks returns the tasks of an agent: running, and finished among
// those kept, newest first.
func (m *Master) AgentTasks(id string) (running, done []TaskState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tasksWhere(func(t *task) bool { return t.agent == id })
}

// FrameworkTasks returns a framework's tasks, as AgentTasks does.
func (m *Master) FrameworkTasks(id string) (running, done []TaskState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tasksWhere(func(t *task) bool { return t.fw.id == id })
}

func (m *Master) tasksWhere(keep func(*task) bool) (running, done []TaskState) {
	for _, f := range m.allFws() {
		for _, t := range f.launchOrder() {
			if keep(t) {
				running = append(running, taskState(t))
			}
		}
		for i := len(f.done) - 1; i >= 0; i-- {
			if keep(f.done[i]) {
				done = append(done, taskState(f.done[i]))
			}
		}
	}
	return running, done
}

// AgentURL is where an agent serves its sandboxes.
func (m *Master) AgentURL(id string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ag := m.agents[id]
	if ag == nil {
		return "", false
	}
	return ag.url, true
}

// Started is when the master started.
func (m *Master) Started() time.Time { return m.start }

// Uptime is how long the master has run, on its clock.
func (m *Master) Uptime() time.Duration { return m.opts.Now().Sub(m.start) }
