// Package isolation owns the cgroups in which apron's agent runs its tasks:
// it makes one cgroup (a Container) per task under a root the agent owns,
// (RootFor: "apron/<work dir name>-<hash of its path>", unique per agent
// on a machine and the same after a restart), sets the task's CPU, memory and pids limits
// in it, moves the task's processes into it, reads it back (limit files,
// processes, whether the OOM killer struck) and removes it.
//
// It works on cgroup v1, including the hybrid layout where a cgroup2 mount
// without controllers sits beside the v1 hierarchies (only the cpu, memory
// and pids hierarchies are touched), and on cgroup v2 (unified hierarchy),
// through github.com/containerd/cgroups/v3. Where cgroups are unusable (not
// root, no mount, a controller missing, a write refused) New falls back to
// the "none" isolator and says why, so the agent can run unisolated and
// warn loudly.
//
// The cgroups it makes stay root's (directories 0755, files writable by
// root only), and nothing is delegated: a task that runs as another user,
// moved in by the agent before it drops root, can write none of them,
// neither its own limits nor any cgroup.procs.
//
// It knows nothing of tasks, executors or the agent protocol.
package isolation
