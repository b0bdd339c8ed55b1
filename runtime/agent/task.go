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

	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/api"
	"golang.org/x/sys/unix"
)

// PidsLimit is the pids limit of every task's cgroup.
const PidsLimit = 4096

// run is a task the agent runs or ran.
type run struct {
	rec      record
	ctr      isolation.Container
	ended    bool
	killer   *time.Timer
	backoff  time.Duration
	nextSend time.Time
}

// wrapper runs a task's command once the agent has put it in its cgroup
// (it waits for a line on fd 3), and writes the command's exit status to
// the sandbox, where an agent restarted meanwhile finds it.
const wrapper = `read _ <&3 || exit 125; exec 3<&-; /bin/sh -c "$1"; code=$?; echo $code > "$2"; exit $code`

// exitFile holds a task's exit status in its sandbox.
const exitFile = "exit_status"

func (a *Agent) sandbox(fw, task string) (string, error) {
	root := filepath.Join(a.opts.WorkDir, "sandboxes")
	p := filepath.Join(root, fw, task)
	rel, err := filepath.Rel(root, p)
	if err != nil || strings.HasPrefix(rel, "..") || len(strings.Split(rel, string(filepath.Separator))) != 2 || fw == "" || task == "" {
		return "", fmt.Errorf("sandbox for framework %q task %q would be %s, outside %s", fw, task, p, root)
	}
	return p, nil
}

// launch starts a task the master sent.
func (a *Agent) launch(l *api.AgentLaunchTask) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := l.FrameworkID + "/" + l.Task.TaskID.Value
	if r := a.tasks[key]; r != nil && !r.ended {
		return // a duplicate
	}
	r := &run{rec: record{FrameworkID: l.FrameworkID, Role: l.Role, Task: l.Task, State: "TASK_STAGING",
		Container: containerID(l.FrameworkID, l.Task.TaskID.Value)}}
	a.tasks[key] = r
	dir, err := a.sandbox(l.FrameworkID, l.Task.TaskID.Value)
	if err != nil {
		r.ended = true
		a.update(r, "TASK_ERROR", "REASON_SANDBOX_INVALID", err.Error())
		return
	}
	r.rec.Sandbox = dir
	a.update(r, "TASK_STARTING", "", "")
	go a.start(r)
}

func containerID(fw, task string) string { return fw + "." + task }

// start makes the task's sandbox and cgroup and starts its process.
func (a *Agent) start(r *run) {
	res, _ := api.ToResources("resources", r.rec.Task.Resources)
	limits := isolation.Limits{CPUs: res.Sum("cpus").Float(), MemMiB: res.Sum("mem").Float(), Pids: PidsLimit}
	cmd, err := a.spawn(r, limits)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		r.ended = true
		a.update(r, "TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED", err.Error())
		return
	}
	r.rec.Pid = cmd.Process.Pid
	r.rec.PidStart, _ = startTicks(r.rec.Pid)
	a.update(r, "TASK_RUNNING", "", "")
	if r.rec.KillAsked {
		a.signal(r)
	}
	go func() {
		err := cmd.Wait()
		a.finish(r, exitCode(cmd.ProcessState, err))
	}()
}

