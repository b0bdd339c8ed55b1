package core

import (
	"cmp"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Framework is a framework the registry knows, with what the leader
// knows of its connection.
type Framework struct {
	FrameworkRecord
	Tasks map[string]*Task // not completed: running, or ended and not yet acknowledged
	Done  []*Task          // completed, the last Limits.Retain, oldest first

	// The leader's, rebuilt after a failover.
	stream       string // the subscription's stream; "" while disconnected
	disconnected time.Time
	suppressed   map[string]bool
}

// Agent is an agent the registry knows, with what the leader knows of its
// connection.
type Agent struct {
	AgentRecord
	total     allocator.Resources // as it registered
	effective allocator.Resources // total with its dynamic reservations (Total)
	reserved  map[reservationKey]allocator.Resources
	executors map[execKey]*Executor
	Tasks     map[taskKey]*Task

	// The leader's, rebuilt after a failover.
	stream      string // the agent's event stream; "" while disconnected
	lastSeen    time.Time
	unreachable time.Time // when it became unreachable
	inAlloc     bool      // added to the allocator (connected, active)
}

// Task is a task the registry knows.
type Task struct {
	TaskRecord
	State, Reason, Message string
	Updated                time.Time
	KillAsked              bool // kills are sent again when the agent re-registers
	History                []Transition

	fw    *Framework
	exec  *Executor // its task group's, if it is in one
	res   allocator.Resources
	frag  []byte // the task's JSON in /state
	stale bool   // frag must be written again

	mesos [2][]byte // its JSON in /master/state and the v1 API (mesos.go); refresh empties them

	// The leader's, rebuilt after a failover.
	charged     bool     // its resources are charged in the allocator
	statusUUID  api.UUID // the update last forwarded, which an ACKNOWLEDGE names
	statusState string
	acked       []api.UUID // uuids the framework acknowledged: sent again late, they are not forwarded
}

func newAgent() *Agent {
	return &Agent{Tasks: map[taskKey]*Task{}, reserved: map[reservationKey]allocator.Resources{}, executors: map[execKey]*Executor{}}
}

// Transition is one state a task went through.
type Transition struct {
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

type taskKey struct{ fw, task string }

// Agent and task states.
const (
	AgentActive      = "active"
	AgentUnreachable = "unreachable"
	AgentGone        = "gone" // unreachable past the unreachable timeout

	TaskStaging     = "TASK_STAGING"
	TaskStarting    = "TASK_STARTING"
	TaskRunning     = "TASK_RUNNING"
	TaskKilling     = "TASK_KILLING"
	TaskFinished    = "TASK_FINISHED"
	TaskFailed      = "TASK_FAILED"
	TaskKilled      = "TASK_KILLED"
	TaskError       = "TASK_ERROR"
	TaskLost        = "TASK_LOST"
	TaskDropped     = "TASK_DROPPED"
	TaskGone        = "TASK_GONE"
	TaskUnreachable = "TASK_UNREACHABLE"
	TaskUnknown     = "TASK_UNKNOWN"
)

// Terminal reports whether a task state is final.
func Terminal(state string) bool {
	switch state {
	case TaskFinished, TaskFailed, TaskKilled, TaskLost, TaskError, TaskDropped, TaskGone:
		return true
	}
	return false
}

// agentStates are the states an agent may report of a task.
var agentStates = map[string]bool{TaskStarting: true, TaskRunning: true, TaskKilling: true, TaskFinished: true,
	TaskFailed: true, TaskKilled: true, TaskError: true, TaskLost: true, TaskDropped: true, TaskGone: true, TaskStaging: true}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedTaskKeys[V any](m map[taskKey]V) []taskKey {
	keys := make([]taskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b taskKey) int { return cmp.Or(cmp.Compare(a.fw, b.fw), cmp.Compare(a.task, b.task)) })
	return keys
}

// bySeq sorts tasks in launch order.
func bySeq(ts []*Task) []*Task {
	slices.SortFunc(ts, func(a, b *Task) int { return cmp.Compare(a.Seq, b.Seq) })
	return ts
}
