package benchutil

import (
	"slices"
	"testing"
	"time"
)

// ReportCycles reports the summary of ds (see Summarize) as custom metrics
// of b. It reports nothing for no durations. ds is sorted in place.
func ReportCycles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	for _, m := range Summarize(ds) {
		b.ReportMetric(m.Value, m.Unit)
	}
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
