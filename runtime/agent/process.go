package agent

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/api"
	"golang.org/x/sys/unix"
)

// proc is a task's process that the agent watches.
type proc struct {
	pid    int
	ctr    isolation.Container // nil if its cgroup is gone
	exited bool
}

// wrapper runs a task's command once the agent has put it in its cgroup
// (it waits for a line on fd 3), and writes the command's exit status to
// the sandbox, where an agent restarted meanwhile finds it.
const wrapper = `read _ <&3 || exit 125; exec 3<&-; /bin/sh -c "$1"; code=$?; echo $code > "$2"; exit $code`

// exitFile holds a task's exit status in its sandbox.
const exitFile = "exit_status"

// sandbox is a task's sandbox directory: WORK_DIR/sandboxes/FW/TASK, for
// ids that are valid names only.
func (a *Agent) sandbox(k core.TaskKey) (string, error) {
	if err := api.ValidName(k.Framework); err != nil {
		return "", fmt.Errorf("no sandbox for framework id %q: %w", k.Framework, err)
	}
	if err := api.ValidName(k.Task); err != nil {
		return "", fmt.Errorf("no sandbox for task id %q: %w", k.Task, err)
	}
	return filepath.Join(a.opts.WorkDir, "sandboxes", k.Framework, k.Task), nil
}

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

// spawn starts the wrapper, moves it into the task's cgroup and lets it
// run the command.
func (a *Agent) spawn(k core.TaskKey, s core.Start) (*exec.Cmd, isolation.Container, error) {
	dir, err := a.sandbox(k)
	if err != nil {
		return nil, nil, err
	}
	if err := mkdirSandbox(dir); err != nil {
		return nil, nil, err
	}
	stdout, err := os.OpenFile(filepath.Join(dir, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	defer stderr.Close()
	_ = os.Remove(filepath.Join(dir, exitFile)) // a task id used again
	ctr, err := a.opts.Isolator.Create(s.Container, isolation.Limits{CPUs: s.Limits.CPUs, MemMiB: s.Limits.MemMiB, Pids: s.Limits.Pids})
	if err != nil {
		return nil, nil, fmt.Errorf("cgroup: %w", err)
	}
	cmd, err := a.run(k, s, dir, stdout, stderr, ctr)
	if err != nil {
		_ = ctr.Delete()
		return nil, nil, err
	}
	return cmd, ctr, nil
}

// run starts the wrapper held at its gate, adds it to ctr, and opens the
// gate.
func (a *Agent) run(k core.TaskKey, s core.Start, dir string, stdout, stderr *os.File, ctr isolation.Container) (*exec.Cmd, error) {
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer gateW.Close()
	cmd := exec.Command("/bin/sh", "-c", wrapper, "apron-task", s.Command, filepath.Join(dir, exitFile))
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = dir, stdout, stderr, []*os.File{gateR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "APRON="+cmp.Or(a.opts.Self, "apron-not-set"), "APRON_SANDBOX="+dir, "MESOS_SANDBOX="+dir,
		"APRON_TASK_ID="+k.Task, "APRON_FRAMEWORK_ID="+k.Framework)
	err = cmd.Start()
	gateR.Close()
	if err != nil {
		return nil, err
	}
	if err := ctr.Add(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("cgroup: adding the task: %w", err)
	}
	if _, err := gateW.Write([]byte("go\n")); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return cmd, nil
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

// readExit is the exit status the wrapper wrote to dir; -1 if none.
func readExit(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, exitFile))
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return -1
	}
	return n
}

// mkdirSandbox makes a task's sandbox: one mkdir when its framework's
// folder exists, as it does for every task but a framework's first; the
// folder is made again if the collection of a sandbox removed it meanwhile.
func mkdirSandbox(dir string) error {
	for try := 0; ; try++ {
		err := os.Mkdir(dir, 0o755)
		switch {
		case errors.Is(err, fs.ErrNotExist) && try < 3:
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			return nil // a task id used again after its task ended
		default:
			return err
		}
	}
}
