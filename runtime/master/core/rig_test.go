package core

import (
	"fmt"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// rig drives a core as its shell would, with a clock the test moves, and
// keeps every message per stream and every command.
type rig struct {
	t         tb
	c         *Core
	now       time.Time
	streams   int
	got       map[string][]Message // by stream
	closed    map[string]bool
	commands  []Command
	principal string // who the rig's calls come from
}

// tb is what the rig needs of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func newRig(t tb, cfg Config) *rig {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	c, err := New(cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, c: c, now: now, got: map[string][]Message{}, closed: map[string]bool{}}
	r.drain()
	return r
}

func (r *rig) drain() {
	rd := r.c.Ready()
	r.commands = append(r.commands, rd.Commands...)
	for _, m := range rd.Messages {
		if r.closed[m.Stream] {
			continue
		}
		r.got[m.Stream] = append(r.got[m.Stream], m)
		if m.Close {
			r.closed[m.Stream] = true
		}
	}
	if errs := r.c.ApplyErrors(); len(errs) > 0 {
		r.t.Fatalf("commands that did not fit the registry: %v", errs)
	}
}

func (r *rig) stream() string {
	r.streams++
	return fmt.Sprintf("s%d", r.streams)
}

func (r *rig) advance(d time.Duration) {
	r.now = r.now.Add(d)
	r.c.Tick(r.now)
	r.drain()
}

// framework subscribes a framework and returns its id and stream.
func (r *rig) framework(info api.FrameworkInfo) (string, string) {
	r.t.Helper()
	s := r.stream()
	id, ref := r.c.Subscribe(r.now, s, info)
	if ref != nil {
		r.t.Fatalf("subscribe: %v", ref)
	}
	r.drain()
	return id, s
}

// agent registers an agent with its tasks and returns its stream.
func (r *rig) agent(name, res string, tasks []api.AgentTask, fws ...api.FrameworkInfo) string {
	r.t.Helper()
	s := r.stream()
	sub := &api.AgentSubscribe{Name: name, Hostname: name, Resources: api.FromResources(allocator.MustParseResources(res)), Tasks: tasks, Frameworks: fws}
	if ref := r.c.AgentSubscribe(r.now, s, r.principal, sub); ref != nil {
		r.t.Fatalf("agent subscribe: %v", ref)
	}
	r.drain()
	return s
}

func (r *rig) call(fw, stream string, c api.Call) *Refusal {
	c.FrameworkID = &api.ID{Value: fw}
	ref := r.c.Call(r.now, stream, r.principal, &c)
	r.drain()
	return ref
}

func (r *rig) status(agent, fw, task, state, latest, uuid string) *Refusal {
	ref := r.c.AgentCall(r.now, r.principal, &api.AgentCall{Type: api.AgentCallStatus, AgentID: agent, Statuses: []api.AgentStatus{
		{FrameworkID: fw, Status: api.TaskStatus{TaskID: api.ID{Value: task}, State: state, UUID: uid(uuid)}, LatestState: latest}}})
	r.drain()
	return ref
}

// events are the framework events a stream got, of one type.
func (r *rig) events(stream, typ string) []api.Event {
	var out []api.Event
	for _, m := range r.got[stream] {
		if m.Event != nil && m.Event.Type == typ {
			out = append(out, *m.Event)
		}
	}
	return out
}

func (r *rig) agentEvents(stream, typ string) []api.AgentEvent {
	var out []api.AgentEvent
	for _, m := range r.got[stream] {
		if m.AgentEvent != nil && m.AgentEvent.Type == typ {
			out = append(out, *m.AgentEvent)
		}
	}
	return out
}

// updates are the states a framework was told of a task, in order.
func (r *rig) updates(stream, task string) []string {
	var out []string
	for _, e := range r.events(stream, api.EventUpdate) {
		if e.Update.Status.TaskID.Value == task {
			out = append(out, e.Update.Status.State)
		}
	}
	return out
}

// lastOffer is the last offer a framework was sent.
func (r *rig) lastOffer(stream string) api.Offer {
	r.t.Helper()
	evs := r.events(stream, api.EventOffers)
	if len(evs) == 0 {
		r.t.Fatalf("stream %s got no offers", stream)
	}
	last := evs[len(evs)-1].Offers.Offers
	return last[len(last)-1]
}

func launchCall(offers []string, tasks ...api.TaskInfo) api.Call {
	ids := make([]api.ID, len(offers))
	for i, o := range offers {
		ids[i] = api.ID{Value: o}
	}
	return api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: ids, Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: tasks}}}}}
}

func taskInfo(id, res string) api.TaskInfo {
	return api.TaskInfo{TaskID: api.ID{Value: id}, Name: id, Resources: api.FromResources(allocator.MustParseResources(res)), Command: &api.CommandInfo{Value: "true"}}
}

// used is what the allocator holds on an agent for tasks (not offers).
func (r *rig) used(agent string) allocator.Resources {
	for _, a := range r.c.Summary().Agents {
		if a.ID == agent {
			return a.Resources.Used.Resources()
		}
	}
	return nil
}

func (r *rig) task(fw, id string) *Task {
	if f := r.c.reg.frameworks[fw]; f != nil {
		return f.Tasks[id]
	}
	return nil
}

func partitionAware(name string) api.FrameworkInfo {
	return api.FrameworkInfo{Name: name, FailoverTimeout: 3600, Capabilities: []api.Capability{{Type: api.PartitionAware}}}
}

func contains(s []string, x string) bool { return slices.Contains(s, x) }

// uid is a 16-byte uuid named s (zero-padded), as agents' uuids are 16
// bytes; "" stays no uuid.
func uid(s string) api.UUID {
	if s == "" {
		return ""
	}
	b := make([]byte, api.UUIDLen)
	copy(b, s)
	return api.UUID(b)
}

// mangle returns another uuid of the same length when wrong.
func mangle(u api.UUID, wrong bool) api.UUID {
	if !wrong || u == "" {
		return u
	}
	b := []byte(u)
	b[len(b)-1] ^= 1
	return api.UUID(b)
}

// replay is a registry that applied the rig's commands, as a replica
// does.
func (r *rig) replay() *Registry {
	r.t.Helper()
	replica := NewRegistry(Limits{})
	for _, c := range r.commands {
		if err := replica.Apply(c); err != nil {
			r.t.Fatalf("replica: %s: %v", c.Op, err)
		}
	}
	return replica
}

// liveTasks are every framework's tasks not completed.
func (r *rig) liveTasks() []*Task {
	var live []*Task
	for _, f := range r.c.allFrameworks() {
		live = append(live, f.active()...)
	}
	return live
}
