package core

import (
	"slices"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

func TestOnlyTheOldestUpdateIsSentWithTheLatestState(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := TaskKey{"f", "t"}
	h.launch("f", "t", "cpus:1")
	running := onlyStatus(t, h.started(k, 42), k)
	if running.Status.State != TaskRunning || running.LatestState != "" {
		t.Fatalf("first update %+v, want RUNNING with no latest_state", running)
	}
	again := onlyStatus(t, h.exited(k, 0, false), k)
	if again.Status.UUID != running.Status.UUID || again.LatestState != TaskFinished {
		t.Fatalf("after the exit: %+v, want RUNNING (%s) again with latest_state FINISHED", again, running.Status.UUID)
	}
	finished := onlyStatus(t, h.ack(k, running.Status.UUID), k)
	if finished.Status.State != TaskFinished || finished.LatestState != "" {
		t.Fatalf("after RUNNING's ack: %+v, want FINISHED alone", finished)
	}
	r := h.ack(k, finished.Status.UUID)
	if rec, ok := record(r, k); !ok || rec != nil || len(r.Messages) != 0 || len(h.c.Tasks()) != 0 {
		t.Errorf("after FINISHED's ack: %+v; want the task forgotten (record removed)", r)
	}
}

func TestUpdatesAreRetriedWithBackoff(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MasterTimeout = time.Hour })
	gen := h.register()
	k := TaskKey{"f", "t"}
	h.launch("f", "t", "cpus:1")
	uuid := onlyStatus(t, h.started(k, 42), k).Status.UUID
	last := h.now
	var waits []time.Duration
	for len(waits) < 6 {
		r := h.tick()
		if hb := messages(r, api.AgentCallHeartbeat); len(hb) > 0 {
			h.posted(gen, api.AgentCallHeartbeat, accepted)
		}
		if ss := statuses(r, k); len(ss) > 0 {
			if len(ss) != 1 || ss[0].Status.UUID != uuid {
				t.Fatalf("resent %+v, want the one update %s", ss, uuid)
			}
			waits = append(waits, h.now.Sub(last))
			last = h.now
		}
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(waits, want) {
		t.Errorf("retries after %v, want %v", waits, want)
	}
}

func TestUnknownAckIsIgnored(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := TaskKey{"f", "t"}
	h.launch("f", "t", "cpus:1")
	h.started(k, 42)
	for _, ack := range []struct {
		k    TaskKey
		uuid api.UUID
	}{{k, "not-a-uuid"}, {TaskKey{"f", "other"}, "x"}, {TaskKey{"g", "t"}, "x"}} {
		if r := h.ack(ack.k, ack.uuid); !r.Empty() {
			t.Errorf("ack %v %s: %+v, want nothing", ack.k, ack.uuid, r)
		}
	}
	if v := h.c.Tasks(); v[0].Unacked != 1 {
		t.Errorf("%d unacknowledged, want 1", v[0].Unacked)
	}
}

func TestUpdatesWaitForRegistrationAndGoAtOnce(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	k := h.running("f", "t", 42)
	h.posted(gen, api.AgentCallHeartbeat, notFound) // subscribing again
	r := h.exited(k, 0, false)
	if len(r.Messages) != 0 {
		t.Fatalf("sent %+v while not registered", r.Messages)
	}
	rec, _ := record(r, k)
	if rec == nil || len(rec.Pending) != 1 || rec.Pending[0].State != TaskFinished {
		t.Fatalf("checkpoint %+v, want FINISHED pending", rec)
	}
	h.advance(time.Minute)
	r = h.event(h.gen(), api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: 1}})
	if s := onlyStatus(t, r, k); s.Status.UUID != rec.Pending[0].UUID {
		t.Errorf("on registering sent %+v, want the pending FINISHED", s)
	}
}

