// Package local runs a small cluster on loopback ports: what apron up
// starts, and what tests and the live backend use when they need a
// cluster of their own. A single master runs in this process with the
// agents; several masters (a replicated cluster) run as child processes
// of the apron binary, so that one can be killed, and die with it.
package local
