// Package samples ships real cluster-trace samples with apron: the Parallel
// Workloads Archive logs of KTH SP2, NASA iPSC/860 and LLNL Atlas, the
// complete Alibaba openb GPU trace of 2023, machine and task tables of the
// Alibaba 2017, 2018 and PAI 2020 traces and the Philly machine list,
// compressed and embedded in the binary, each folder with a README.md of
// its provenance, license, checksums and the citations its publisher asks
// for.
//
// Trace readers take file paths, so Dir writes the samples once into a
// per-user cache folder, atomically, checking each file against the
// SHA256SUMS manifest beside this file; Resolve turns a path beginning
// $TRACES/ into an absolute path there, or under $APRON_TRACES when that
// is set, finding a file under its compressed name too. Studies and the
// trace commands resolve paths through it, tests find samples with Find.
//
// It imports nothing of apron's.
package samples
