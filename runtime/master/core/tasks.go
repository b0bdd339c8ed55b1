package core

import (
	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// setTask moves a task to a new latest state. A terminal state is final
// (only its reason and message may still be filled in) and frees the
// task's resources at once, before any acknowledgement, as Mesos does. A
// state the master decided itself (byMaster) is sent to the framework
// without a uuid, and a terminal one completes the task: no
// acknowledgement will come.
func (c *Core) setTask(t *Task, s Ref, byMaster bool) {
	if Terminal(t.State) && s.State != t.State {
		return
	}
	if t.State != s.State || s.Reason != "" && s.Reason != t.Reason || s.Message != "" && s.Message != t.Message {
		s.Framework, s.Task = t.FrameworkID, t.Info.TaskID.Value
		c.apply(Command{Op: OpTaskState, Ref: s})
	}
	if Terminal(s.State) {
		c.release(t)
		c.releaseExecutor(t.exec)
	}
	if !byMaster {
		return
	}
	st := api.TaskStatus{TaskID: t.Info.TaskID, State: s.State, Reason: s.Reason, Message: s.Message, Source: api.SourceMaster,
		AgentID: &api.ID{Value: t.AgentID}, Timestamp: unix(c.now)}
	if s.Reason == api.ReasonAgentRemoved {
		st.UnreachableTime = c.unreachableTime(t.AgentID)
	}
	c.toFw(t.fw, api.Event{Type: api.EventUpdate, Update: &api.Update{Status: st}})
	if Terminal(s.State) {
		c.complete(t)
	}
}

// release gives a task's resources back to the allocator, once.
func (c *Core) release(t *Task) {
	if !t.charged {
		return
	}
	t.charged = false
	if err := c.alloc.Release(allocator.FrameworkID(t.FrameworkID), t.Role, allocator.AgentID(t.AgentID), t.res); err != nil {
		c.applyErrors = append(c.applyErrors, err)
	}
}

// refuseTask reports a task that never started (TASK_ERROR, or
// TASK_DROPPED / TASK_LOST for bad offers): it goes straight to the
// framework's completed tasks.
func (c *Core) refuseTask(f *Framework, ti api.TaskInfo, agent, state, reason, msg string) {
	if state != TaskError {
		c.stats.Dropped++
	} else {
		c.stats.Invalid++
	}
	c.toFw(f, api.Event{Type: api.EventUpdate, Update: &api.Update{Status: api.TaskStatus{
		TaskID: ti.TaskID, State: state, Reason: reason, Message: msg, Source: api.SourceMaster,
		AgentID: &api.ID{Value: agent}, Timestamp: unix(c.now)}}})
}

// complete moves a task whose end is told and acknowledged to the
// framework's completed tasks.
func (c *Core) complete(t *Task) {
	c.apply(Command{Op: OpCompleteTask, Ref: Ref{Framework: t.FrameworkID, Task: t.Info.TaskID.Value}})
}
