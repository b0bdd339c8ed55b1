package master

import (
	"context"
	"net/http"

	"github.com/apronlab/apron/runtime/master/core"
	"github.com/apronlab/apron/runtime/masters"
)

// The views of /state and the web UI are the core's.
type (
	State          = core.State
	ClusterView    = core.ClusterView
	MasterView     = core.MasterView
	Summary        = core.Summary
	Usage          = core.Usage
	Amounts        = core.Amounts
	AgentState     = core.AgentState
	FrameworkState = core.FrameworkState
	RoleState      = core.RoleState
	TaskState      = core.TaskState
	TaskList       = core.TaskList
	TaskDetail     = core.TaskDetail
	Transition     = core.Transition
	Sample         = core.Sample
	PolicyView     = core.PolicyView
)

// serveState writes /state, indented with ?pretty.
func (m *Master) serveState(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Has("pretty") {
		writeJSON(w, m.State())
		return
	}
	m.mu.Lock()
	if m.core == nil {
		m.mu.Unlock()
		m.notLeader(w, r)
		return
	}
	b := m.core.AppendState(make([]byte, 0, m.stateLen+m.stateLen/8))
	m.stateLen = len(b)
	m.mu.Unlock()
	_, _ = w.Write(b)
}

// State returns a copy of the master's state.
func (m *Master) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return State{}
	}
	return m.core.State()
}

// Summary returns /state without its task lists: what a page or a scrape
// that shows no tasks needs.
func (m *Master) Summary() Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return Summary{}
	}
	return m.core.Summary()
}

// History returns the last hour's samples, oldest first.
func (m *Master) History() []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return nil
	}
	return m.core.History()
}

// Task returns a framework's task with its state history.
func (m *Master) Task(fw, id string) (TaskDetail, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return TaskDetail{}, false
	}
	return m.core.Task(fw, id)
}

// AgentTasks returns the tasks of an agent: not completed, and completed
// among those kept, newest first.
func (m *Master) AgentTasks(id string) (running, done []TaskState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return nil, nil
	}
	return m.core.AgentTasks(id)
}

// FrameworkTasks returns a framework's tasks, as AgentTasks does.
func (m *Master) FrameworkTasks(id string) (running, done []TaskState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return nil, nil
	}
	return m.core.FrameworkTasks(id)
}

// FetchState reads the leading master's /state: what a client of the
// master (the scheduler driver, the live backend) knows of the cluster.
func FetchState(ctx context.Context, hc *http.Client, ms *masters.List) (State, error) {
	var st State
	err := ms.GetJSON(ctx, hc, "/state", &st)
	return st, err
}
