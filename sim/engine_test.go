package sim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestEngineOrdersByTimeThenInsertion(t *testing.T) {
	var e Engine
	var got []string
	e.At(2*time.Second, func() { got = append(got, "b") })
	e.At(time.Second, func() { got = append(got, "a1") })
	e.At(time.Second, func() {
		got = append(got, "a2")
		e.After(0, func() { got = append(got, "a3") }) // same time, later insertion
	})
	e.At(3*time.Second, func() { got = append(got, "c") })
	if more := e.Run(2 * time.Second); !more {
		t.Fatal("Run(2s) says nothing remains; want c pending")
	}
	if want := []string{"a1", "a2", "a3", "b"}; !slices.Equal(got, want) {
		t.Fatalf("order %v; want %v", got, want)
	}
	if e.Now() != 2*time.Second {
		t.Fatalf("now %v; want 2s", e.Now())
	}
	e.Run(time.Hour)
	if got[len(got)-1] != "c" || e.Processed() != 5 {
		t.Fatalf("got %v after %d events", got, e.Processed())
	}
}

func TestEngineAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var e Engine
	type stamp struct {
		at  time.Duration
		seq int
	}
	var want, got []stamp
	for i := range 5000 {
		s := stamp{time.Duration(r.IntN(100)) << r.IntN(56), i} // ties, and times far apart
		want = append(want, s)
		e.At(s.at, func() { got = append(got, s) })
	}
	slices.SortStableFunc(want, func(x, y stamp) int { return cmp.Compare(x.at, y.at) })
	e.Run(math.MaxInt64)
	if !slices.Equal(got, want) {
		t.Fatal("events ran out of (time, insertion) order")
	}
}

// Events scheduled up front run by time, then in the order scheduled,
// whatever bytes of their times differ.
func TestEngineOrder(t *testing.T) {
	const end = time.Duration(math.MaxInt64)
	for _, c := range []struct {
		name string
		at   []time.Duration // event i is scheduled i-th, at at[i]
		want []int           // the events in the order they should run
	}{
		{"one", []time.Duration{7}, []int{0}},
		{"same time", []time.Duration{5, 5, 5, 5}, []int{0, 1, 2, 3}},
		{"earliest first", []time.Duration{30, 10, 20}, []int{1, 2, 0}},
		{"past means now", []time.Duration{-5, 0, -1, 1}, []int{0, 1, 2, 3}},
		{"byte boundaries", []time.Duration{256, 255, 65536, 257, 1 << 56, 1<<56 - 1, 0, end, end - 1}, []int{6, 1, 0, 3, 2, 5, 4, 8, 7}},
		{"huge spread with ties", []time.Duration{end, 1, end, 1 << 40, 1, 1 << 40}, []int{1, 4, 3, 5, 0, 2}},
		{"ties across chunks", slices.Repeat([]time.Duration{3, 2}, 100), slices.Concat(every2(1, 200), every2(0, 200))},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e Engine
			var got []int
			for i, at := range c.at {
				e.At(at, func() { got = append(got, i) })
			}
			if e.Pending() != len(c.at) {
				t.Fatalf("%d pending; want %d", e.Pending(), len(c.at))
			}
			if e.Run(end) || e.Pending() != 0 {
				t.Fatalf("%d events left", e.Pending())
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("order %v; want %v", got, c.want)
			}
		})
	}
}

// An event scheduled between runs, before the next one waiting but after
// now, runs in its place: looking at the next event moves no clock.
func TestEngineSchedulesBetweenRuns(t *testing.T) {
	var e Engine
	var got []string
	note := func(s string) func() { return func() { got = append(got, fmt.Sprintf("%s@%v", s, e.Now())) } }
	e.At(10*time.Second, note("a"))
	e.At(time.Second, note("x"))
	if !e.Run(5*time.Second) || e.Now() != time.Second {
		t.Fatalf("Run(5s) stopped at %v; want 1s with a pending", e.Now())
	}
	e.At(7*time.Second, note("b"))
	e.At(0, note("y"))
	e.After(6*time.Second, note("c"))
	e.Run(time.Minute)
	if want := []string{"x@1s", "y@1s", "b@7s", "c@7s", "a@10s"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v; want %v", got, want)
	}
}

// The engine runs exactly what a reference running the first-scheduled of
// the earliest events would, with events that schedule others, schedule
// in the past, at the same time or far ahead, runs that stop at a time or
// on Stop, and events scheduled between runs.
func TestEngineMatchesReference(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := plan{
			children: rapid.SliceOfN(rapid.SliceOfN(step(), 0, 3), 50, 400).Draw(rt, "children"),
			rounds:   rapid.SliceOfN(round(), 1, 5).Draw(rt, "rounds"),
		}
		var e Engine
		want, got := p.trace(&reference{}), p.trace(&e)
		if !slices.Equal(got, want) {
			rt.Fatalf("engine ran\n%v\nreference ran\n%v", got, want)
		}
	})
}

// scheduler is what an Engine and the reference have in common.
type scheduler interface {
	At(time.Duration, func())
	After(time.Duration, func())
	Now() time.Duration
	Run(until time.Duration) bool
	Stop()
	Pending() int
}

