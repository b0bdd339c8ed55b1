package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Task states.
const (
	TaskStaging  = "TASK_STAGING"
	TaskStarting = "TASK_STARTING"
	TaskRunning  = "TASK_RUNNING"
	TaskFinished = "TASK_FINISHED"
	TaskFailed   = "TASK_FAILED"
	TaskKilled   = "TASK_KILLED"
	TaskError    = "TASK_ERROR"
	TaskLost     = "TASK_LOST"
	TaskDropped  = "TASK_DROPPED"
)

// Terminal says whether a task state is final.
func Terminal(state string) bool {
	switch state {
	case TaskFinished, TaskFailed, TaskKilled, TaskError, TaskLost, TaskDropped:
		return true
	}
	return false
}

// The minimum limits of a task that names no cpus or no mem, or less:
// Mesos' MIN_CPUS and MIN_MEM. Every task has a CPU quota and a memory
// limit.
const (
	MinCPUs   = 0.01
	MinMemMiB = 32
)

const (
	sigterm = syscall.SIGTERM
	sigkill = syscall.SIGKILL
)

// task is a task the agent has: its checkpointed record and the timers
// of its update queue and kill.
type task struct {
	rec      Record
	nextSend time.Time     // when to send the oldest update again; zero: not sent in this registration
	backoff  time.Duration // the retry interval after the next send
	killAt   time.Time     // when SIGKILL is due, if a kill is under way
}

func (t *task) terminal() bool { return Terminal(t.rec.State) }

// resend makes the task's oldest update due at the next flush; fresh
// restarts its retry backoff.
func (c *Core) resend(t *task, fresh bool) {
	t.nextSend = time.Time{}
	c.unsent[t.rec.Key()] = true
	if fresh {
		t.backoff = 0
	}
}

// launch takes a task the master sent. One the agent already has is a
// duplicate and ignored.
func (c *Core) launch(now time.Time, l *api.AgentLaunchTask) {
	t := c.take(now, l)
	if t == nil {
		return
	}
	k := t.rec.Key()
	limits, res, err := c.limits(l)
	if err != nil {
		c.update(now, t, TaskError, api.ReasonTaskInvalid, err.Error())
		return
	}
	t.rec.Container = ContainerID(k)
	start := &Start{Container: t.rec.Container, Command: l.Task.Command.Value, Limits: limits, User: c.taskUser(l)}
	if !l.Task.Command.IsShell() {
		start.Exec = append([]string{l.Task.Command.Value}, tail(l.Task.Command.Arguments)...)
	}
	if e := l.Task.Command.Environment; e != nil {
		start.Env = e.Variables
	}
	start.Env = append(start.Env, gpuEnv(res)...)
	c.effects = append(c.effects, Effect{Kind: EffectStart, Task: k, Start: start})
}

// take takes a task in, staging; nil for one the agent has already.
func (c *Core) take(now time.Time, l *api.AgentLaunchTask) *task {
	k := TaskKey{l.FrameworkID, l.Task.TaskID.Value}
	if c.tasks[k] != nil {
		return nil
	}
	delete(c.gc, k) // an id used again: its new sandbox stays
	t := &task{rec: Record{FrameworkID: l.FrameworkID, Role: l.Role, Task: l.Task, State: TaskStaging, Launched: now}}
	if l.Framework != nil {
		info := *l.Framework
		info.ID = &api.ID{Value: l.FrameworkID}
		t.rec.Framework = &info
	}
	c.add(t)
	c.markDirty(k)
	return t
}

// refuse takes a task in that will not start: TASK_ERROR.
func (c *Core) refuse(now time.Time, l *api.AgentLaunchTask, reason, msg string) {
	if t := c.take(now, l); t != nil {
		c.update(now, t, TaskError, reason, msg)
	}
}

// taskUser is who a task runs as: its command's user, else its
// framework's, else the agent's default.
func (c *Core) taskUser(l *api.AgentLaunchTask) string {
	if u := l.Task.Command.User; u != "" {
		return u
	}
	if l.Framework != nil && l.Framework.User != "" {
		return l.Framework.User
	}
	return c.cfg.TaskUser
}

