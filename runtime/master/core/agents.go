package core

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// AgentSubscribe registers an agent or takes one back (after a restart of
// the agent or of the master, or after it was unreachable), reconciles the
// tasks it reports with the registry's, and makes stream its event
// stream: the first event on it is REGISTERED.
func (c *Core) AgentSubscribe(now time.Time, stream, principal string, s *api.AgentSubscribe) *Refusal {
	c.now = now
	total, r := c.checkAgentSubscribe(s)
	if r != nil {
		return r
	}
	if r := c.authorize(principal, auth.RegisterAgents, s.Name, "subscribe.name"); r != nil {
		return r
	}
	ag := c.reg.agents[s.Name]
	if ag != nil {
		if r := c.owns(principal, ag.Principal, "agent "+ag.ID, "subscribe.name"); r != nil {
			return r
		}
	}
	if ag != nil && older(s.Incarnation, s.Generation, ag.Incarnation, ag.Generation) {
		return c.refuse(http.StatusConflict, "subscribe.generation", "agent %s: subscription %d.%d is older than %d.%d, which the master took: a late one", ag.ID,
			s.Incarnation, s.Generation, ag.Incarnation, ag.Generation)
	}
	if ag == nil && len(c.reg.agents) >= c.cfg.Limits.MaxAgents {
		return c.refuse(http.StatusServiceUnavailable, "", "this master holds %d agents, its limit (--max-agents)", len(c.reg.agents))
	}
	if ag != nil && ag.stream != "" {
		c.closeStream(ag.stream, nil)
	}
	if ag != nil && ag.inAlloc && !ag.total.Equal(total) {
		c.removeFromAllocator(ag)
	}
	if ag != nil && !ag.total.Equal(total) {
		c.fitReservations(ag, total)
	}
	rec := AgentRecord{ID: s.Name, Hostname: s.Hostname, URL: s.URL, Isolation: s.Isolation, Resources: total.String(),
		Attributes: s.Attributes, State: AgentActive, Registered: now, Incarnation: s.Incarnation, Generation: s.Generation, Principal: principal}
	if ag != nil {
		rec.Registered = ag.Registered
	}
	c.apply(Command{Op: OpAddAgent, Agent: &rec})
	ag = c.reg.agents[s.Name]
	ag.stream, ag.lastSeen = stream, now
	c.streams[stream] = agentStream + ag.ID
	delete(c.reregister, ag.ID)
	c.toAgent(ag, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: ag.ID, HeartbeatIntervalSeconds: (c.cfg.AgentTimeout / 4).Seconds()}})
	c.adoptTasks(ag, s)
	c.addToAllocator(ag)
	for _, k := range sortedTaskKeys(ag.Tasks) {
		if t := ag.Tasks[k]; t.KillAsked && !Terminal(t.State) {
			c.toAgent(ag, killEvent(t))
		}
	}
	c.soon = true
	return nil
}

// older says whether subscription (inc, gen) comes before (inc2, gen2).
func older(inc, gen, inc2, gen2 uint64) bool {
	return inc < inc2 || inc == inc2 && gen < gen2
}

// agentStream marks an agent's entry in Core.streams.
const agentStream = "agent:"

func (c *Core) checkAgentSubscribe(s *api.AgentSubscribe) (allocator.Resources, *Refusal) {
	lim := c.cfg.Limits
	if s == nil {
		return nil, c.refuse(http.StatusBadRequest, "subscribe", "an agent SUBSCRIBE needs a subscribe object")
	}
	if err := api.ValidName(s.Name); err != nil {
		return nil, c.refuse(http.StatusBadRequest, "subscribe.name", "subscribe.name: %v", err)
	}
	for name, v := range map[string]string{"hostname": s.Hostname, "url": s.URL, "isolation": s.Isolation} {
		if len(v) > lim.MaxName {
			return nil, c.refuse(http.StatusBadRequest, "subscribe."+name, "subscribe.%s: %d bytes; at most %d", name, len(v), lim.MaxName)
		}
	}
	if len(s.Attributes) > lim.MaxAttributes {
		return nil, c.refuse(http.StatusBadRequest, "subscribe.attributes", "subscribe.attributes: %d; at most %d", len(s.Attributes), lim.MaxAttributes)
	}
	for k, v := range s.Attributes {
		if len(k)+len(v) > lim.MaxName {
			return nil, c.refuse(http.StatusBadRequest, "subscribe.attributes", "subscribe.attributes: %.64q is longer than %d bytes", k, lim.MaxName)
		}
	}
	if len(s.Tasks) > lim.MaxTasksPerFramework || len(s.Frameworks) > lim.MaxFrameworks {
		return nil, c.refuse(http.StatusBadRequest, "subscribe.tasks", "subscribe: %d tasks and %d frameworks; at most %d and %d", len(s.Tasks), len(s.Frameworks), lim.MaxTasksPerFramework, lim.MaxFrameworks)
	}
	for i, t := range s.Tasks {
		err := cmp.Or(api.ValidName(t.FrameworkID), api.ValidName(t.Task.TaskID.Value))
		if err != nil || !agentStates[t.State] {
			return nil, c.refuse(http.StatusBadRequest, fmt.Sprintf("subscribe.tasks[%d]", i), "subscribe.tasks[%d]: ids: %v; state %.32q (want a task state an agent reports)", i, err, t.State)
		}
	}
	total, err := api.ToResources("subscribe.resources", s.Resources)
	if err != nil || total.IsEmpty() {
		return nil, c.refuse(http.StatusBadRequest, "subscribe.resources", "an agent offers some resources: %v", err)
	}
	return total, nil
}

