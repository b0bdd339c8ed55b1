package core

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

func TestScheduleDropsStaleEntries(t *testing.T) {
	var s schedule
	current := map[TaskKey]time.Time{}
	set := func(k string, sec int) {
		at := t0.Add(time.Duration(sec) * time.Second)
		current[TaskKey{"f", k}] = at
		s.add(at, TaskKey{"f", k})
	}
	set("a", 5)
	set("b", 3)
	set("a", 1) // moved earlier; its entry at 5 is stale
	set("c", 3)
	delete(current, TaskKey{"f", "c"}) // cancelled
	live := func(e entry) bool { at, ok := current[e.key]; return ok && at.Equal(e.at) }
	if n := s.next(); !n.Equal(t0.Add(time.Second)) {
		t.Errorf("next %v, want 1s", n.Sub(t0))
	}
	if got := s.due(t0.Add(3*time.Second), live); !slices.Equal(got, []TaskKey{{"f", "a"}, {"f", "b"}}) {
		t.Errorf("due at 3s: %v, want a and b (c cancelled)", got)
	}
	if got := s.due(t0.Add(10*time.Second), live); len(got) != 0 || s.Len() != 0 {
		t.Errorf("due at 10s: %v (left %d), want only a's stale entry, dropped", got, s.Len())
	}
}

// BenchmarkStepWithManyPendingTasks is one exit, and the ticks it takes,
// on an agent whose 10,000 other tasks all wait for acknowledgements.
func BenchmarkStepWithManyPendingTasks(b *testing.B) {
	h := newHarness(b, func(c *Config) { c.MasterTimeout = 1000 * time.Hour })
	gen := h.register()
	for i := range 10000 {
		k := TaskKey{"f", fmt.Sprintf("t%d", i)}
		h.launch(k.Framework, k.Task, "cpus:0.1")
		h.started(k, i+10)
	}
	h.c.Ready()
	b.ResetTimer()
	for i := range b.N {
		k := TaskKey{"g", fmt.Sprintf("t%d", i)}
		h.launch(k.Framework, k.Task, "cpus:0.1")
		h.started(k, 1)
		h.exited(k, 0, false)
		h.advance(time.Millisecond)
		h.c.Tick(h.now)
		h.posted(gen, api.AgentCallHeartbeat, accepted)
		_ = h.c.Deadline()
	}
}