// spawn starts the wrapper, moves it into the task's cgroup and lets it
// run the command.
func (a *Agent) spawn(r *run, l isolation.Limits) (*exec.Cmd, error) {
	dir := r.rec.Sandbox
	if err := mkdirSandbox(dir); err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(filepath.Join(dir, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	ctr, err := a.opts.Isolator.Create(r.rec.Container, l)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	r.ctr = ctr
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer gateW.Close()
	cmd := exec.Command("/bin/sh", "-c", wrapper, "apron-task", r.rec.Task.Command.Value, filepath.Join(dir, exitFile))
	cmd.Dir, cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = dir, stdout, stderr, []*os.File{gateR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "APRON="+cmp.Or(a.opts.Self, "apron-not-set"), "APRON_SANDBOX="+dir, "MESOS_SANDBOX="+dir,
		"APRON_TASK_ID="+r.rec.Task.TaskID.Value, "APRON_FRAMEWORK_ID="+r.rec.FrameworkID)
	err = cmd.Start()
	gateR.Close()
	if err != nil {
		_ = ctr.Delete()
		return nil, err
	}
	if err := ctr.Add(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = ctr.Delete()
		return nil, fmt.Errorf("cgroup: adding the task: %w", err)
	}
	if _, err := gateW.Write([]byte("go\n")); err != nil {
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

// finish reports how a task ended and removes its cgroup. code is the exit
// code, -1 when unknown.
func (a *Agent) finish(r *run, code int) {
	oom := false
	if r.ctr != nil {
		oom, _ = r.ctr.OOMKilled()
		killAll(r.ctr)
		_ = r.ctr.Delete()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.ended {
		return
	}
	r.ended = true
	if r.killer != nil {
		r.killer.Stop()
	}
	switch {
	case oom:
		a.update(r, "TASK_FAILED", "memory-limit", fmt.Sprintf("memory-limit: the task used more than its %s MiB and the kernel killed it", memOf(r)))
	case r.rec.KillAsked:
		a.update(r, "TASK_KILLED", "REASON_TASK_KILLED", "killed on request")
	case code == 0:
		a.update(r, "TASK_FINISHED", "", "command exited with status 0")
	case code < 0:
		a.update(r, "TASK_FAILED", "REASON_EXECUTOR_TERMINATED", "the task ended while the agent was down, and left no exit status")
	case code > 128:
		a.update(r, "TASK_FAILED", "REASON_COMMAND_EXECUTOR_FAILED", fmt.Sprintf("command killed by signal %d", code-128))
	default:
		a.update(r, "TASK_FAILED", "REASON_COMMAND_EXECUTOR_FAILED", fmt.Sprintf("command exited with status %d", code))
	}
}

func memOf(r *run) string {
	res, _ := api.ToResources("resources", r.rec.Task.Resources)
	return res.Sum("mem").String()
}

func killAll(c isolation.Container) {
	pids, _ := c.Pids()
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// kill stops a task: SIGTERM to its process group, SIGKILL to what is left
// after the grace period.
func (a *Agent) kill(fw, task string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.tasks[fw+"/"+task]
	if r == nil || r.ended || r.rec.KillAsked {
		return
	}
	r.rec.KillAsked = true
	a.save(r)
	if r.rec.Pid != 0 {
		a.signal(r)
	}
}

func (a *Agent) signal(r *run) {
	_ = syscall.Kill(-r.rec.Pid, syscall.SIGTERM)
	pid, ctr := r.rec.Pid, r.ctr
	r.killer = time.AfterFunc(a.opts.Grace, func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		if ctr != nil {
			killAll(ctr)
		}
	})
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

// recover takes back the checkpointed tasks.
func (a *Agent) recover() {
	recs, errs := a.store.load()
	for _, err := range errs {
		a.opts.Log.Error("recover", "err", err)
	}
	for _, rec := range recs {
		r := &run{rec: *rec}
		a.tasks[rec.key()] = r
		switch rec.State {
		case "TASK_STARTING", "TASK_RUNNING":
			a.reattach(r)
		case "TASK_STAGING":
			r.ended = true
			a.update(r, "TASK_FAILED", "REASON_AGENT_RESTARTED", "the agent restarted before the task started")
		default:
			r.ended = true // its pending updates go out again
		}
	}
	if len(recs) > 0 {
		a.opts.Log.Info("recovered tasks", "count", len(recs))
	}
}

// reattach watches a task that ran before the restart, or reports it ended.
func (a *Agent) reattach(r *run) {
	ctr, err := a.opts.Isolator.Recover(r.rec.Container)
	if err == nil {
		r.ctr = ctr
	}
	ticks, err := startTicks(r.rec.Pid)
	if r.rec.Pid == 0 || err != nil || ticks != r.rec.PidStart {
		go a.finish(r, readExit(r.rec.Sandbox))
		return
	}
	go func() {
		waitExit(r.rec.Pid)
		a.finish(r, readExit(r.rec.Sandbox))
	}()
}

// waitExit waits for a process that is not the agent's child to end.
func waitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == nil {
		defer unix.Close(fd)
		for {
			_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
			if err == nil || !errors.Is(err, unix.EINTR) {
				return
			}
		}
	}
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(200 * time.Millisecond)
	}
}

func readExit(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, exitFile))
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return -1
	}
	return n
}

// mkdirSandbox makes a task's sandbox: one mkdir when its framework's
// folder exists, as it does for every task but a framework's first.
func mkdirSandbox(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if errors.Is(err, fs.ErrExist) {
		return nil // a task id used again after its task ended
	}
	return err
}
