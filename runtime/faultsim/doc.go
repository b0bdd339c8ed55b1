// Package faultsim runs the master's and the agents' pure cores
// (runtime/master/core, runtime/agent/core) in one process, in the manner
// of TigerBeetle's VOPR and FoundationDB's simulator: a simulated clock
// and network connect them to simulated task processes and to a model
// framework, and a seeded fault plan loses, duplicates, delays and
// reorders messages, cuts streams, partitions (stops) agents and crashes
// and restarts agents, the master and the framework at any step. A
// schedule is a pure function of its seed: a failure prints the seed, and
// the same seed replays it event for event.
//
// After the faults the cluster heals and settles, and a checker verifies
// what Mesos promises (docs/reliability.md): every task the framework
// launched reached it with exactly one terminal state, the true one (how
// its simulated process really ended); no ended task holds resources and
// the allocator's books balance; no process is left running; every agent
// is registered again. The model framework launches some of its tasks as
// task groups (LAUNCH_GROUP) and reserves and unreserves resources for
// its role now and then: the group rule (once a task of a group failed or
// was killed, the others end or are being killed) is checked on every
// agent's checkpoint after every step, a group's kill counts in each
// task's true end, and the books checked after every step hold the
// executors and the reservations.
package faultsim
