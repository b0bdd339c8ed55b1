package core

// Regression tests of the agent-side defects of issue 14, one each.

import (
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// After a master restart each heartbeat got 404, which queued a reconnect
// that cancelled the agent's next subscribe before it was sent: agents
// never re-registered. Now a 404 closes the current stream and subscribes
// in a new generation, and the old stream's end touches nothing.
func TestRegressionNoLockoutAfterMasterRestart(t *testing.T) {
	h := newHarness(t)
	old := h.register()
	k := h.running("f", "t", 42)
	r := h.posted(old, api.AgentCallHeartbeat, notFound)
	closes := effects(r, EffectCloseStream)
	sub := onlyMessage(t, r, api.AgentCallSubscribe)
	if len(closes) != 1 || closes[0].Gen != old || sub.Gen != old+1 {
		t.Fatalf("after a 404: %+v; want the stream of %d closed and a SUBSCRIBE in %d", r, old, old+1)
	}
	// The shell reports what closing the old stream did, and late
	// answers of old posts: none may cancel the new subscribe.
	h.c.StreamClosed(h.now, old, "context canceled")
	h.c.Posted(h.now, PostResult{old, api.AgentCallStatus, notFound})
	h.c.Posted(h.now, PostResult{old, api.AgentCallHeartbeat, 0})
	if r := h.c.Ready(); !r.Empty() {
		t.Fatalf("the old generation's ends asked %+v; the new subscribe must stand", r)
	}
	if len(sub.Call.Subscribe.Tasks) != 1 || sub.Call.Subscribe.Tasks[0].State != TaskRunning {
		t.Errorf("re-subscribe reports %+v, want %v running", sub.Call.Subscribe.Tasks, k)
	}
	h.c.StreamOpened(h.now, sub.Gen)
	h.event(sub.Gen, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: 1}})
	if s, g, id := h.c.Connection(); s != "registered" || g != sub.Gen || id != "a1" {
		t.Errorf("connection %s gen %d agent %s, want registered in %d", s, g, id, sub.Gen)
	}
}

