package master

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// task is a task the master launched.
type task struct {
	fw      *fw
	info    api.TaskInfo
	agent   string
	role    string
	res     allocator.Resources
	state   string
	reason  string
	message string
	updated time.Time
	seq     int64  // launch order
	resText string // res as text, for /state
	frag    []byte // the task's JSON in /state
	history []Transition
}

// refresh rewrites the task's JSON for /state after a change.
func (m *Master) refresh(t *task) {
	m.fragBytes -= len(t.frag)
	t.frag = taskState(t).appendJSON(t.frag[:0])
	m.fragBytes += len(t.frag)
}

func terminal(state string) bool {
	switch state {
	case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE":
		return true
	}
	return false
}

// setState moves a task to the state a status gives, frees its resources
// when it ends, and forwards the status to its framework.
func (m *Master) setState(t *task, s api.TaskStatus) {
	was := t.state
	if terminal(was) {
		return
	}
	t.state, t.reason, t.message, t.updated = s.State, s.Reason, s.Message, m.opts.Now()
	t.history = append(t.history, Transition{State: s.State, Reason: s.Reason, Message: s.Message, Time: t.updated})
	if was != "" { // a task refused before launch was never counted
		m.refresh(t)
		m.counts[was]--
	}
	m.counts[s.State]++
	if s.Timestamp == 0 {
		s.Timestamp = float64(t.updated.UnixNano()) / 1e9
	}
	if s.AgentID == nil {
		s.AgentID = &api.ID{Value: t.agent}
	}
	t.fw.send(api.Event{Type: api.EventUpdate, Update: &api.Update{Status: s}})
	if !terminal(s.State) {
		return
	}
	if was == "" {
		return // refused before it was launched: nothing to free or keep
	}
	delete(t.fw.tasks, t.info.TaskID.Value)
	if ag := m.agents[t.agent]; ag != nil {
		delete(ag.tasks, taskKey{t.fw.id, t.info.TaskID.Value})
		if ag.state == agentActive {
			if err := m.alloc.Release(allocator.FrameworkID(t.fw.id), t.role, allocator.AgentID(t.agent), t.res); err != nil {
				m.opts.Log.Error("release", "task", t.info.TaskID.Value, "err", err)
			}
		}
	}
	t.fw.done = append(t.fw.done, t)
	if over := len(t.fw.done) - m.opts.Retain; over > 0 {
		for _, old := range t.fw.done[:over] {
			m.fragBytes -= len(old.frag)
		}
		t.fw.done = append(t.fw.done[:0], t.fw.done[over:]...)
	}
}

// reject reports a task that never started (TASK_ERROR, TASK_DROPPED).
func (m *Master) reject(f *fw, ti api.TaskInfo, state, reason, msg string) {
	if state == "TASK_DROPPED" {
		m.stats.dropped++
	} else {
		m.stats.invalid++
	}
	t := &task{fw: f, info: ti, agent: ti.AgentID.Value}
	m.setState(t, api.TaskStatus{TaskID: ti.TaskID, State: state, Reason: reason, Message: msg, Source: "SOURCE_MASTER"})
}

func (m *Master) killTask(f *fw, id string) {
	t := f.tasks[id]
	if t == nil {
		f.send(api.Event{Type: api.EventUpdate, Update: &api.Update{Status: api.TaskStatus{
			TaskID: api.ID{Value: id}, State: "TASK_LOST", Reason: "REASON_RECONCILIATION", Source: "SOURCE_MASTER",
			Message: "kill: the master knows no running task by this id", Timestamp: now(m)}}})
		return
	}
	if ag := m.agents[t.agent]; ag != nil && ag.out != nil {
		ag.out.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: f.id, TaskID: id}})
	}
}

func now(m *Master) float64 { return float64(m.opts.Now().UnixNano()) / 1e9 }