// add takes a task in, and its framework's info if newer.
func (c *Core) add(t *task) {
	r := &t.rec
	c.tasks[r.Key()] = t
	f := c.frameworks[r.FrameworkID]
	if f == nil {
		f = &framework{}
		c.frameworks[r.FrameworkID] = f
	}
	f.tasks++
	if g, ok := r.group(); ok {
		c.groups[g] = append(c.groups[g], r.Key())
	}
	if r.Framework != nil && (f.info.ID == nil || !r.Launched.Before(f.launched)) {
		f.info, f.launched = *r.Framework, r.Launched
		f.info.ID = &api.ID{Value: r.FrameworkID}
	}
}

// limits checks a launch and returns its task's limits (at least MinCPUs
// and MinMemMiB) and resources.
func (c *Core) limits(l *api.AgentLaunchTask) (Limits, allocator.Resources, error) {
	if err := api.ValidName(l.FrameworkID); err != nil {
		return Limits{}, nil, fmt.Errorf("framework_id: %w", err)
	}
	if err := api.ValidName(l.Task.TaskID.Value); err != nil {
		return Limits{}, nil, fmt.Errorf("task_id: %w", err)
	}
	if l.Task.Command == nil || l.Task.Command.Value == "" {
		return Limits{}, nil, fmt.Errorf("command.value: empty; the agent runs a shell command")
	}
	if err := checkCommand(l.Task.Command); err != nil {
		return Limits{}, nil, err
	}
	if l.Framework != nil && l.Framework.User != "" {
		if err := checkUser(l.Framework.User); err != nil {
			return Limits{}, nil, fmt.Errorf("framework.user: %w", err)
		}
	}
	res, err := api.ToResources("task.resources", l.Task.Resources)
	if err != nil {
		return Limits{}, nil, err
	}
	return Limits{CPUs: max(res.Sum("cpus").Float(), MinCPUs), MemMiB: max(res.Sum("mem").Float(), MinMemMiB), Pids: c.cfg.PidsLimit}, res, nil
}

// ContainerID is the cgroup name of a task: framework.task, or a hash of
// both when that would be too long or start with '.', so it is always a
// valid isolation id.
func ContainerID(k TaskKey) string {
	id := k.Framework + "." + k.Task
	if len(id) <= api.MaxNameLen && id[0] != '.' {
		return id
	}
	sum := sha256.Sum256([]byte(k.Framework + "/" + k.Task))
	return "t-" + hex.EncodeToString(sum[:20])
}

// kill stops a task: SIGTERM now, SIGKILL after the grace period. A task
// not yet started is signalled when it starts; an unknown or ended task,
// or one already being killed, is left alone.
func (c *Core) kill(now time.Time, k TaskKey) {
	t := c.tasks[k]
	if t == nil || t.terminal() || t.rec.KillAsked {
		return
	}
	t.rec.KillAsked = true
	c.markDirty(k)
	if t.rec.Pid != 0 {
		c.terminate(now, t)
	}
}

func (c *Core) terminate(now time.Time, t *task) {
	k := t.rec.Key()
	c.effects = append(c.effects, Effect{Kind: EffectSignal, Task: k, Pid: t.rec.Pid, Signal: sigterm})
	t.killAt = now.Add(c.grace(t))
	c.kills.add(t.killAt, k)
}

// Started: the task's process runs, with pid and its start time in clock
// ticks since boot.
func (c *Core) Started(now time.Time, k TaskKey, pid int, startTicks uint64) {
	if t := c.tasks[k]; t != nil && t.rec.State == TaskStaging {
		t.rec.Pid, t.rec.PidStart = pid, startTicks
		c.update(now, t, TaskRunning, "", "")
		if t.rec.KillAsked {
			c.terminate(now, t)
		}
	}
	c.flush(now)
}

// StartFailed: the task could not be started; why says what failed.
func (c *Core) StartFailed(now time.Time, k TaskKey, why string) {
	if t := c.tasks[k]; t != nil && t.rec.State == TaskStaging {
		c.update(now, t, TaskFailed, api.ReasonLaunchFailed, why)
	}
	c.flush(now)
}

// Exited: the task's process ended. A task ends once: a later report is
// ignored.
func (c *Core) Exited(now time.Time, k TaskKey, x Exit) {
	if t := c.tasks[k]; t != nil && !t.terminal() {
		c.end(now, t, x)
	}
	c.flush(now)
}

func (c *Core) end(now time.Time, t *task, x Exit) {
	t.killAt = time.Time{}
	state, reason, msg := ending(x, t.rec.KillAsked, c.memLimit(t))
	if state == TaskKilled && t.rec.KillWhy != "" {
		msg = t.rec.KillWhy
	}
	c.update(now, t, state, reason, msg)
}

