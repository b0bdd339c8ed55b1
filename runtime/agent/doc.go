// Package agent is apron's live agent: the shell around the agent's pure
// protocol core (package core). The core decides; the shell does what the
// core's Ready asks, in order, and reports back what happened:
//
//   - checkpoint: a journal of task records under WORK_DIR/meta (the
//     agent's only: 0700), fsynced (and its directory, when it is
//     rewritten) before anything that depends on it goes out;
//   - effects: each task runs as a process in its own cgroup (package
//     isolation) with a sandbox directory holding its stdout and stderr;
//     its end is watched (wait, or a pidfd for a process recovered after
//     a restart) and reported with its exit code and whether the OOM
//     killer struck; signals; sandbox removal; closing a stream;
//   - least privilege: a task runs as its user (its command's, else its
//     framework's, else Options.TaskUser, "nobody" by default; root only
//     with AllowRootTasks), which owns its sandbox, with a clean
//     environment (PATH, HOME its sandbox, USER, LOGNAME, the APRON_*
//     variables and MESOS_SANDBOX, then its command's own) and in a new
//     cgroup namespace rooted at its cgroup (package launch); it cannot
//     write cgroupfs, whose files are root's. The agent reads a sandbox's
//     files without following links (openat2 RESOLVE_BENEATH and
//     RESOLVE_NO_SYMLINKS, or O_NOFOLLOW on each component where the
//     kernel has no openat2);
//   - messages: the SUBSCRIBE stream (one goroutine per generation) and
//     HEARTBEAT and STATUS posts, whose HTTP status goes back to the core;
//   - time: one timer, armed at the core's Deadline.
//
// Restarted on the same work directory, it reads the journal, finds which
// processes still run (pid and start time) and how the others ended (the
// exit status the task's wrapper wrote to its sandbox), and gives that to
// a new core. It serves its /state and the sandboxes' files over HTTP.
package agent
