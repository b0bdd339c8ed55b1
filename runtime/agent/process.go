package agent

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/agent/launch"
	"golang.org/x/sys/unix"
)

// proc is a task's process that the agent watches.
type proc struct {
	pid    int
	ctr    isolation.Container // nil if its cgroup is gone
	exited bool
}

// wrapper runs a task's command, as its user, and writes the command's
// exit status to the sandbox (its working directory), where an agent
// restarted meanwhile finds it; whatever the command left under that name
// (a FIFO would hold the wrapper) is removed first.
// A command with no shell (Mesos' shell false) runs as "$@": its
// executable, found on PATH as execvp finds it, and its arguments.
const (
	wrapper     = `/bin/sh -c "$1"; ` + wrapperTail
	execWrapper = `"$@"; ` + wrapperTail
	wrapperTail = `code=$?; rm -rf ` + exitFile + `; echo $code > ` + exitFile + `; exit $code`
)

// safePath is every task's PATH, unless its command gives one.
const safePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// start makes the task's sandbox and cgroup, starts its process, reports
// it and watches it.
func (a *Agent) start(k core.TaskKey, s core.Start) {
	cmd, ctr, err := a.spawn(k, s)
	if err != nil {
		why := err.Error()
		a.step(func(c *core.Core, now time.Time) { c.StartFailed(now, k, why) })
		return
	}
	p := &proc{pid: cmd.Process.Pid, ctr: ctr}
	ticks, _ := startTicks(p.pid)
	a.step(func(c *core.Core, now time.Time) {
		a.procs[k] = p
		c.Started(now, k, p.pid, ticks)
	})
	err = cmd.Wait()
	a.ended(k, p, exitCode(cmd.ProcessState, err))
}

// ended reports how a watched process ended, once its cgroup is
// emptied and removed. code is its exit code, -1 when unknown.
func (a *Agent) ended(k core.TaskKey, p *proc, code int) {
	x := core.Exit{Code: code}
	if p.ctr != nil {
		x.OOM, _ = p.ctr.OOMKilled()
		p.killAll()
		_ = p.ctr.Delete()
	}
	a.step(func(c *core.Core, now time.Time) {
		p.exited = true
		if a.procs[k] == p {
			delete(a.procs, k)
		}
		c.Exited(now, k, x)
	})
}

func (p *proc) killAll() {
	if p.ctr == nil {
		return
	}
	pids, _ := p.ctr.Pids()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// spawn starts the task's helper in its sandbox, moves it into the task's
// cgroup and releases it to become the task's user and run the command.
func (a *Agent) spawn(k core.TaskKey, s core.Start) (*exec.Cmd, isolation.Container, error) {
	id, err := a.identity(s.User)
	if err != nil {
		return nil, nil, err
	}
	dir, stdout, stderr, err := a.makeSandbox(k, id)
	if err != nil {
		return nil, nil, err
	}
	defer stdout.Close()
	defer stderr.Close()
	ctr, err := a.opts.Isolator.Create(s.Container, isolation.Limits{CPUs: s.Limits.CPUs, MemMiB: s.Limits.MemMiB, Pids: s.Limits.Pids})
	if err != nil {
		return nil, nil, fmt.Errorf("cgroup: %w", err)
	}
	p, err := launch.Start(dir, stdout, stderr)
	if err != nil {
		_ = ctr.Delete()
		return nil, nil, err
	}
	if err := ctr.Add(p.Cmd.Process.Pid); err != nil {
		p.Abort()
		_ = ctr.Delete()
		return nil, nil, fmt.Errorf("cgroup: adding the task: %w", err)
	}
	argv := []string{"/bin/sh", "-c", wrapper, "apron-task", s.Command}
	if len(s.Exec) > 0 {
		argv = append([]string{"/bin/sh", "-c", execWrapper, "apron-task"}, s.Exec...)
	}
	spec := launch.Spec{User: id, CgroupNS: a.cgroupNS, Env: a.env(k, dir, s), Argv: argv}
	if err := p.Release(spec); err != nil {
		_ = p.Cmd.Wait()
		_ = ctr.Delete()
		return nil, nil, fmt.Errorf("starting the task: %w", err)
	}
	return p.Cmd, ctr, nil
}

// identity is the user a task runs as; nil: the agent's own, as an agent
// that is not root cannot switch.
func (a *Agent) identity(name string) (*launch.Identity, error) {
	if !a.root {
		if name != a.opts.TaskUser {
			return nil, fmt.Errorf("the agent runs as user %q, not as root, and cannot run a task as user %q", a.opts.TaskUser, name)
		}
		return nil, nil
	}
	id, err := launch.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("the task's user: %w", err)
	}
	if id.UID == 0 && !a.opts.AllowRootTasks {
		return nil, fmt.Errorf("refusing to run the task as user %q (uid 0): this agent runs tasks as root only with --allow-root-tasks", name)
	}
	return &id, nil
}

// env is a task's whole environment: PATH, HOME (its sandbox), USER and
// LOGNAME, the APRON_* variables, then its command's own, which win.
// Nothing of the agent's.
func (a *Agent) env(k core.TaskKey, dir string, s core.Start) []string {
	user := cmp.Or(s.User, a.opts.TaskUser)
	env := []string{"PATH=" + safePath, "HOME=" + dir, "USER=" + user, "LOGNAME=" + user,
		"APRON=" + cmp.Or(a.opts.Self, "apron-not-set"), "APRON_SANDBOX=" + dir, "MESOS_SANDBOX=" + dir,
		"APRON_TASK_ID=" + k.Task, "APRON_FRAMEWORK_ID=" + k.Framework}
	for _, v := range s.Env {
		env = append(env, v.Name+"="+v.Value)
	}
	return lastWins(env)
}

// lastWins keeps the last value of each variable, in the order the
// variables first appear.
func lastWins(env []string) []string {
	at := map[string]int{}
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if i, ok := at[name]; ok {
			out[i] = kv
			continue
		}
		at[name] = len(out)
		out = append(out, kv)
	}
	return out
}

// exitCode is a wrapper's exit code; a signal is 128+signal, as a shell
// reports it.
func exitCode(ps *os.ProcessState, err error) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// startTicks is a process's start time in clock ticks since boot: with the
// pid it names a process for good.
func startTicks(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// pidfdIfSame opens a pidfd on pid if it is still the process that
// started at ticks (checked after opening, so the pidfd cannot name a
// newer process of the same pid).
func pidfdIfSame(pid int, ticks uint64) (int, bool) {
	if pid <= 0 {
		return -1, false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, false
	}
	if t, err := startTicks(pid); err != nil || t != ticks {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

// waitPidfd waits for the process of a pidfd, which is not the agent's
// child, to end, and closes the pidfd.
func waitPidfd(fd int) {
	defer unix.Close(fd)
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
		if err == nil || !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
