// Package api holds the wire types of apron's live runtime and their
// framing: the scheduler API (Mesos' v1 scheduler API in its JSON form:
// calls posted to /api/v1/scheduler and read as Mesos reads them with
// DecodeCall, events streamed back in RecordIO frames, every field, enum
// and type as scheduler.proto and mesos.proto have them), and apron's own
// agent protocol (calls posted to /api/v1/agent, events streamed back the
// same way), which carries Mesos' TaskInfo and TaskStatus. docs/api.md
// documents both with curl examples, and its "Mesos compatibility" what
// apron does of each Mesos call, event and field.
//
// It converts between the wire form of resources and attributes and the
// allocator's, and knows nothing of masters, agents or schedulers.
package api
