package core

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// dispatch runs one call of a subscribed framework, as Mesos' master
// runs it: a call that names what is not there (an unknown task, offer or
// agent, a role the framework does not have) is dropped, not refused.
func (c *Core) dispatch(f *Framework, call *api.Call) *Refusal {
	switch call.Type {
	case api.CallTeardown:
		c.teardown(f, "torn down by the framework")
	case api.CallAccept:
		if call.Accept == nil {
			return c.refuse(http.StatusBadRequest, "accept", "an ACCEPT call needs an accept object")
		}
		return c.accept(f, call.Accept)
	case api.CallDecline:
		if call.Decline == nil {
			return c.refuse(http.StatusBadRequest, "decline", "a DECLINE call needs a decline object")
		}
		return c.decline(f, call.Decline)
	case api.CallRevive, api.CallSuppress:
		c.reviveOrSuppress(f, call)
	case api.CallKill:
		if call.Kill == nil || call.Kill.TaskID.Value == "" {
			return c.refuse(http.StatusBadRequest, "kill.task_id", "a KILL call needs kill.task_id")
		}
		c.kill(f, call.Kill)
	case api.CallAcknowledge:
		a := call.Acknowledge
		if a == nil || a.TaskID.Value == "" || a.AgentID.Value == "" {
			return c.refuse(http.StatusBadRequest, "acknowledge", "an ACKNOWLEDGE call needs acknowledge.agent_id, task_id and uuid")
		}
		if len(a.UUID) != api.UUIDLen {
			return c.refuse(http.StatusBadRequest, "acknowledge.uuid", "acknowledge.uuid: %d bytes; a status update's uuid is %d bytes (base64 in JSON), as the update gave it", len(a.UUID), api.UUIDLen)
		}
		c.acknowledge(f, a)
	case api.CallReconcile:
		if call.Reconcile == nil {
			return c.refuse(http.StatusBadRequest, "reconcile", "a RECONCILE call needs a reconcile object (with no tasks: all of them)")
		}
		return c.reconcile(f, call.Reconcile)
	case api.CallReconcileOperations:
		return c.reconcileOperations(f, call.ReconcileOperations)
	case api.CallAcknowledgeOperationStatus:
		return c.acknowledgeOperation(call.AcknowledgeOperationStatus)
	case api.CallUpdateFramework:
		return c.updateFrameworkCall(f, call.UpdateFramework)
	case api.CallShutdown:
		if r := c.noExecutorCall(call); r != nil {
			return r
		}
		c.shutdownExecutor(f, call.Shutdown)
	case api.CallMessage, api.CallRequest, api.CallAcceptInverseOffers, api.CallDeclineInverseOffers:
		return c.noExecutorCall(call)
	default:
		return c.refuse(http.StatusBadRequest, "type", "call type %.64q is not one a subscribed framework makes; Mesos' calls: %s", call.Type, strings.Join(api.CallTypes, ", "))
	}
	return nil
}

// refuseOf is how long a filter lasts: -1 for none (refuse_seconds 0 or
// less), 0 for the policy's default, capped at MaxRefuse.
func (c *Core) refuseOf(field string, f *api.Filters) (time.Duration, *Refusal) {
	if f == nil || f.RefuseSeconds == nil {
		return 0, nil
	}
	s := *f.RefuseSeconds
	switch {
	case math.IsNaN(s):
		return 0, c.refuse(http.StatusBadRequest, field+".refuse_seconds", "%s.refuse_seconds is not a number", field)
	case s <= 0:
		return -1, nil
	case s >= MaxRefuse.Seconds():
		return MaxRefuse, nil
	}
	return time.Duration(s * float64(time.Second)), nil
}

func (c *Core) decline(f *Framework, d *api.Decline) *Refusal {
	refuse, r := c.refuseOf("decline.filters", d.Filters)
	if r != nil {
		return r
	}
	for _, id := range d.OfferIDs {
		if oid, ok := c.parseOfferID(id.Value); ok && c.ownsOffer(f, oid) {
			_ = c.alloc.Decline(oid, refuse, c.now)
			c.stats.Declined++
		}
	}
	return nil
}

func (c *Core) ownsOffer(f *Framework, id allocator.OfferID) bool {
	o, ok := c.alloc.Offer(id)
	return ok && string(o.Framework) == f.ID
}

// reviveOrSuppress runs REVIVE or SUPPRESS for the roles named (all of
// the framework's when none are). As Mesos does, a call that names a role
// the framework does not have is dropped whole.
func (c *Core) reviveOrSuppress(f *Framework, call *api.Call) {
	var roles []string
	if call.Revive != nil {
		roles = call.Revive.Roles
	}
	if call.Suppress != nil {
		roles = call.Suppress.Roles
	}
	wire := make([]string, 0, len(roles))
	for _, r := range roles {
		if !slices.Contains(f.Roles, wireRole(r)) {
			c.stats.CallsDropped++
			return
		}
		wire = append(wire, wireRole(r))
	}
	if len(wire) == 0 {
		wire = f.Roles
	}
	if call.Type == api.CallSuppress {
		_ = c.alloc.Suppress(allocator.FrameworkID(f.ID), wire...)
	} else {
		_ = c.alloc.Revive(allocator.FrameworkID(f.ID), wire...)
		c.soon = true
	}
	for _, r := range wire {
		f.suppressed[r] = call.Type == api.CallSuppress
	}
}

