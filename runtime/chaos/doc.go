// Package chaos is apron's fault-injection suite with real processes, in
// the manner of Jepsen. A seeded scenario generator (Generate) drives real
// masters, one (odd seeds) or three replicated over raft (even seeds),
// and two or three real agents (the apron binary, on loopback, each
// master with its own data dir, each agent with its own work dir, cgroups
// when root) with a workload of tasks of known exit codes and durations,
// through two frameworks, one PARTITION_AWARE and one not, that speak the
// scheduler HTTP API themselves: SUBSCRIBE to the leader (found as
// runtime/masters finds it: the next master when one does not answer, a
// standby's 307 followed), ACCEPT, DECLINE, REVIVE, ACKNOWLEDGE of every
// update with a uuid, KILL, RECONCILE after every subscription, failover
// with their framework id when a stream breaks or goes silent for three
// heartbeats, and KILLs sent again after it. Meanwhile it injects faults
// at seeded moments: kill -9 and SIGTERM of agents and their restart with
// the same work dir, SIGSTOP/SIGCONT of agents (well within and well
// beyond the master's --agent-timeout), KILLs sent while an agent is
// away, master restarts on the same address; with three masters, kill -9
// of whichever master leads at that moment (restarted later on its
// address and data dir, it rejoins as a follower), SIGSTOP/SIGCONT of the
// leader well beyond the election timeout (a minority partition: the
// others elect a leader, and the old one must step down when it
// continues), kill -9 of a follower; framework failovers, withheld and
// duplicate acknowledgements, the same ACCEPT twice, an ACCEPT of a used
// offer, one offer id twice or one task id twice in an ACCEPT, a KILL of
// a finished task.
//
// Everything the frameworks send and receive, every fault and the
// leader's /state every half second go into a History (during an
// election no master answers /state: there is no snapshot then). A recovery phase
// heals every fault, waits for quiescence with a bound and reconciles
// every task. Check then verifies the history against how each task's
// process really ended, which the task's own command (Script) wrote into
// its sandbox: every launched task's end reached its framework exactly
// once (updates with one uuid are one update) and is the true one
// (TASK_FINISHED for exit 0, TASK_FAILED for another code, TASK_KILLED
// only after a KILL); TASK_LOST and TASK_GONE only for a task that never
// ran, or, for the framework that is not partition-aware, whose agent was
// away longer than the agent timeout; no resources held by a task after
// the master heard it ended; /state's used equal to what the running
// tasks hold and no agent used and offered beyond its total; no task run
// twice or beyond an agent's resources; every agent back within 10 s of a
// master restart or a new leader; no task process or cgroup left at the
// end. After a leader is killed or stopped, a new leader answers /state
// within 5 s of the election timeout (the Failovers of a Result, measured
// from the fault to the first answer of a new leader), every framework is
// subscribed again with its id, and every task its framework knew running
// still runs in the new leader's /state; a stopped leader that continues
// says within 2 s that another leads.
//
// The checker follows Mesos' rules as the runtime's design adopts them:
// the master forwards an agent's oldest update with its latest state and
// frees a task's resources on a terminal latest state before any
// acknowledgement; kills for an agent that is away are sent when it is
// back; a master that restarted learns frameworks from re-registering
// agents, so a framework subscribing again with its id keeps its tasks;
// replicated masters forward an update only once the log has it, so a
// new leader knows every state a framework heard, while a 202 to a call
// promises nothing a new leader must know (a framework kills again).
// A status without a uuid whose reason is REASON_RECONCILIATION answers a
// RECONCILE (or a KILL of an unknown task) and is no new update; a
// TASK_DROPPED or TASK_ERROR without a uuid refuses one launch.
//
// The schedule is a pure function of the seed (the timing of real
// processes aside). A failing seed reports itself, its schedule, its
// violations and the history of the tasks they are about, and replays
// with APRON_CHAOS=1 APRON_CHAOS_SEED=N go test ./runtime/chaos -run
// TestChaos; make chaos SEEDS=N runs many and writes a summary.
package chaos
