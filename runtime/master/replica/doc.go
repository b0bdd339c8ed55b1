// Package replica replicates the master's registry (the commands of
// runtime/master/core) over a raft log, with etcd's raft
// (go.etcd.io/raft/v3) as its consensus core and a bbolt file as its disk.
//
// A Node is pure in the manner of the cores it carries: it wraps raft's
// RawNode, which is a state machine itself, with the registry the
// committed commands build, and has no goroutines, clock or network. The
// shell (package master) ticks it, steps it with the messages of its
// peers, proposes the leader's commands, and carries out its Ready: write
// to disk, then send to the peers. The same Node runs in the
// fault-injection suite (package runtime/faultsim), whose simulated
// network and disk make elections, partitions and crashes replayable by
// seed.
//
// Every node keeps the registry at its applied index (the committed
// state). The leader's core works on a copy taken when it began to lead,
// which runs ahead of the log by the commands not yet committed; the
// shell holds each message until the commands it follows are committed.
package replica