// kill asks a task's agent to kill it. The request is kept with the task
// and sent again whenever the agent re-registers (Mesos retries kills on
// re-registration); a task the master does not run is answered with what
// the master knows of it. A kill that names another agent than the
// task's is dropped, as Mesos drops it.
func (c *Core) kill(f *Framework, k *api.Kill) {
	id, agent := k.TaskID.Value, ""
	if k.AgentID != nil {
		agent = k.AgentID.Value
	}
	t := f.Tasks[id]
	if t == nil {
		if s, ok := c.reconciled(f, id, agent, "kill: the master runs no task by this id"); ok {
			c.toFw(f, api.Event{Type: api.EventUpdate, Update: &api.Update{Status: s}})
		}
		return
	}
	if Terminal(t.State) || agent != "" && agent != t.AgentID {
		return
	}
	if !t.KillAsked {
		c.apply(Command{Op: OpKillTask, Ref: Ref{Framework: f.ID, Task: id}})
	}
	c.toAgent(c.reg.agents[t.AgentID], killEvent(t))
}

func killEvent(t *Task) api.AgentEvent {
	return api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: t.FrameworkID, TaskID: t.Info.TaskID.Value}}
}

// acknowledge passes a framework's acknowledgement to the agent; once the
// task's terminal update is acknowledged, the task is completed.
func (c *Core) acknowledge(f *Framework, a *api.Acknowledge) {
	c.toAgent(c.reg.agents[a.AgentID.Value], api.AgentEvent{Type: api.AgentEventAck,
		Ack: &api.AgentAckStatus{FrameworkID: f.ID, TaskID: a.TaskID.Value, UUID: a.UUID}})
	t := f.Tasks[a.TaskID.Value]
	if t == nil || t.AgentID != a.AgentID.Value {
		return
	}
	if !slices.Contains(t.acked, a.UUID) {
		t.acked = appendBounded(t.acked, a.UUID, maxAcked)
	}
	if t.statusUUID == a.UUID && Terminal(t.statusState) && Terminal(t.State) {
		c.complete(t)
	}
}

// maxAcked bounds the acknowledged uuids kept per task: an agent sends a
// task's updates one at a time, so only the last few can come again.
const maxAcked = 8

// reconcile sends the latest state of the tasks asked for, or of every
// task not yet completed when none are named.
func (c *Core) reconcile(f *Framework, r *api.Reconcile) *Refusal {
	if len(r.Tasks) > c.cfg.Limits.MaxReconcile {
		return c.refuse(http.StatusBadRequest, "reconcile.tasks", "reconcile.tasks: %d tasks; at most %d in one call", len(r.Tasks), c.cfg.Limits.MaxReconcile)
	}
	var ids []api.ReconcileTask
	if len(r.Tasks) == 0 {
		for _, t := range bySeq(taskList(f.Tasks)) {
			ids = append(ids, api.ReconcileTask{TaskID: t.Info.TaskID})
		}
	} else {
		ids = r.Tasks
	}
	for _, rt := range ids {
		agent := ""
		if rt.AgentID != nil {
			agent = rt.AgentID.Value
		}
		if s, ok := c.reconciled(f, rt.TaskID.Value, agent, ""); ok {
			c.toFw(f, api.Event{Type: api.EventUpdate, Update: &api.Update{Status: s}})
		}
	}
	return nil
}

func taskList(m map[string]*Task) []*Task {
	out := make([]*Task, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	return out
}

// reconciled is the master's answer for a task, as Mesos' master gives
// it: its latest state, or that of a completed task kept; for a task it
// does not know, TASK_LOST (TASK_UNKNOWN to a partition-aware framework)
// when the task cannot be running: its agent (when the framework names
// it) is registered and reported its tasks, or the master knows every
// task (it did not restart with no memory, see Config.Fresh, or the
// agents' time to re-register is over). An agent the master holds
// unreachable gives TASK_UNREACHABLE (TASK_LOST). Otherwise the agent may
// yet re-register with the task, and there is no answer (ok false).
// Answers carry no uuid and reason REASON_RECONCILIATION: they are not
// new updates.
func (c *Core) reconciled(f *Framework, id, agent, msg string) (api.TaskStatus, bool) {
	s := api.TaskStatus{TaskID: api.ID{Value: id}, Reason: api.ReasonReconciliation, Source: api.SourceMaster, Timestamp: unix(c.now)}
	t := f.Tasks[id]
	if t == nil {
		for i := len(f.Done) - 1; i >= 0 && t == nil; i-- {
			if f.Done[i].Info.TaskID.Value == id {
				t = f.Done[i]
			}
		}
	}
	aware := f.Info.Has(api.PartitionAware)
	ag := c.reg.agents[agent]
	switch {
	case t != nil:
		s.State, s.Message, s.AgentID = t.State, t.Message, &api.ID{Value: t.AgentID}
		if t.State == TaskUnreachable || t.Reason == api.ReasonAgentRemoved {
			s.UnreachableTime = c.unreachableTime(t.AgentID)
		}
	case ag != nil && ag.State == AgentUnreachable:
		s.State, s.Message, s.AgentID = TaskLost, "its agent is unreachable and the master knows no task by this id", &api.ID{Value: agent}
		s.UnreachableTime = c.unreachableTime(agent)
		if aware {
			s.State = TaskUnreachable
		}
	case c.recovering() && (ag == nil || ag.State != AgentActive):
		return s, false
	default:
		s.State, s.Message = TaskLost, "the master knows no task by this id"
		if aware {
			s.State = TaskUnknown
		}
	}
	if msg != "" {
		s.Message = msg
	}
	return s, true
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
