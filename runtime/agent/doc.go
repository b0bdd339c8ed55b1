// Package agent is apron's live agent: it registers its resources with a
// master, runs each task it is given as a process in its own cgroup
// (package isolation) with a sandbox directory holding the task's stdout
// and stderr, reports task status updates and sends each again until the
// master acknowledges it, and checkpoints its tasks to its work directory
// so that, restarted, it takes back the tasks still running and reports
// the ones that ended while it was down.
package agent