// adoptTasks reconciles the tasks a re-registering agent reports with the
// registry's. A task of a framework the master does not know is adopted
// with its framework (a master that restarted with no memory, as Mesos'
// master recovers frameworks from agents); a task the master completed or
// whose framework was removed is killed; a task the master thinks runs
// there and the agent does not report is lost.
func (c *Core) adoptTasks(ag *Agent, s *api.AgentSubscribe) {
	infos := map[string]api.FrameworkInfo{}
	for _, fi := range s.Frameworks {
		if fi.ID != nil {
			infos[fi.ID.Value] = fi
		}
	}
	seen := map[taskKey]bool{}
	for _, rt := range s.Tasks {
		k := taskKey{rt.FrameworkID, rt.Task.TaskID.Value}
		if seen[k] {
			continue
		}
		seen[k] = true
		c.adoptTask(ag, rt, infos)
	}
	for _, k := range sortedTaskKeys(ag.Tasks) {
		t := ag.Tasks[k]
		switch {
		case seen[k]:
		case Terminal(t.State):
			c.apply(Command{Op: OpCompleteTask, Ref: Ref{Framework: k.fw, Task: k.task}})
		case t.State == TaskStaging:
			c.setTask(t, Ref{State: TaskDropped, Reason: api.ReasonAgentRestarted, Message: "the agent re-registered without it: the launch did not reach it"}, true)
		default:
			c.setTask(t, Ref{State: TaskLost, Reason: api.ReasonAgentRestarted, Message: "the agent re-registered without it"}, true)
		}
	}
}

func (c *Core) adoptTask(ag *Agent, rt api.AgentTask, infos map[string]api.FrameworkInfo) {
	f := c.reg.frameworks[rt.FrameworkID]
	if f == nil && c.removed(rt.FrameworkID) == nil && c.recovering() {
		f = c.recoverFramework(rt, infos)
	}
	var t *Task
	if f != nil {
		t = f.Tasks[rt.Task.TaskID.Value]
	}
	switch {
	case f == nil || t == nil && (c.completed(f, rt.Task.TaskID.Value) || !c.recovering()) || t != nil && t.AgentID != ag.ID:
		// Its framework is gone, the master completed it (reported
		// TASK_LOST to a framework that is not partition aware), it
		// does not know it past its recovery, or the id runs
		// elsewhere: it must not run on.
		if !Terminal(rt.State) {
			c.toAgent(ag, api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: rt.FrameworkID, TaskID: rt.Task.TaskID.Value}})
		}
	case t == nil:
		res, err := api.ToResources("task", rt.Task.Resources)
		if err != nil {
			res = nil
		}
		rt.Task.AgentID = api.ID{Value: ag.ID}
		c.apply(Command{Op: OpAddTask, Task: &TaskRecord{FrameworkID: f.ID, AgentID: ag.ID, Role: rt.Role, Info: rt.Task, Resources: res.String()},
			Ref: Ref{State: rt.State, Message: "adopted from the re-registering agent"}})
	default:
		c.setTask(t, Ref{State: rt.State}, false)
	}
}

// recoverFramework adds a framework this master learns of from an agent,
// disconnected until it resubscribes.
func (c *Core) recoverFramework(rt api.AgentTask, infos map[string]api.FrameworkInfo) *Framework {
	info, ok := infos[rt.FrameworkID]
	if !ok {
		info = api.FrameworkInfo{Name: rt.FrameworkID, Roles: []string{rt.Role}, FailoverTimeout: c.cfg.ReregisterTimeout.Seconds()}
	}
	info.ID = &api.ID{Value: rt.FrameworkID}
	roles, r := c.checkFrameworkInfo("subscribe.frameworks", &info)
	if r != nil {
		return nil
	}
	f, r := c.addFramework(rt.FrameworkID, info, roles)
	if r != nil {
		return nil
	}
	f.disconnected = c.now
	_ = c.alloc.Suppress(allocator.FrameworkID(f.ID))
	return f
}

