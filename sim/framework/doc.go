// Package framework is the second level of two-level scheduling: the one
// small interface a framework (a scheduler) is written against, and the
// frameworks apron ships: elastic batch (Hadoop or Spark like, with optional
// delay scheduling), rigid gang (MPI or Torque like, in submit order or
// with EASY or conservative backfilling), service (Marathon like) and
// trace-driven batch; and placement (Placement), where a framework puts a
// task among the offers it holds: random, first fit, best fit, dot product,
// GPU packing, GPU clustering and FGD, each a file placement_NAME.go.
//
// A framework receives offers, status updates and rescinds through
// Scheduler, and acts through Driver. Nothing here knows whether the driver
// is the simulator (virtual time) or a live master (wall time): both call
// the same framework code, one callback at a time.
//
// It imports the allocator (for resources) and the traces model (for jobs);
// it must never import the simulator's engine, the runtime or experiments.
package framework
