// Package traces owns apron's workload model (jobs of tasks with resources
// and durations, machines) and, as they land, the streaming readers of
// public cluster traces (SWF, Google 2011 and 2019, Alibaba, PAI, openb) and
// generators. A Source streams jobs in submit order so that a trace is never
// held in memory whole.
//
// It imports nothing of apron's.
package traces
