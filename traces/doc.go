// Package traces will own apron's workload model (jobs, tasks, machines and
// their events over time) and the streaming readers of public cluster
// traces (SWF, Google 2011 and 2019, Alibaba, PAI, openb) and generators.
//
// It imports nothing of apron's.
//
// Status: not built yet (issue "Workload traces").
package traces
