// Package gpushare replays GPU-sharing workloads as the openb paper's
// simulator does (Weng et al., "Beware of Fragmentation", USENIX ATC
// 2023): one scheduler that sees every node places pods one at a time, in
// arrival order, with a placement policy of sim/framework; pods are never
// deleted (arrival-only), and the workload is inflated by seeded draws
// from the trace until its GPU requests reach a share of the cluster's
// GPU capacity. Each node's GPUs are devices of 1000 milli-GPUs; a pod
// asks for a fraction of one device or for whole devices, of an allowed
// model. It measures, as the arrived workload crosses each level, the GPU
// allocation ratio, the fragmentation ratio (FGD's measure), the
// unallocated GPUs and the failed pods by cause.
//
// It is deterministic (one goroutine, seeded draws) and imports the
// allocator (quantities), the traces (node and pod lists) and
// sim/framework (placements); nothing imports it but experiments.
package gpushare
