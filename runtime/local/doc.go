// Package local runs a master and agents in one process on loopback ports:
// what apron up starts, and what tests and the live backend use when they
// need a small cluster of their own.
package local
