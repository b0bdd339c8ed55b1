package benchutil

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ReportCycles reports the summary of ds (see Summarize) as custom metrics
// of b, each unit prefixed by prefix. It reports nothing for no durations.
// ds is sorted in place.
func ReportCycles(b *testing.B, prefix string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	for _, m := range Summarize(ds) {
		b.ReportMetric(m.Value, prefix+m.Unit)
	}
}

// ThreadCPU returns the CPU time the calling thread has used
// (CLOCK_THREAD_CPUTIME_ID), or 0 if it cannot be read. Lock the goroutine
// to its thread (runtime.LockOSThread) so that readings are of one thread.
// On a machine shared with other work, the CPU time an iteration used is
// the figure that does not depend on how much of a core it was given; it
// leaves out the garbage collector's background workers on other threads.
func ThreadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Metric is one figure of a summary and its unit.
type Metric struct {
	Value float64
	Unit  string
}

// Summarize returns the 50th and 99th percentiles (nearest rank, rounded
// down) and the maximum of ds in milliseconds, and how many there were
// ("p50-ms", "p99-ms", "max-ms", "cycles"). ds must be sorted and not empty.
func Summarize(ds []time.Duration) []Metric {
	ms := func(q float64) float64 {
		return float64(ds[int(q*float64(len(ds)-1))]) / float64(time.Millisecond)
	}
	return []Metric{{ms(0.5), "p50-ms"}, {ms(0.99), "p99-ms"}, {ms(1), "max-ms"}, {float64(len(ds)), "cycles"}}
}
