// Package benchutil holds what several packages' benchmarks share: the
// report of a latency distribution (percentiles and maximum) as custom
// metrics, so that a mean over a run does not hide its worst iterations.
package benchutil
