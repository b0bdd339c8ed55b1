// Package allocator is apron's policy code: the first level of two-level
// scheduling, in the manner of the Apache Mesos hierarchical allocator. It
// holds agents, roles (weights, quota guarantees and limits, nested roles
// such as eng/ml), frameworks, outstanding offers, decline filters and the
// resources tasks use, and it decides, one allocation cycle at a time, which
// framework is offered which agent's resources.
//
// Policies (drf, hdrf, hdrf-naive, asset, ceei, random, static, and any a
// researcher registers) order the clients; quota and reservations apply on
// top of any of them. A policy is one small interface, Policy, and a name in
// a registry: see policy_drf.go for a complete one. Shares are exact
// rationals (Ratio), so a tie in exact arithmetic is a tie, settled by
// allocation counts and names.
//
// GPUs may be devices (devices.go): each of 1000 milli-GPUs with an index
// and a model, offered device by device; a request for a fraction of one
// device or for whole devices is placed on an offer's devices (Take), and
// shares count the milli-GPUs held.
//
// The package is pure and deterministic so that the simulator (virtual
// time) and the live master (wall time) run exactly the same decisions: no
// goroutines, no clock (time is an argument), no global random source (the
// configured seed feeds the allocator's own), and nothing that depends on
// map iteration order. The same calls in the same order give the same
// offers, byte for byte.
//
// It must never import the simulator, the runtime, traces, experiments or
// the command: they import it.
package allocator
