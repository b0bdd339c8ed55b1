package core

// TaskDetail is one task with its history, for the web UI.
type TaskDetail struct {
	TaskState
	Command  string `json:"command"`
	AgentURL string `json:"agent_url"`
	// Principal is the task's framework's: access_sandboxes' object.
	Principal string       `json:"principal,omitempty"`
	History   []Transition `json:"history"`
}

// Task returns a framework's task, not completed or among the completed
// ones kept, with its state history.
func (c *Core) Task(fw, id string) (TaskDetail, bool) {
	var f *Framework
	for _, x := range c.allFrameworks() {
		if x.ID == fw {
			f = x
		}
	}
	if f == nil {
		return TaskDetail{}, false
	}
	t := f.Tasks[id]
	for i := len(f.Done) - 1; i >= 0 && t == nil; i-- {
		if f.Done[i].Info.TaskID.Value == id {
			t = f.Done[i]
		}
	}
	if t == nil {
		return TaskDetail{}, false
	}
	d := TaskDetail{TaskState: t.view(), History: append([]Transition(nil), t.History...), Principal: f.Info.Principal}
	if t.Info.Command != nil {
		d.Command = t.Info.Command.Value
	}
	if ag := c.reg.agents[t.AgentID]; ag != nil {
		d.AgentURL = ag.URL
	}
	return d, true
}

// AgentTasks returns the tasks of an agent: not completed, and completed
// among those kept, newest first.
func (c *Core) AgentTasks(id string) (running, done []TaskState) {
	return c.tasksWhere(func(t *Task) bool { return t.AgentID == id })
}

// FrameworkTasks returns a framework's tasks, as AgentTasks does.
func (c *Core) FrameworkTasks(id string) (running, done []TaskState) {
	return c.tasksWhere(func(t *Task) bool { return t.FrameworkID == id })
}

func (c *Core) tasksWhere(keep func(*Task) bool) (running, done []TaskState) {
	for _, f := range c.allFrameworks() {
		for _, t := range f.active() {
			if keep(t) {
				running = append(running, t.view())
			}
		}
		for i := len(f.Done) - 1; i >= 0; i-- {
			if keep(f.Done[i]) {
				done = append(done, f.Done[i].view())
			}
		}
	}
	return running, done
}
