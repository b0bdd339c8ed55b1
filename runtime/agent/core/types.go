package core

import (
	"cmp"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// TaskKey names a task on an agent: its framework's id and its own.
type TaskKey struct {
	Framework string
	Task      string
}

func (k TaskKey) String() string { return k.Framework + "/" + k.Task }

// JournalKey is the key of the task's checkpoint record, distinct for
// distinct tasks even when their ids hold '/'.
func (k TaskKey) JournalKey() string { return strconv.Quote(k.Framework) + "/" + strconv.Quote(k.Task) }

func (k TaskKey) compare(o TaskKey) int {
	return cmp.Or(cmp.Compare(k.Framework, o.Framework), cmp.Compare(k.Task, o.Task))
}

// Record is what the agent checkpoints of one task: enough to find its
// process after a restart, to report it when re-registering and to send
// the updates not yet acknowledged.
type Record struct {
	FrameworkID string             `json:"framework_id"`
	Framework   *api.FrameworkInfo `json:"framework,omitempty"` // as the LAUNCH gave it
	Role        string             `json:"role"`
	Task        api.TaskInfo       `json:"task"`
	State       string             `json:"state"` // the latest state
	Pid         int                `json:"pid,omitempty"`
	PidStart    uint64             `json:"pid_start,omitempty"` // the process's start time in ticks since boot
	Container   string             `json:"container,omitempty"`
	KillAsked   bool               `json:"kill_asked,omitempty"`
	KillWhy     string             `json:"kill_why,omitempty"` // why the agent killed it itself (its task group ended)
	Pending     []api.TaskStatus   `json:"pending,omitempty"`  // unacknowledged, oldest first
	Launched    time.Time          `json:"launched"`
}

// Key is the record's task.
func (r *Record) Key() TaskKey { return TaskKey{r.FrameworkID, r.Task.TaskID.Value} }

// clone copies what the core changes later (the task info and framework
// info are never changed once launched, and are shared).
func (r *Record) clone() *Record {
	c := *r
	c.Pending = slices.Clone(r.Pending)
	return &c
}

// Write is one checkpoint change: a task's record to save, or (Record
// nil) to remove, the task being forgotten.
type Write struct {
	Key    TaskKey
	Record *Record
}

// EffectKind says what an Effect asks.
type EffectKind int

// The effects.
const (
	EffectStart         EffectKind = iota + 1 // start Task with Start; report Started or StartFailed
	EffectSignal                              // send Signal to Task's process group (Pid), and on SIGKILL to all of its container
	EffectRemoveSandbox                       // remove Task's sandbox directory
	EffectCloseStream                         // close the event stream of generation Gen (and cancel its posts)
)

func (k EffectKind) String() string {
	switch k {
	case EffectStart:
		return "start"
	case EffectSignal:
		return "signal"
	case EffectRemoveSandbox:
		return "remove-sandbox"
	case EffectCloseStream:
		return "close-stream"
	}
	return "effect-" + strconv.Itoa(int(k))
}

// Effect is something the shell does to the machine.
type Effect struct {
	Kind   EffectKind
	Task   TaskKey
	Start  *Start         // EffectStart
	Pid    int            // EffectSignal
	Signal syscall.Signal // EffectSignal: SIGTERM or SIGKILL
	Gen    uint64         // EffectCloseStream
	Reason string         // EffectCloseStream: why, for the log
}

// Start is how to start a task.
type Start struct {
	Container string // the cgroup's name: a valid isolation id
	Command   string // run with /bin/sh -c, unless Exec is given
	// Exec is an executable and its arguments to run with no shell
	// (Mesos' shell false): the command's value, then its arguments
	// after argv[0].
	Exec   []string
	Limits Limits
	// User is who the task runs as: its command's user, else its
	// framework's, else Config.TaskUser.
	User string
	Env  []api.EnvVariable // the command's own environment, then its GPU devices' (gpuEnv)
}

// Limits are a task's cgroup limits.
type Limits struct {
	CPUs   float64 // cores, at least MinCPUs
	MemMiB float64 // at least MinMemMiB
	Pids   int64
}

// Message is a call to post to the master. A SUBSCRIBE opens the event
// stream of generation Gen; the others are posted on their own, and their
// HTTP status reported back with Posted.
type Message struct {
	Gen  uint64
	Call api.AgentCall
}

// Ready is what the core asks its shell to do, in order: persist the
// Checkpoint writes (fsynced), then perform the Effects, then send the
// Messages.
type Ready struct {
	Checkpoint []Write
	Effects    []Effect
	Messages   []Message
}

// Empty says whether there is nothing to do.
func (r Ready) Empty() bool {
	return len(r.Checkpoint) == 0 && len(r.Effects) == 0 && len(r.Messages) == 0
}

// PostResult is the outcome of a posted call: its generation, its type
// and the HTTP status (0: no answer, e.g. a refused connection).
type PostResult struct {
	Gen  uint64
	Type string
	Code int
}

// Exit is how a task's process ended: its exit code (a signal is
// 128+signal, as a shell reports it; -1: unknown) and whether the kernel's
// OOM killer struck in its cgroup.
type Exit struct {
	Code int
	OOM  bool
}

// Recovery is what the shell found in the work directory when it started.
type Recovery struct {
	Tasks     []Recovered
	Sandboxes []Sandbox // sandboxes of no checkpointed task, to collect
}

// Recovered is a checkpointed task and what became of its process.
type Recovered struct {
	Record Record
	Alive  bool // its process (pid and start ticks) still runs; the shell watches it
	Exit   Exit // when not alive: from its exit file (-1: none) and its cgroup
}

// Sandbox is a task's sandbox directory and when it last changed.
type Sandbox struct {
	Task     TaskKey
	Modified time.Time
}

// TaskView is a task as the agent's /state shows it.
type TaskView struct {
	Key       TaskKey
	Name      string
	State     string
	Pid       int
	Container string
	Unacked   int
}