func (m *Master) acknowledge(f *fw, a *api.Acknowledge) {
	if ag := m.agents[a.AgentID.Value]; ag != nil && ag.out != nil {
		ag.out.send(api.AgentEvent{Type: api.AgentEventAck, Ack: &api.AgentAckStatus{FrameworkID: f.id, TaskID: a.TaskID.Value, UUID: a.UUID}})
	}
}

// reconcile sends the latest state of the tasks asked for (all when none).
func (m *Master) reconcile(f *fw, r *api.Reconcile) {
	var ids []string
	if r == nil || len(r.Tasks) == 0 {
		ids = sorted.Keys(f.tasks)
	} else {
		for _, t := range r.Tasks {
			ids = append(ids, t.TaskID.Value)
		}
	}
	for _, id := range ids {
		s := api.TaskStatus{TaskID: api.ID{Value: id}, State: "TASK_LOST", Reason: "REASON_RECONCILIATION", Source: "SOURCE_MASTER", Message: "unknown task", Timestamp: now(m)}
		if t := f.tasks[id]; t != nil {
			s.State, s.Message, s.AgentID = t.state, t.message, &api.ID{Value: t.agent}
		} else if t := f.finished(id); t != nil {
			s.State, s.Message, s.AgentID = t.state, t.message, &api.ID{Value: t.agent}
		}
		f.send(api.Event{Type: api.EventUpdate, Update: &api.Update{Status: s}})
	}
}

func (f *fw) finished(id string) *task {
	for i := len(f.done) - 1; i >= 0; i-- {
		if f.done[i].info.TaskID.Value == id {
			return f.done[i]
		}
	}
	return nil
}

// accept launches the tasks of an ACCEPT on its offers. A bad offer drops
// every task (TASK_DROPPED); a bad task is refused alone (TASK_ERROR).
func (m *Master) accept(f *fw, a *api.Accept) (string, error) {
	var launch []api.TaskInfo
	for i, op := range a.Operations {
		if op.Type != "LAUNCH" || op.Launch == nil {
			return fmt.Sprintf("accept.operations[%d].type", i), fmt.Errorf("operation type %q; apron supports LAUNCH with a launch object", op.Type)
		}
		launch = append(launch, op.Launch.TaskInfos...)
	}
	if len(a.OfferIDs) == 0 {
		return "accept.offer_ids", fmt.Errorf("an ACCEPT names at least one offer")
	}
	offers, agent, why := m.acceptedOffers(f, a.OfferIDs)
	if why != "" {
		for _, o := range offers {
			_ = m.alloc.Decline(o.ID, refuseOf(a.Filters), m.opts.Now())
		}
		for _, ti := range launch {
			m.reject(f, ti, "TASK_DROPPED", "REASON_INVALID_OFFERS", why)
		}
		return "", nil
	}
	var total, used allocator.Resources
	for _, o := range offers {
		total = total.Add(o.Resources)
	}
	var ok []*task
	for i, ti := range launch {
		field := fmt.Sprintf("accept.operations.launch.task_infos[%d]", i)
		res, msg := m.validTask(f, ti, field, agent)
		if msg == "" && !total.Sub(used).Contains(res) {
			msg = fmt.Sprintf("%s.resources: %s do not fit in what is left of the offers, %s", field, res, total.Sub(used))
		}
		if msg != "" {
			m.reject(f, ti, "TASK_ERROR", "REASON_TASK_INVALID", msg)
			continue
		}
		used = used.Add(res)
		ti.AgentID = api.ID{Value: agent}
		ok = append(ok, &task{fw: f, info: ti, agent: agent, role: offers[0].Role, res: res})
	}
	m.useOffers(offers, used, refuseOf(a.Filters))
	m.stats.accepted++
	for _, t := range ok {
		m.launch(t)
	}
	return "", nil
}

