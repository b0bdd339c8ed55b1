// Package integration holds the live runtime's end-to-end tests: they
// build the apron binary, start masters and agents as real processes on
// loopback ports, drive them through the scheduler API and check what
// comes back, including the cgroup files of running tasks when run as
// root.
package integration
