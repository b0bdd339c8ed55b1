// Package core is the agent's protocol logic as a pure state machine, in
// the manner of etcd's raft core: the connection to the master (a
// generation per subscribe attempt, backoff, master-silence detection,
// heartbeats), the tasks (launch, kill with a grace period, exits, the
// minimum limits of tasks that name no cpus or mem), the status update
// queues (one outstanding update per task, with latest_state, retried
// until acknowledged), the frameworks' infos reported on re-registration,
// recovery after an agent restart and the garbage collection of sandboxes.
//
// It has no goroutines, clock, network, locks, filesystem, processes or
// global randomness: time is an argument of every input, uuids come from
// the io.Reader of its Config, and nothing depends on map order. Its shell
// (package agent) feeds it what happened (the stream's events and end, the
// HTTP status of every posted call, processes started and exited, timer
// ticks at Deadline) and performs what Ready returns, in order: first the
// checkpoint writes (fsynced), then the effects (start or signal a task,
// remove a sandbox, close a stream), then the messages to the master. A
// message is never sent before what it depends on is durable.
//
// The protocol it speaks with the master is the agent protocol of
// docs/api.md; the wire types are package api's.
package core
