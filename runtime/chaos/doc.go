// Package chaos is apron's fault-injection suite with real processes, in
// the manner of Jepsen: a seeded scenario generator (Generate) drives a
// real master and two or three real agents (the apron binary, on loopback,
// each agent with its own work dir, cgroups when root) with a workload of
// tasks of known exit codes and durations, through two frameworks that
// speak the scheduler HTTP API themselves (SUBSCRIBE, ACCEPT, DECLINE,
// REVIVE, ACKNOWLEDGE of every update, KILL, RECONCILE after every
// re-subscription, failover with their framework id), while it injects
// faults at seeded moments: kill -9 and SIGTERM of agents and their
// restart with the same work dir, SIGSTOP/SIGCONT of agents (shorter and
// longer than the master's --agent-timeout), master restarts on the same
// address, framework failovers, withheld and duplicate acknowledgements,
// duplicate and stale ACCEPTs, KILLs of finished tasks.
//
// Everything the frameworks send and receive, every fault and a /state
// snapshot every half second go into a History. After a recovery phase
// (every fault healed, quiescence awaited with a bound, a final RECONCILE)
// Check verifies the history against how each task's process really
// ended, which the task itself wrote into its sandbox (see Script): every
// launched task's terminal state reached its framework exactly once and
// is the true one, TASK_LOST only where the process was really lost,
// no resources are held by a task that ended, the books balance, agents
// re-register after a master restart, and no process or cgroup is left.
//
// The schedule is a pure function of the seed; a failing seed prints
// itself, its schedule and the history of the tasks it failed on, and
// replays with APRON_CHAOS_SEED. The checker is written against the design
// in docs/design.md's runtime section (Mesos' rules: latest-state
// forwarding, frameworks recovered from re-registering agents after a
// master restart, kills retried on re-registration).
package chaos
