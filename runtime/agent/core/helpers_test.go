package core

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// t0 is the tests' start time.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness drives one core as its shell would, keeping the clock.
type harness struct {
	t   testing.TB
	c   *Core
	now time.Time
}

func testConfig() Config {
	return Config{Name: "a1", Hostname: "h", URL: "http://a1", Resources: api.FromResources(nil), Isolation: "none",
		Rand: rand.NewChaCha8([32]byte{1})}
}

func newHarness(t testing.TB, mod ...func(*Config)) *harness {
	return recovered(t, Recovery{}, mod...)
}

func recovered(t testing.TB, rec Recovery, mod ...func(*Config)) *harness {
	t.Helper()
	cfg := testConfig()
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg, t0, rec)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, c: c, now: t0}
}

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d) }

// tick advances the clock to the core's deadline and ticks.
func (h *harness) tick() Ready {
	h.t.Helper()
	d := h.c.Deadline()
	if d.IsZero() {
		h.t.Fatal("tick: no deadline")
	}
	if d.After(h.now) {
		h.now = d
	}
	h.c.Tick(h.now)
	return h.c.Ready()
}

// register subscribes and registers; it returns the generation.
func (h *harness) register() uint64 {
	h.t.Helper()
	r := h.tick()
	sub := onlyMessage(h.t, r, api.AgentCallSubscribe)
	h.c.StreamOpened(h.now, sub.Gen)
	h.event(sub.Gen, api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: 1}})
	return sub.Gen
}

func (h *harness) event(gen uint64, e api.AgentEvent) Ready {
	h.c.Event(h.now, gen, e)
	return h.c.Ready()
}

func (h *harness) gen() uint64 {
	_, g, _ := h.c.Connection()
	return g
}

func (h *harness) launch(fw, id, res string) Ready {
	h.t.Helper()
	l := &api.AgentLaunchTask{FrameworkID: fw, Framework: &api.FrameworkInfo{Name: "fw " + fw, Roles: []string{"*"}}, Role: "*",
		Task: api.TaskInfo{Name: id, TaskID: api.ID{Value: id}, Command: &api.CommandInfo{Value: "true"}, Resources: resources(h.t, res)}}
	return h.event(h.gen(), api.AgentEvent{Type: api.AgentEventLaunch, Launch: l})
}

func resources(t testing.TB, s string) []api.Resource {
	var out []api.Resource
	for _, part := range strings.Split(s, ";") {
		if part == "" {
			continue
		}
		var name string
		var v float64
		if _, err := fmt.Sscanf(strings.Replace(part, ":", " ", 1), "%s %g", &name, &v); err != nil {
			t.Fatalf("resources %q: %v", s, err)
		}
		out = append(out, api.Resource{Name: name, Type: "SCALAR", Scalar: api.Scalar{Value: v}})
	}
	return out
}

func (h *harness) ack(k TaskKey, uuid api.UUID) Ready {
	return h.event(h.gen(), api.AgentEvent{Type: api.AgentEventAck, Ack: &api.AgentAckStatus{FrameworkID: k.Framework, TaskID: k.Task, UUID: uuid}})
}

func (h *harness) started(k TaskKey, pid int) Ready {
	h.c.Started(h.now, k, pid, 77)
	return h.c.Ready()
}

func (h *harness) exited(k TaskKey, code int, oom bool) Ready {
	h.c.Exited(h.now, k, Exit{Code: code, OOM: oom})
	return h.c.Ready()
}

func (h *harness) posted(gen uint64, typ string, code int) Ready {
	h.c.Posted(h.now, PostResult{Gen: gen, Type: typ, Code: code})
	return h.c.Ready()
}

// running launches a task, starts it and acknowledges its RUNNING.
func (h *harness) running(fw, id string, pid int) TaskKey {
	h.t.Helper()
	k := TaskKey{fw, id}
	h.launch(fw, id, "cpus:1;mem:64")
	r := h.started(k, pid)
	s := onlyStatus(h.t, r, k)
	h.ack(k, s.Status.UUID)
	return k
}

// messages of a type in r.
func messages(r Ready, typ string) []Message {
	var out []Message
	for _, m := range r.Messages {
		if m.Call.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func onlyMessage(t testing.TB, r Ready, typ string) Message {
	t.Helper()
	ms := messages(r, typ)
	if len(ms) != 1 {
		t.Fatalf("want one %s message, got %d in %+v", typ, len(ms), r.Messages)
	}
	return ms[0]
}

// statuses of task k sent in r.
func statuses(r Ready, k TaskKey) []api.AgentStatus {
	var out []api.AgentStatus
	for _, m := range messages(r, api.AgentCallStatus) {
		for _, s := range m.Call.Statuses {
			if s.FrameworkID == k.Framework && s.Status.TaskID.Value == k.Task {
				out = append(out, s)
			}
		}
	}
	return out
}

func onlyStatus(t testing.TB, r Ready, k TaskKey) api.AgentStatus {
	t.Helper()
	ss := statuses(r, k)
	if len(ss) != 1 {
		t.Fatalf("want one status of %s, got %+v", k, ss)
	}
	return ss[0]
}

func effects(r Ready, kind EffectKind) []Effect {
	return slices.DeleteFunc(slices.Clone(r.Effects), func(e Effect) bool { return e.Kind != kind })
}

func signals(r Ready) []syscall.Signal {
	var out []syscall.Signal
	for _, e := range effects(r, EffectSignal) {
		out = append(out, e.Signal)
	}
	return out
}

// record is the last checkpoint write of k in r (nil: removed), and
// whether r has one.
func record(r Ready, k TaskKey) (*Record, bool) {
	var rec *Record
	found := false
	for _, w := range r.Checkpoint {
		if w.Key == k {
			rec, found = w.Record, true
		}
	}
	return rec, found
}

const accepted, notFound = http.StatusAccepted, http.StatusNotFound
