package core

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// ExecutorRecord is a task group's executor as the registry keeps it: the
// resources the group's ExecutorInfo asked for, held from the group's
// launch until its last task ends (Mesos' default executor ends with its
// tasks).
type ExecutorRecord struct {
	FrameworkID string           `json:"framework_id"`
	AgentID     string           `json:"agent_id"`
	Role        string           `json:"role"`
	Info        api.ExecutorInfo `json:"info"` // type, executor_id, name
	Resources   string           `json:"resources"`
}

// Executor is an executor the registry knows, with its tasks not yet
// completed; it is forgotten with the last of them.
type Executor struct {
	ExecutorRecord
	res   allocator.Resources
	tasks []*Task

	charged bool // the leader's: its resources are charged in the allocator
}

type execKey struct{ fw, agent, id string }

func (k execKey) compare(o execKey) int {
	return cmp.Or(cmp.Compare(k.fw, o.fw), cmp.Compare(k.agent, o.agent), cmp.Compare(k.id, o.id))
}

func (r *ExecutorRecord) key() execKey {
	return execKey{r.FrameworkID, r.AgentID, r.Info.ExecutorID.Value}
}

// ended says whether every task of the executor ended: the executor has
// then ended too.
func (e *Executor) ended() bool {
	return !slices.ContainsFunc(e.tasks, func(t *Task) bool { return !Terminal(t.State) })
}

// addExecutor records a task group's executor, before its tasks.
func (r *Registry) addExecutor(c Command) error {
	rec := c.Executor
	if rec == nil {
		return fmt.Errorf("%s: no executor", c.Op)
	}
	ag := r.agents[rec.AgentID]
	if r.frameworks[rec.FrameworkID] == nil || ag == nil {
		return fmt.Errorf("%s %s: no framework %q or agent %q", c.Op, rec.Info.ExecutorID.Value, rec.FrameworkID, rec.AgentID)
	}
	if r.executors[rec.key()] != nil {
		return fmt.Errorf("%s: framework %s already has executor %s on %s", c.Op, rec.FrameworkID, rec.Info.ExecutorID.Value, rec.AgentID)
	}
	res, err := allocator.ParseResources(rec.Resources)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.Op, rec.Info.ExecutorID.Value, err)
	}
	e := &Executor{ExecutorRecord: *rec, res: res}
	r.executors[rec.key()] = e
	ag.executors[rec.key()] = e
	return nil
}

// joinExecutor makes a task of a group one of its executor's.
func (r *Registry) joinExecutor(t *Task) {
	if t.Info.Executor == nil {
		return
	}
	if e := r.executors[execKey{t.FrameworkID, t.AgentID, t.Info.Executor.ExecutorID.Value}]; e != nil {
		t.exec = e
		e.tasks = append(e.tasks, t)
	}
}

// leaveExecutor takes a completed task from its executor, and forgets the
// executor with its last task.
func (r *Registry) leaveExecutor(t *Task) {
	e := t.exec
	if e == nil {
		return
	}
	t.exec = nil
	e.tasks = slices.DeleteFunc(e.tasks, func(x *Task) bool { return x == t })
	if len(e.tasks) == 0 {
		delete(r.executors, e.key())
		if ag := r.agents[e.AgentID]; ag != nil {
			delete(ag.executors, e.key())
		}
	}
}

// sortedExecutors is m's executors in key order.
func sortedExecutors(m map[execKey]*Executor) []*Executor {
	out := make([]*Executor, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Executor) int { return a.key().compare(b.key()) })
	return out
}

// releaseExecutor gives an executor's resources back once its last task
// ended.
func (c *Core) releaseExecutor(e *Executor) {
	if e == nil || !e.charged || !e.ended() {
		return
	}
	e.charged = false
	if err := c.alloc.Release(allocator.FrameworkID(e.FrameworkID), e.Role, allocator.AgentID(e.AgentID), e.res); err != nil {
		c.applyErrors = append(c.applyErrors, err)
	}
}

// restoreExecutors charges again the executors of an agent that comes
// back (to the allocator) and still run a task. An executor its agent's
// resources no longer hold ends with its tasks, as a task does
// (addToAllocator).
func (c *Core) restoreExecutors(ag *Agent) {
	for _, e := range sortedExecutors(ag.executors) {
		if e.charged || e.ended() {
			continue
		}
		err := c.alloc.Restore(allocator.FrameworkID(e.FrameworkID), e.Role, allocator.AgentID(e.AgentID), e.res)
		if err == nil {
			e.charged = true
			continue
		}
		for _, t := range slices.Clone(e.tasks) {
			if !Terminal(t.State) {
				c.toAgent(ag, killEvent(t))
				c.setTask(t, Ref{State: TaskLost, Reason: "REASON_AGENT_RESTARTED", Message: fmt.Sprintf("the agent's resources no longer hold its executor %s: %v", e.Info.ExecutorID.Value, err)}, true)
			}
		}
	}
}

// executorsOf are a framework's executors (every framework's for ""), in
// order of framework, agent and id.
func (r *Registry) executorsOf(fw string) []*Executor {
	var out []*Executor
	for k, e := range r.executors {
		if fw == "" || k.fw == fw {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Executor) int { return a.key().compare(b.key()) })
	return out
}

// executorID is the id of a task's executor: its group's, "" for a
// command task.
func (t *Task) executorID() string {
	if t.Info.Executor == nil {
		return ""
	}
	return t.Info.Executor.ExecutorID.Value
}
