// Package master is apron's live master: the allocator package driven in
// wall time behind the scheduler API (package api), agents that register
// and heartbeat over apron's agent protocol, /state, /metrics and a policy
// endpoint that swaps the allocator's policy at the next allocation cycle;
// and, for Mesos' tools, Mesos' read-only endpoints (mesos_state.go) and
// v1 operator API (operator.go), whose views are the core's.
//
// Like etcd's raft, the decisions are made by pure code (the allocator)
// and this package is the shell around it: one mutex serialises every call
// into the allocator, goroutines only run the allocation and health loops
// and the HTTP streams. Nothing here blocks on a slow client: each stream
// has an unbounded outbox its handler drains.
package master
