// Package runtime will be apron's live backend: a master that runs the very
// same allocator package in wall time, agents that run tasks in cgroups, and
// a scheduler driver that runs the simulator's frameworks against a live
// master.
//
// It imports the allocator; it must never import the simulator's engine,
// experiments or the command.
//
// Status: not built yet (issue "Live runtime").
package runtime