func TestReregistrationReportsTasksAndFrameworks(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	a := h.running("f1", "a", 10)
	h.running("f1", "b", 11)
	c := h.running("f2", "c", 12)
	d := h.running("f3", "d", 13)
	onlyStatus(t, h.exited(c, 0, false), c) // terminal, not acknowledged
	h.ack(d, onlyStatus(t, h.exited(d, 0, false), d).Status.UUID)
	h.exited(a, 1, false)
	sub := onlyMessage(t, h.posted(gen, api.AgentCallHeartbeat, notFound), api.AgentCallSubscribe).Call.Subscribe
	var tasks []string
	for _, t := range sub.Tasks {
		tasks = append(tasks, t.FrameworkID+"/"+t.Task.TaskID.Value+"="+t.State)
	}
	want := []string{"f1/a=TASK_FAILED", "f1/b=TASK_RUNNING", "f2/c=TASK_FINISHED"}
	if !slices.Equal(tasks, want) {
		t.Errorf("subscribe reports %v, want %v (every task not terminal-and-acknowledged)", tasks, want)
	}
	var fws []string
	for _, f := range sub.Frameworks {
		fws = append(fws, f.ID.Value+"="+f.Name)
	}
	if want := []string{"f1=fw f1", "f2=fw f2"}; !slices.Equal(fws, want) {
		t.Errorf("subscribe reports frameworks %v, want %v", fws, want)
	}
}

func TestSandboxGC(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.GCDelay = 10 * time.Minute })
	h.register()
	k := h.running("f", "t", 42)
	fin := onlyStatus(t, h.exited(k, 0, false), k)
	acked := h.now
	h.ack(k, fin.Status.UUID)
	var removed []Effect
	for len(removed) == 0 {
		r := h.tick()
		removed = effects(r, EffectRemoveSandbox)
		if len(r.Messages) > 0 {
			h.posted(h.gen(), api.AgentCallHeartbeat, accepted)
		}
	}
	if removed[0].Task != k || h.now.Sub(acked) != 10*time.Minute {
		t.Errorf("removed %v after %v, want %v after 10m", removed[0].Task, h.now.Sub(acked), k)
	}
}

func TestRelaunchKeepsItsSandbox(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := h.running("f", "t", 42)
	h.ack(k, onlyStatus(t, h.exited(k, 0, false), k).Status.UUID)
	if r := h.launch("f", "t", "cpus:1"); len(effects(r, EffectStart)) != 1 {
		t.Fatalf("a task id used again after its task was forgotten: %+v, want it started", r)
	}
	if len(h.c.gc) != 0 {
		t.Errorf("the new task's sandbox is still to be collected: %v", h.c.gc)
	}
}

func TestFrameworksWithoutInfoAreNotReported(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	for _, fw := range []string{"f1", "f2", "f3"} {
		l := &api.AgentLaunchTask{FrameworkID: fw, Task: api.TaskInfo{TaskID: api.ID{Value: "t"}, Command: &api.CommandInfo{Value: "true"}}}
		if fw == "f2" {
			l.Framework = &api.FrameworkInfo{Name: "two"}
		}
		h.event(gen, api.AgentEvent{Type: api.AgentEventLaunch, Launch: l})
	}
	sub := onlyMessage(t, h.posted(gen, api.AgentCallHeartbeat, notFound), api.AgentCallSubscribe).Call.Subscribe
	if len(sub.Tasks) != 3 || len(sub.Frameworks) != 1 || sub.Frameworks[0].Name != "two" {
		t.Errorf("subscribe reports %d tasks and frameworks %+v; want 3 tasks and f2's info alone", len(sub.Tasks), sub.Frameworks)
	}
}

func TestHeartbeatIntervalIsBounded(t *testing.T) {
	tests := []struct {
		seconds float64
		want    time.Duration
	}{{0, DefaultHeartbeat}, {-1, DefaultHeartbeat}, {0.0001, 10 * time.Millisecond}, {2.5, 2500 * time.Millisecond}, {1e12, time.Hour}}
	for _, tt := range tests {
		h := newHarness(t, func(c *Config) { c.MasterTimeout = 1000 * time.Hour })
		gen := onlyMessage(t, h.tick(), api.AgentCallSubscribe).Gen
		h.event(gen, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: tt.seconds}})
		if got := h.c.Deadline().Sub(h.now); got != tt.want {
			t.Errorf("interval %v s: first heartbeat in %v, want %v", tt.seconds, got, tt.want)
		}
	}
}
