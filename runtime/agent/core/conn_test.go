package core

import (
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

func TestSubscribeBackoffDoublesToItsMaximum(t *testing.T) {
	h := newHarness(t)
	if d := h.c.Deadline(); !d.Equal(t0) {
		t.Fatalf("a new core's deadline is %v, want now (subscribe at once)", d)
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for i, w := range want {
		sub := onlyMessage(t, h.tick(), api.AgentCallSubscribe)
		if sub.Gen != uint64(i+1) {
			t.Fatalf("attempt %d: generation %d, want %d", i, sub.Gen, i+1)
		}
		h.c.StreamClosed(h.now, sub.Gen, "connection refused")
		if r := h.c.Ready(); !r.Empty() {
			t.Fatalf("a failed subscribe asks %+v, want nothing", r)
		}
		if got := h.c.Deadline().Sub(h.now); got != w*time.Millisecond {
			t.Errorf("attempt %d: next in %v, want %v", i, got, w*time.Millisecond)
		}
	}
}

func TestBackoffResetsOnceRegistered(t *testing.T) {
	h := newHarness(t)
	for range 4 {
		h.c.StreamClosed(h.now, onlyMessage(t, h.tick(), api.AgentCallSubscribe).Gen, "refused")
	}
	gen := h.register()
	h.c.StreamClosed(h.now, gen, "EOF")
	if got := h.c.Deadline().Sub(h.now); got != DefaultBackoffMin {
		t.Errorf("after registering, a lost stream waits %v, want %v", got, DefaultBackoffMin)
	}
}

func TestHeartbeatsOneAtATime(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MasterTimeout = time.Hour })
	gen := h.register()
	r := h.tick()
	hb := onlyMessage(t, r, api.AgentCallHeartbeat)
	if hb.Gen != gen || hb.Call.AgentID != "a1" || !h.now.Equal(t0.Add(time.Second)) {
		t.Fatalf("heartbeat %+v at %v, want gen %d, agent a1, one interval after registering", hb, h.now.Sub(t0), gen)
	}
	if ms := messages(h.tick(), api.AgentCallHeartbeat); len(ms) != 0 {
		t.Errorf("a heartbeat while the last is unanswered: %+v", ms)
	}
	h.posted(gen, api.AgentCallHeartbeat, accepted)
	onlyMessage(t, h.tick(), api.AgentCallHeartbeat)
}

func TestSilentMasterIsLeft(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"default: three heartbeat intervals", 0, 3 * time.Second},
		{"configured", 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.MasterTimeout = tt.timeout })
			gen := h.register()
			for {
				r := h.tick()
				if hb := messages(r, api.AgentCallHeartbeat); len(hb) == 1 {
					h.posted(gen, api.AgentCallHeartbeat, 0) // no answer
					continue
				}
				closes := effects(r, EffectCloseStream)
				if len(closes) != 1 || closes[0].Gen != gen {
					t.Fatalf("at %v: %+v, want the stream of generation %d closed", h.now.Sub(t0), r, gen)
				}
				if got := h.now.Sub(t0); got != tt.want {
					t.Errorf("left the master after %v of silence, want %v", got, tt.want)
				}
				if sub := onlyMessage(t, r, api.AgentCallSubscribe); sub.Gen != gen+1 {
					t.Errorf("subscribed again in generation %d, want %d", sub.Gen, gen+1)
				}
				return
			}
		})
	}
}

func TestNoRegisteredInTimeRetriesAfterBackoff(t *testing.T) {
	h := newHarness(t)
	sub := onlyMessage(t, h.tick(), api.AgentCallSubscribe)
	h.c.StreamOpened(h.now, sub.Gen)
	r := h.tick()
	if !h.now.Equal(t0.Add(DefaultRegisterTimeout)) {
		t.Errorf("gave up at %v, want after %v", h.now.Sub(t0), DefaultRegisterTimeout)
	}
	if c := effects(r, EffectCloseStream); len(c) != 1 || c[0].Gen != sub.Gen || len(r.Messages) != 0 {
		t.Fatalf("%+v: want the stream closed and nothing sent", r)
	}
	if got := h.c.Deadline().Sub(h.now); got != DefaultBackoffMin {
		t.Errorf("next subscribe in %v, want the backoff %v", got, DefaultBackoffMin)
	}
}

