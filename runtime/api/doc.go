// Package api holds the wire types of apron's live runtime and their
// framing: the scheduler API (JSON over HTTP modelled on the Mesos v1
// scheduler API: calls posted to /api/v1/scheduler, events streamed back in
// RecordIO frames), and apron's own agent protocol (calls posted to
// /api/v1/agent, events streamed back the same way). docs/api.md documents
// both with curl examples.
//
// It converts between the wire form of resources and the allocator's, and
// knows nothing of masters, agents or schedulers.
package api