// plan is a script for a scheduler: event i, when it runs, schedules
// children[i]; each round schedules events, then runs.
type plan struct {
	children [][]schedule
	rounds   []runs
}

// schedule schedules an event d after now, or at d if at.
type schedule struct {
	d  time.Duration
	at bool
}

type runs struct {
	schedule []schedule
	until    time.Duration // after now
	stop     int           // its stop-th event stops the run, if any
}

func step() *rapid.Generator[schedule] {
	return rapid.Custom(func(t *rapid.T) schedule {
		switch rapid.IntRange(0, 4).Draw(t, "kind") {
		case 0:
			return schedule{} // now, after what is scheduled now
		case 1:
			return schedule{d: time.Duration(rapid.Int64Range(1, 300).Draw(t, "soon"))}
		case 2:
			b := rapid.IntRange(0, 62).Draw(t, "bit")
			return schedule{d: 1<<b + time.Duration(rapid.Int64Range(-1, 1).Draw(t, "off"))}
		case 3:
			return schedule{d: time.Duration(rapid.Int64Range(0, math.MaxInt64).Draw(t, "far")), at: true}
		default:
			return schedule{d: time.Duration(rapid.Int64Range(-1000, 1000).Draw(t, "past")), at: true}
		}
	})
}

func round() *rapid.Generator[runs] {
	return rapid.Custom(func(t *rapid.T) runs {
		return runs{
			schedule: rapid.SliceOfN(step(), 1, 50).Draw(t, "schedule"),
			until:    step().Draw(t, "until").d,
			stop:     rapid.IntRange(0, 200).Draw(t, "stop"),
		}
	})
}

// trace runs p on s and returns what ran when, and each run's outcome.
func (p plan) trace(s scheduler) []string {
	var trace []string
	var n, ran int
	var add func(schedule)
	add = func(c schedule) {
		id := n
		n++
		fn := func() {
			trace = append(trace, fmt.Sprintf("%d@%d", id, s.Now()))
			if ran++; ran == p.rounds[0].stop {
				s.Stop()
			}
			if id < len(p.children) {
				for _, c := range p.children[id] {
					add(c)
				}
			}
		}
		if c.at {
			s.At(c.d, fn)
		} else {
			s.After(c.d, fn)
		}
	}
	for ; len(p.rounds) > 0; p.rounds = p.rounds[1:] {
		for _, c := range p.rounds[0].schedule {
			add(c)
		}
		ran = 0
		more := s.Run(s.Now() + p.rounds[0].until)
		trace = append(trace, fmt.Sprintf("run: %t, %d pending at %d", more, s.Pending(), s.Now()))
	}
	return trace
}

// reference is an engine that keeps its events in the order scheduled and
// runs the first one of the earliest time.
type reference struct {
	now     time.Duration
	queue   []event
	stopped bool
}

func (r *reference) At(t time.Duration, fn func()) {
	r.queue = append(r.queue, event{at: max(t, r.now), fn: fn})
}
func (r *reference) After(d time.Duration, fn func()) { r.At(r.now+d, fn) }
func (r *reference) Now() time.Duration               { return r.now }
func (r *reference) Stop()                            { r.stopped = true }
func (r *reference) Pending() int                     { return len(r.queue) }

func (r *reference) Run(until time.Duration) bool {
	r.stopped = false
	for len(r.queue) > 0 && !r.stopped {
		i := 0
		for j, ev := range r.queue {
			if ev.at < r.queue[i].at {
				i = j
			}
		}
		ev := r.queue[i]
		if ev.at > until {
			return true
		}
		r.queue = slices.Delete(r.queue, i, i+1)
		r.now = ev.at
		ev.fn()
	}
	return len(r.queue) > 0
}

// every2 returns from, from+2, ... below n.
func every2(from, n int) []int {
	var s []int
	for i := from; i < n; i += 2 {
		s = append(s, i)
	}
	return s
}

// BenchmarkEngine measures events per second on a trivial workload:
// independent chains, each event scheduling the next of its chain a random
// 1 to 1000 ms later, the queue kept at its size throughout (the run stops
// after b.N events), with 1,000 chains (so 1,000 events waiting in the
// queue) and with a million (a million events waiting, as in a large
// simulation where every running task's end is queued).
func BenchmarkEngine(b *testing.B) {
	for _, waiting := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("waiting=%d", waiting), func(b *testing.B) {
			var e Engine
			r := rand.New(rand.NewPCG(1, 1))
			left := b.N
			var tick func()
			tick = func() {
				if left--; left == 0 {
					e.Stop()
				}
				e.After(time.Duration(1+r.IntN(1000))*time.Millisecond, tick)
			}
			for range waiting {
				e.After(time.Duration(r.IntN(1000))*time.Millisecond, tick)
			}
			b.ResetTimer()
			e.Run(1 << 62)
			b.StopTimer()
			if e.Processed() != uint64(b.N) || e.Pending() != waiting {
				b.Fatalf("processed %d events with %d waiting, want %d with %d", e.Processed(), e.Pending(), b.N, waiting)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