func TestOldGenerationsAreIgnored(t *testing.T) {
	launch := api.AgentEvent{Type: api.AgentEventLaunch, Launch: &api.AgentLaunchTask{FrameworkID: "f", Task: api.TaskInfo{TaskID: api.ID{Value: "t"}}}}
	tests := []struct {
		name  string
		input func(h *harness, old uint64)
	}{
		{"stream closed", func(h *harness, old uint64) { h.c.StreamClosed(h.now, old, "EOF") }},
		{"stream opened", func(h *harness, old uint64) { h.c.StreamOpened(h.now, old) }},
		{"heartbeat 404", func(h *harness, old uint64) { h.c.Posted(h.now, PostResult{old, api.AgentCallHeartbeat, notFound}) }},
		{"status 404", func(h *harness, old uint64) { h.c.Posted(h.now, PostResult{old, api.AgentCallStatus, notFound}) }},
		{"registered", func(h *harness, old uint64) {
			h.c.Event(h.now, old, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "x"}})
		}},
		{"launch", func(h *harness, old uint64) { h.c.Event(h.now, old, launch) }},
		{"shutdown", func(h *harness, old uint64) { h.c.Event(h.now, old, api.AgentEvent{Type: api.AgentEventShutdown}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			old := h.register()
			h.posted(old, api.AgentCallStatus, notFound) // -> generation old+1, subscribing
			state, gen, _ := h.c.Connection()
			deadline := h.c.Deadline()
			tt.input(h, old)
			if r := h.c.Ready(); !r.Empty() {
				t.Errorf("an input of generation %d asks %+v", old, r)
			}
			if s, g, _ := h.c.Connection(); s != state || g != gen || !h.c.Deadline().Equal(deadline) || len(h.c.Tasks()) != 0 {
				t.Errorf("state %s gen %d after an old input, want %s gen %d, unchanged", s, g, state, gen)
			}
		})
	}
}

func TestEventsBeforeRegisteredAreIgnored(t *testing.T) {
	h := newHarness(t)
	sub := onlyMessage(t, h.tick(), api.AgentCallSubscribe)
	h.c.StreamOpened(h.now, sub.Gen)
	h.c.Event(h.now, sub.Gen, api.AgentEvent{Type: api.AgentEventLaunch, Launch: &api.AgentLaunchTask{FrameworkID: "f",
		Task: api.TaskInfo{TaskID: api.ID{Value: "t"}, Command: &api.CommandInfo{Value: "true"}}}})
	if r := h.c.Ready(); !r.Empty() || len(h.c.Tasks()) != 0 {
		t.Errorf("a LAUNCH before REGISTERED was taken: %+v", r)
	}
}

func TestShutdownClosesAndWaits(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	r := h.event(gen, api.AgentEvent{Type: api.AgentEventShutdown, Shutdown: &api.Error{Message: "name taken"}})
	c := effects(r, EffectCloseStream)
	if len(c) != 1 || c[0].Gen != gen || len(r.Messages) != 0 {
		t.Fatalf("%+v: want the stream closed, nothing sent", r)
	}
	if got := h.c.Deadline().Sub(h.now); got != DefaultBackoffMin {
		t.Errorf("subscribes again in %v, want after the backoff %v", got, DefaultBackoffMin)
	}
}

func TestNotFoundResubscribesAtOnceOnlyOnce(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	r := h.posted(gen, api.AgentCallHeartbeat, notFound)
	sub := onlyMessage(t, r, api.AgentCallSubscribe)
	h.event(sub.Gen, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: 1}})
	r = h.posted(sub.Gen, api.AgentCallStatus, notFound)
	if len(messages(r, api.AgentCallSubscribe)) != 0 || h.c.Deadline().Sub(h.now) != DefaultBackoffMin {
		t.Fatalf("a second 404 before any accepted call: %+v, next in %v; want the backoff", r, h.c.Deadline().Sub(h.now))
	}
	gen = onlyMessage(t, h.tick(), api.AgentCallSubscribe).Gen
	h.event(gen, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: 1}})
	h.posted(gen, api.AgentCallHeartbeat, accepted)
	onlyMessage(t, h.posted(gen, api.AgentCallHeartbeat, notFound), api.AgentCallSubscribe)
}
