package benchutil

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(n int) []time.Duration {
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(i+1) * time.Millisecond
		}
		return ds
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		want []Metric
	}{
		{"one", ms(1), []Metric{{1, "p50-ms"}, {1, "p99-ms"}, {1, "max-ms"}, {1, "cycles"}}},
		{"hundred", ms(100), []Metric{{50, "p50-ms"}, {99, "p99-ms"}, {100, "max-ms"}, {100, "cycles"}}},
		{"thousand", ms(1000), []Metric{{500, "p50-ms"}, {990, "p99-ms"}, {1000, "max-ms"}, {1000, "cycles"}}},
		{"sub-millisecond", []time.Duration{250 * time.Microsecond, 2 * time.Millisecond}, []Metric{{0.25, "p50-ms"}, {0.25, "p99-ms"}, {2, "max-ms"}, {2, "cycles"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.ds); !slices.Equal(got, tc.want) {
				t.Fatalf("Summarize = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestThreadCPUAdvances(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := ThreadCPU()
	x := 0
	for i := range 10_000_000 {
		x ^= i * i
	}
	if ThreadCPU() <= start {
		t.Fatalf("thread CPU time did not advance over a busy loop (%d)", x)
	}
}
