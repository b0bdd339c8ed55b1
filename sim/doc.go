// Package sim will be apron's discrete-event simulator: a virtual clock and
// event queue that replay a workload against any allocator policy, with
// simulated agents and frameworks (the second level of two-level
// scheduling), recording utilization, fairness and completion times.
//
// It imports the allocator and reads workloads through the traces model;
// it must never import the runtime, experiments or the command.
//
// Status: not built yet (issue "Discrete-event simulator").
package sim
