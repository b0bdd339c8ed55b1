package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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

func TestEngineHeapAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var e Engine
	type stamp struct {
		at  time.Duration
		seq int
	}
	var want, got []stamp
	for i := range 5000 {
		s := stamp{time.Duration(r.IntN(100)), i}
		want = append(want, s)
		e.At(s.at, func() { got = append(got, s) })
	}
	slices.SortStableFunc(want, func(x, y stamp) int { return int(x.at - y.at) })
	e.Run(time.Hour)
	if !slices.Equal(got, want) {
		t.Fatal("events ran out of (time, insertion) order")
	}
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
