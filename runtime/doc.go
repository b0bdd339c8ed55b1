// Package runtime is apron's live backend. Its packages:
//
//   - api: the wire types and RecordIO framing of the scheduler API and the
//     agent protocol (docs/api.md);
//   - master: the allocator driven in wall time behind that API, /state,
//     /metrics and the policy endpoint;
//   - agent (and agent/isolation): tasks as processes in cgroups, sandboxes,
//     status updates retried until acknowledged, checkpoints and recovery;
//   - scheduler: a driver that runs sim/framework's frameworks against a
//     live master, and the one-task framework of apron execute;
//   - local: a master and agents in one process (apron up);
//   - loadgen: simulated agents and frameworks that load a master;
//   - burn: the CPU and memory burner replayed tasks run;
//   - integration: end-to-end tests with real processes.
//
// runtime imports the allocator and sim/framework's interface; it never
// imports the simulator's engine, experiments or the command.
package runtime
