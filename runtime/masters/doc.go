// Package masters is how every client of a live master (agents, the
// scheduler driver, apron's commands, the load generator) finds the
// leading master of a replicated cluster.
//
// A List is the masters given on a command line (--master
// host:port,host:port or URLs, comma-separated; one entry is the cluster of
// one master) and the one the client currently talks to. Its Do sends a
// call there: a master that cannot be reached (connection refused or
// reset, a timeout) or answers 503 because it knows no leader is left for
// the next in the list's order, round after round with a short backoff,
// a bounded number of times; a standby's 307 to the leader is followed
// (the body is sent again, for a stream's SUBSCRIBE too) and the leader it
// led to becomes the current master, so later calls go there directly.
// Discover asks GET /master/redirect, Mesos' discovery endpoint, where
// the leader is. A List is safe for concurrent use, and its order is
// the one given: nothing is random.
//
// It imports only the wire types (package api) and the standard library.
package masters