// Tasks that exited while their agent was away reached the framework as
// TASK_LOST. The agent reports the true end: when the master was away,
// and when the agent itself restarted meanwhile.
func TestRegressionEndsWhileAwayAreTrue(t *testing.T) {
	t.Run("master away", func(t *testing.T) {
		h := newHarness(t)
		gen := h.register()
		ok, bad := h.running("f", "ok", 10), h.running("f", "bad", 11)
		h.c.StreamClosed(h.now, gen, "EOF") // the master is gone
		h.exited(ok, 0, false)
		h.exited(bad, 3, false)
		sub := onlyMessage(t, h.tick(), api.AgentCallSubscribe)
		r := h.event(sub.Gen, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1"}})
		for k, want := range map[TaskKey]string{ok: TaskFinished, bad: TaskFailed} {
			if s := onlyStatus(t, r, k); s.Status.State != want {
				t.Errorf("%v: sent %s, want %s", k, s.Status.State, want)
			}
		}
	})
	t.Run("agent restarted", func(t *testing.T) {
		ok, bad := rec(TaskRunning, 10), rec(TaskRunning, 11)
		bad.Task.TaskID.Value = "bad"
		h := recovered(t, Recovery{Tasks: []Recovered{{Record: ok, Exit: Exit{Code: 0}}, {Record: bad, Exit: Exit{Code: 3}}}})
		h.c.Ready()
		sub := onlyMessage(t, h.tick(), api.AgentCallSubscribe).Call.Subscribe
		states := map[string]string{}
		for _, t := range sub.Tasks {
			states[t.Task.TaskID.Value] = t.State
		}
		if states["t"] != TaskFinished || states["bad"] != TaskFailed {
			t.Errorf("re-registering with %v, want t FINISHED and bad FAILED", states)
		}
		r := h.event(h.gen(), api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1"}})
		for _, m := range r.Messages {
			for _, s := range m.Call.Statuses {
				if s.Status.State == TaskLost {
					t.Errorf("sent %+v", s)
				}
			}
		}
		if s := onlyStatus(t, r, TaskKey{"f", "bad"}); s.Status.State != TaskFailed || s.Status.Message != "command exited with status 3" {
			t.Errorf("bad: %+v, want FAILED with status 3", s.Status)
		}
	})
}

// The master kept a finished task STARTING while its framework did not
// acknowledge: the agent now sends latest_state with the oldest update,
// at once when the task ends.
func TestRegressionUpdatesCarryLatestState(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := TaskKey{"f", "t"}
	h.launch("f", "t", "cpus:1")
	h.started(k, 42) // RUNNING, never acknowledged
	h.advance(2 * time.Second)
	s := onlyStatus(t, h.exited(k, 0, false), k)
	if s.Status.State != TaskRunning || s.LatestState != TaskFinished {
		t.Errorf("sent %s with latest_state %q, want RUNNING with FINISHED", s.Status.State, s.LatestState)
	}
}

// A duplicate LAUNCH (e.g. one master retry) must not run the task twice
// nor reset its state.
func TestRegressionDuplicateLaunchIgnored(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := TaskKey{"f", "t"}
	h.launch("f", "t", "cpus:1")
	for _, stage := range []string{"staging", "running", "ended, unacknowledged"} {
		switch stage {
		case "running":
			h.started(k, 42)
		case "ended, unacknowledged":
			h.exited(k, 0, false)
		}
		if r := h.launch("f", "t", "cpus:1"); !r.Empty() {
			t.Errorf("%s: a duplicate LAUNCH asked %+v", stage, r)
		}
	}
}

// A KILL sends SIGTERM, and SIGKILL after the grace period if the task is
// still running: a deadline of the core, not a timer of its own.
func TestRegressionKillEscalates(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Grace = 2 * time.Second; c.MasterTimeout = time.Hour })
	gen := h.register()
	k := h.running("f", "t", 42)
	r := h.event(gen, api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "f", TaskID: "t"}})
	if rec, _ := record(r, k); rec == nil || !rec.KillAsked {
		t.Errorf("the kill was not checkpointed with its SIGTERM: %+v", r.Checkpoint)
	}
	if e := effects(r, EffectSignal); len(e) != 1 || e[0].Signal != syscall.SIGTERM || e[0].Pid != 42 {
		t.Fatalf("on KILL: %+v, want SIGTERM to 42", r.Effects)
	}
	killAt := h.now.Add(2 * time.Second)
	for r = h.tick(); len(r.Effects) == 0; r = h.tick() {
		h.posted(gen, api.AgentCallHeartbeat, accepted)
	}
	if e := effects(r, EffectSignal); len(e) != 1 || e[0].Signal != syscall.SIGKILL || !h.now.Equal(killAt) {
		t.Fatalf("at %v: %+v, want SIGKILL at %v", h.now, r.Effects, killAt)
	}
	if s := onlyStatus(t, h.exited(k, 137, false), k); s.Status.State != TaskKilled {
		t.Errorf("ended %s, want TASK_KILLED", s.Status.State)
	}
}

// A task without mem had no memory limit, one without cpus no CPU quota.
func TestRegressionTaskWithoutMemOrCPUsGetsLimits(t *testing.T) {
	h := newHarness(t)
	h.register()
	noMem := effects(h.launch("f", "a", "cpus:1"), EffectStart)[0].Start.Limits
	noCPUs := effects(h.launch("f", "b", "mem:64"), EffectStart)[0].Start.Limits
	if noMem.MemMiB != 32 || noCPUs.CPUs != 0.01 {
		t.Errorf("limits %+v and %+v, want 32 MiB and 0.01 CPU (Mesos' MIN_MEM, MIN_CPUS)", noMem, noCPUs)
	}
}

// Sandboxes were never collected: an acknowledged ended task's sandbox is
// removed after the GC delay (default 1 h, Mesos' --gc_delay).
func TestRegressionSandboxesAreCollected(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := h.running("f", "t", 42)
	h.ack(k, onlyStatus(t, h.exited(k, 0, false), k).Status.UUID)
	if at := h.c.gc[k]; !at.Equal(h.now.Add(time.Hour)) {
		t.Errorf("sandbox collected at %v, want in 1h", at)
	}
}
