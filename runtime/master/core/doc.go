// Package core is the live master's protocol logic as a pure state
// machine, in the manner of etcd's raft core: the shell (package master)
// hands it calls from frameworks and agents, the ends of their streams and
// timer ticks, each with the time, and takes back what to persist and the
// messages to send (Ready). Inside there are no goroutines, no clock, no
// network, no locks and no randomness of its own: the same inputs give the
// same outputs, which is what the fault-injection suite (package
// runtime/sim... see docs/reliability.md) replays by seed.
//
// The core keeps two kinds of state. The registry (Registry) is what must
// survive a failover: agents, frameworks, tasks and their latest states,
// the policy in force. It changes only by applying Commands, which the
// core also hands to the shell to persist or replicate before any message
// that depends on them is sent. Everything else (the allocator with its
// offers and decline filters, which streams are connected, heartbeats) is
// rebuilt from the registry by a new leader, as Mesos rebuilds it.
//
// The core also writes its state in the shapes of Mesos' read-only
// endpoints and v1 operator API (mesos*.go, operator*.go), and takes the
// operator API's weight and quota updates as policy swaps.
//
// The rules are Mesos' where Mesos has one; docs/api.md and
// docs/reliability.md name them.
package core