func (c *Core) removed(id string) *Framework {
	for _, g := range c.reg.gone {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (c *Core) completed(f *Framework, id string) bool {
	for _, t := range f.Done {
		if t.Info.TaskID.Value == id {
			return true
		}
	}
	return false
}

// addToAllocator offers a connected agent's resources again, less those
// of its tasks that have not ended (an agent the allocator holds already,
// deactivated while it was away, is activated).
func (c *Core) addToAllocator(ag *Agent) {
	if ag.inAlloc {
		_ = c.alloc.ActivateAgent(allocator.AgentID(ag.ID))
		return
	}
	if err := c.alloc.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(ag.ID), Attributes: ag.Attributes}, ag.Total()); err != nil {
		c.applyErrors = append(c.applyErrors, err)
		return
	}
	ag.inAlloc = true
	for _, k := range sortedTaskKeys(ag.Tasks) {
		t := ag.Tasks[k]
		if Terminal(t.State) || t.charged {
			continue
		}
		if err := c.alloc.Restore(allocator.FrameworkID(t.FrameworkID), t.Role, allocator.AgentID(ag.ID), t.res); err != nil {
			c.toAgent(ag, killEvent(t))
			c.setTask(t, Ref{State: TaskLost, Reason: api.ReasonAgentRestarted, Message: fmt.Sprintf("the agent's resources no longer hold it: %v", err)}, true)
			continue
		}
		t.charged = true
	}
	c.restoreExecutors(ag)
}

// removeFromAllocator stops offering an agent: its offers are rescinded
// and its tasks' resources leave the allocator with it.
func (c *Core) removeFromAllocator(ag *Agent) {
	if !ag.inAlloc {
		return
	}
	ag.inAlloc = false
	offers, _ := c.alloc.RemoveAgent(allocator.AgentID(ag.ID))
	for _, o := range offers {
		c.rescinded(o)
	}
	for _, t := range ag.Tasks {
		t.charged = false
	}
	for _, e := range ag.executors {
		e.charged = false
	}
}

// AgentGone tells the core an agent's event stream ended. The agent is
// disconnected: its resources are not offered (what its tasks use stays
// charged) and its tasks stay as they are until it re-registers, or misses its heartbeats for the agent
// timeout and becomes unreachable.
func (c *Core) AgentGone(now time.Time, stream string) {
	c.now = now
	owner, ok := c.streams[stream]
	if !ok {
		return
	}
	delete(c.streams, stream)
	ag := c.reg.agents[owner[len(agentStream):]]
	if ag == nil || ag.stream != stream {
		return
	}
	ag.stream = ""
	if ag.inAlloc {
		// As Mesos deactivates it: not offered, its tasks' resources
		// still charged to their frameworks.
		offers, _ := c.alloc.DeactivateAgent(allocator.AgentID(ag.ID))
		for _, o := range offers {
			c.rescinded(o)
		}
	}
}

// checkAgents marks unreachable the agents not heard of for the agent
// timeout and those of the registry that did not come back in time.
func (c *Core) checkAgents() {
	for _, id := range c.reg.agentOrder {
		ag := c.reg.agents[id]
		if ag.State == AgentUnreachable && c.now.Sub(ag.unreachable) >= c.cfg.UnreachableTimeout {
			c.giveUp(ag)
		}
		if ag.State != AgentActive {
			continue
		}
		if by, waiting := c.reregister[id]; waiting {
			if !c.now.Before(by) {
				c.unreachable(ag, "it did not re-register after the master failed over")
			}
			continue
		}
		if silent := c.now.Sub(ag.lastSeen); silent >= c.cfg.AgentTimeout {
			c.unreachable(ag, fmt.Sprintf("no heartbeat for %v", silent.Round(time.Millisecond)))
		}
	}
}

// unreachable marks an agent unreachable: its resources leave the
// allocator; the tasks of partition-aware frameworks become
// TASK_UNREACHABLE (they resume if the agent comes back), the others
// TASK_LOST; every framework hears of the failure.
func (c *Core) unreachable(ag *Agent, why string) {
	c.stats.AgentsLost++
	ag.unreachable = c.now
	delete(c.reregister, ag.ID)
	c.apply(Command{Op: OpAgentState, Ref: Ref{Agent: ag.ID, State: AgentUnreachable, Message: why}})
	c.removeFromAllocator(ag)
	if ag.stream != "" {
		c.closeStream(ag.stream, nil)
		ag.stream = ""
	}
	msg := "agent " + ag.ID + " is unreachable: " + why
	for _, k := range sortedTaskKeys(ag.Tasks) {
		t := ag.Tasks[k]
		if Terminal(t.State) {
			continue
		}
		if t.fw.Info.Has(api.PartitionAware) {
			c.setTask(t, Ref{State: TaskUnreachable, Reason: api.ReasonAgentRemoved, Message: msg}, true)
		} else {
			c.setTask(t, Ref{State: TaskLost, Reason: api.ReasonAgentRemoved, Message: msg}, true)
		}
	}
	for _, id := range sortedKeys(c.reg.frameworks) {
		c.toFw(c.reg.frameworks[id], api.Event{Type: api.EventFailure, Failure: &api.Failure{AgentID: &api.ID{Value: ag.ID}}})
	}
}