// acceptedOffers looks up the offers of an accept; why says why they cannot
// be used, with the offers that could.
func (m *Master) acceptedOffers(f *fw, ids []api.ID) ([]allocator.Offer, string, string) {
	var offers []allocator.Offer
	why := ""
	for _, id := range ids {
		oid, ok := m.parseOfferID(id.Value)
		o, found := m.alloc.Offer(oid)
		switch {
		case !ok || !found || string(o.Framework) != f.id:
			why = fmt.Sprintf("offer %s is not outstanding for this framework (it was used, declined, rescinded or never made)", id.Value)
		case len(offers) > 0 && o.Agent != offers[0].Agent:
			why = fmt.Sprintf("offer %s is on agent %s, not %s: one ACCEPT uses offers of one agent", id.Value, o.Agent, offers[0].Agent)
		case len(offers) > 0 && o.Role != offers[0].Role:
			why = fmt.Sprintf("offer %s is for role %s, not %s", id.Value, o.Role, offers[0].Role)
		default:
			offers = append(offers, o)
		}
	}
	if len(offers) == 0 {
		return nil, "", why
	}
	return offers, string(offers[0].Agent), why
}

// validTask checks one task of an accept; the message says what is wrong.
func (m *Master) validTask(f *fw, ti api.TaskInfo, field, agent string) (allocator.Resources, string) {
	id := ti.TaskID.Value
	res, err := api.ToResources(field+".resources", ti.Resources)
	switch {
	case id == "":
		return nil, field + ".task_id: empty; every task needs an id unique in its framework"
	case f.tasks[id] != nil:
		return nil, fmt.Sprintf("%s.task_id: %q is already running", field, id)
	case api.ValidName(id) != nil:
		return nil, fmt.Sprintf("%s.task_id: %v (it names the task's sandbox)", field, api.ValidName(id))
	case ti.AgentID.Value != "" && ti.AgentID.Value != agent:
		return nil, fmt.Sprintf("%s.agent_id: %q, but the offers are on %s", field, ti.AgentID.Value, agent)
	case err != nil:
		return nil, err.Error()
	case res.IsEmpty():
		return nil, field + ".resources: empty; a task asks for some cpus or mem"
	case ti.Command == nil || ti.Command.Value == "":
		return nil, field + ".command.value: empty; give the shell command to run"
	}
	return res, ""
}

// useOffers accepts each offer with its part of used; the rest of each
// goes back with the filter.
func (m *Master) useOffers(offers []allocator.Offer, used allocator.Resources, refuse time.Duration) {
	left := used
	for _, o := range offers {
		part := overlap(o.Resources, left)
		left = left.Sub(part)
		if err := m.alloc.Accept(o.ID, part, refuse, m.opts.Now()); err != nil {
			m.opts.Log.Error("accept", "offer", o.ID, "err", err)
		}
	}
}

// overlap is the most of want that fits in have, entry by entry.
func overlap(have, want allocator.Resources) allocator.Resources {
	var out allocator.Resources
	for _, w := range want {
		q := min(w.Value, have.Get(w.Name, w.Role))
		if q > 0 {
			out = out.Add(allocator.Resources{{Name: w.Name, Role: w.Role, Value: q}})
		}
	}
	return out
}

// launch records a task and sends it to its agent.
func (m *Master) launch(t *task) {
	m.launches++
	t.state, t.updated, t.seq = "TASK_STAGING", m.opts.Now(), m.launches
	t.history = []Transition{{State: "TASK_STAGING", Time: t.updated}}
	m.counts["TASK_STAGING"]++
	m.stats.launched++
	t.fw.tasks[t.info.TaskID.Value] = t
	t.fw.launched = append(t.fw.launched, t)
	t.resText = t.res.String()
	m.refresh(t)
	ag := m.agents[t.agent]
	ag.tasks[taskKey{t.fw.id, t.info.TaskID.Value}] = t
	if ag.out == nil {
		m.setState(t, api.TaskStatus{TaskID: t.info.TaskID, State: "TASK_LOST", Reason: "REASON_AGENT_DISCONNECTED", Message: "the agent's stream to the master is down", Source: "SOURCE_MASTER"})
		return
	}
	ag.out.send(api.AgentEvent{Type: api.AgentEventLaunch, Launch: &api.AgentLaunchTask{FrameworkID: t.fw.id, Role: t.role, Task: t.info}})
}
