// Package scheduler runs a framework written against sim/framework's
// Scheduler interface on a live master: its Driver speaks the scheduler
// API (package api), so the simulator's elastic batch, rigid gang, service
// and trace-driven frameworks run unchanged on a live cluster. Callbacks
// come one at a time from one goroutine, as in the simulator.
//
// Time may be compressed: with Compress c, the framework sees c seconds
// for every wall second, and a task of duration d burns for d/c.
package scheduler