// giveUp ends the tasks of an agent unreachable for the unreachable
// timeout: TASK_GONE. If the agent comes back, they are killed.
func (c *Core) giveUp(ag *Agent) {
	c.apply(Command{Op: OpAgentState, Ref: Ref{Agent: ag.ID, State: AgentGone}})
	msg := fmt.Sprintf("agent %s was unreachable for %v", ag.ID, c.cfg.UnreachableTimeout)
	for _, k := range sortedTaskKeys(ag.Tasks) {
		if t := ag.Tasks[k]; !Terminal(t.State) {
			c.setTask(t, Ref{State: TaskGone, Reason: api.ReasonAgentRemoved, Message: msg}, true)
		}
	}
}

// AgentCall runs a HEARTBEAT or STATUS call. 404 tells an agent the
// master does not have it registered and connected: it subscribes again.
func (c *Core) AgentCall(now time.Time, principal string, call *api.AgentCall) *Refusal {
	c.now = now
	if call.Type != api.AgentCallHeartbeat && call.Type != api.AgentCallStatus {
		return c.refuse(http.StatusBadRequest, "type", "unknown agent call type %.64q; known: SUBSCRIBE, HEARTBEAT, STATUS", call.Type)
	}
	ag := c.reg.agents[call.AgentID]
	if ag != nil {
		if r := c.owns(principal, ag.Principal, "agent "+ag.ID, "agent_id"); r != nil {
			return r
		}
	}
	if ag == nil || ag.State != AgentActive || ag.stream == "" {
		return c.refuse(http.StatusNotFound, "agent_id", "agent %.64q is not registered and connected; subscribe again", call.AgentID)
	}
	for i, s := range call.Statuses {
		if !agentStates[s.Status.State] || s.LatestState != "" && !agentStates[s.LatestState] || len(s.Status.Message) > c.cfg.Limits.MaxName {
			return c.refuse(http.StatusBadRequest, fmt.Sprintf("statuses[%d].status.state", i), "statuses[%d]: state %.32q, latest_state %.32q: want a task state an agent reports (TASK_RUNNING, TASK_FINISHED, ...), and a message of at most %d bytes",
				i, s.Status.State, s.LatestState, c.cfg.Limits.MaxName)
		}
		if err := checkAgentStatus(s.Status); err != nil {
			return c.refuse(http.StatusBadRequest, fmt.Sprintf("statuses[%d].status", i), "statuses[%d].status.%v", i, err)
		}
	}
	ag.lastSeen = now
	for _, s := range call.Statuses {
		c.agentStatus(ag, s)
	}
	return nil
}

// agentStatus applies one status update from an agent: the task takes
// the update's latest state (freeing its resources if that is terminal)
// and the framework gets the update, to acknowledge.
func (c *Core) agentStatus(ag *Agent, s api.AgentStatus) {
	f := c.reg.frameworks[s.FrameworkID]
	var t *Task
	if f != nil {
		t = f.Tasks[s.Status.TaskID.Value]
	}
	if t == nil || t.AgentID != ag.ID || slices.Contains(t.acked, s.Status.UUID) {
		// A framework that is gone, a task completed (its end already
		// told), never known, or an update the framework acknowledged
		// that arrives again late: the master acknowledges it itself.
		if s.Status.UUID != "" {
			c.toAgent(ag, api.AgentEvent{Type: api.AgentEventAck, Ack: &api.AgentAckStatus{FrameworkID: s.FrameworkID, TaskID: s.Status.TaskID.Value, UUID: s.Status.UUID}})
		}
		if t != nil && t.AgentID == ag.ID && Terminal(s.Status.State) && Terminal(t.State) {
			// Its end acknowledged while the agent was away (or before
			// the master restarted and forgot which update that was):
			// the task is complete now.
			c.complete(t)
		}
		return
	}
	latest := s.LatestState
	if latest == "" || Terminal(s.Status.State) {
		latest = s.Status.State // nothing follows a terminal update
	}
	ref := Ref{State: latest}
	if latest == s.Status.State {
		ref.Reason, ref.Message = s.Status.Reason, s.Status.Message
	}
	c.setTask(t, ref, false)
	t.statusUUID, t.statusState = s.Status.UUID, s.Status.State
	st := s.Status
	st.AgentID, st.Source = &api.ID{Value: ag.ID}, api.SourceAgent
	c.toFw(f, api.Event{Type: api.EventUpdate, Update: &api.Update{Status: st}})
}
