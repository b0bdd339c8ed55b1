// Package launch starts a task's process for the agent, in the order least
// privilege needs. The agent starts a helper (its own binary, run again as
// "apron-task-init") held at a gate, with no environment, in the task's
// sandbox and its own process group; it moves the helper into the task's
// cgroup; then it releases the helper with a Spec, which the helper follows:
// it enters a new cgroup namespace (rooted at the cgroup it now is in, so
// the task sees "/" in /proc/self/cgroup), becomes the task's user (its
// supplementary groups, gid and uid; the agent's are gone), and execs the
// task's wrapper with the task's environment. Release returns once the
// wrapper runs, or with what failed.
//
// The helper's hook is this package's init: every binary that runs an
// agent links it, test binaries included. The helper runs as root until it
// becomes the user, so it reads nothing from the task before then but its
// Spec, and its own environment is empty (no LD_PRELOAD, no GODEBUG).
//
// Lookup resolves a user name with os/user.
package launch