func (c *Core) memLimit(t *task) float64 {
	res, _ := api.ToResources("resources", t.rec.Task.Resources)
	return max(res.Sum("mem").Float(), MinMemMiB)
}

// ending is the terminal update of a task that exited.
func ending(x Exit, killAsked bool, memMiB float64) (state, reason, msg string) {
	switch {
	case x.OOM:
		return TaskFailed, api.ReasonMemoryLimit, fmt.Sprintf("memory-limit: the task used more than its %v MiB and the kernel killed it", memMiB)
	case killAsked:
		return TaskKilled, "", "killed on request"
	case x.Code == 0:
		return TaskFinished, "", "command exited with status 0"
	case x.Code < 0:
		return TaskFailed, api.ReasonExecutorEnded, "the task's process ended and left no exit status (the agent was down, or it was killed)"
	case x.Code > 128:
		return TaskFailed, api.ReasonExecutorFailed, fmt.Sprintf("command killed by signal %d", x.Code-128)
	}
	return TaskFailed, api.ReasonExecutorFailed, fmt.Sprintf("command exited with status %d", x.Code)
}

// update queues a new status of a task, checkpointed before it is sent.
// A task that ended takes no more updates.
func (c *Core) update(now time.Time, t *task, state, reason, msg string) {
	if t.terminal() {
		return
	}
	k := t.rec.Key()
	s := api.TaskStatus{TaskID: t.rec.Task.TaskID, State: state, Reason: reason, Message: msg, Source: api.SourceAgent,
		AgentID: &api.ID{Value: c.cfg.Name}, UUID: c.uuid(now), Timestamp: float64(now.UnixNano()) / 1e9}
	t.rec.State = state
	t.rec.Pending = append(t.rec.Pending, s)
	c.markDirty(k)
	c.queued[k] = true
	switch {
	case len(t.rec.Pending) == 1:
		c.resend(t, true)
	case Terminal(state):
		c.resend(t, false) // the master learns the end (latest_state) now, not at the next retry
	}
	if state == TaskFailed || state == TaskKilled {
		c.groupEnds(now, t)
	}
}

// uuid is 16 bytes of Rand (Mesos' uuids are 16 bytes); should Rand
// fail, the time and a count.
func (c *Core) uuid(now time.Time) api.UUID {
	c.uuids++
	var b [api.UUIDLen]byte
	if _, err := io.ReadFull(c.cfg.Rand, b[:]); err != nil {
		binary.BigEndian.PutUint64(b[:8], uint64(now.UnixNano()))
		binary.BigEndian.PutUint64(b[8:], c.uuids)
	}
	return api.UUID(b[:])
}

// grace is how long a killed task has between SIGTERM and SIGKILL: its
// kill policy's grace period, else the agent's.
func (c *Core) grace(t *task) time.Duration {
	if kp := t.rec.Task.KillPolicy; kp != nil && kp.GracePeriod != nil && kp.GracePeriod.Nanoseconds >= 0 {
		return time.Duration(kp.GracePeriod.Nanoseconds)
	}
	return c.cfg.Grace
}

// tail is a command's arguments after argv[0].
func tail(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	return args[1:]
}

// checkCommand checks a command's user and environment.
func checkCommand(cmd *api.CommandInfo) error {
	if cmd.User != "" {
		if err := checkUser(cmd.User); err != nil {
			return fmt.Errorf("command.user: %w", err)
		}
	}
	if cmd.Environment == nil {
		return nil
	}
	for i, v := range cmd.Environment.Variables {
		switch {
		case v.Name == "" || strings.ContainsAny(v.Name, "=\x00"):
			return fmt.Errorf("command.environment.variables[%d].name: %q; give a name without '=' or NUL", i, v.Name)
		case strings.Contains(v.Value, "\x00"):
			return fmt.Errorf("command.environment.variables[%d].value: holds a NUL byte", i)
		}
	}
	return nil
}

// checkUser checks a user name: letters, digits, '-', '_' and '.', not
// starting with '-' (an id could not name a user of the machine).
func checkUser(name string) error {
	if err := api.ValidName(name); err != nil {
		return err
	}
	if name[0] == '-' {
		return fmt.Errorf("%q starts with '-'", name)
	}
	return nil
}
