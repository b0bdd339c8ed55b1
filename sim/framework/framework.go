package framework

import (
	"time"

	"github.com/apronlab/apron/allocator"
)

// OfferID names an offer.
type OfferID string

// TaskID names a task; a framework chooses its tasks' ids, unique within
// the framework.
type TaskID string

// Offer is resources of one agent offered to the framework in one role.
type Offer struct {
	ID         OfferID
	Agent      string
	Role       string
	Resources  allocator.Resources
	Attributes map[string]string
}

// Task is work to launch on an offer.
type Task struct {
	ID        TaskID
	Job       string // the job it belongs to, for accounting
	Resources allocator.Resources
	// Duration is how long the task runs: the simulator runs it that long,
	// the live runtime burns its resources that long. Forever (any
	// negative duration) runs until killed; 0 ends at once.
	Duration time.Duration
	// Command, if set, is what the live runtime runs instead of burning.
	Command string
}

// Forever is the Duration of a task that runs until it is killed, such as
// a service's.
const Forever time.Duration = -1

// State is a task's state, as in Mesos.
type State string

// Task states.
const (
	TaskStarting State = "TASK_STARTING"
	TaskRunning  State = "TASK_RUNNING"
	TaskFinished State = "TASK_FINISHED"
	TaskFailed   State = "TASK_FAILED"
	TaskKilled   State = "TASK_KILLED"
	TaskLost     State = "TASK_LOST"
	TaskError    State = "TASK_ERROR"   // the launch was invalid
	TaskDropped  State = "TASK_DROPPED" // the offer was gone
	// TaskGone: the task's agent was unreachable for so long that the
	// master gave it up (a partition-aware framework's TASK_LOST).
	TaskGone State = "TASK_GONE"
	// TaskUnreachable: the task's agent stopped answering; the task may
	// still run, and its true end follows if the agent comes back.
	TaskUnreachable State = "TASK_UNREACHABLE"
)

// Terminal reports whether a task in state s will never run again.
func (s State) Terminal() bool {
	switch s {
	case TaskFinished, TaskFailed, TaskKilled, TaskLost, TaskError, TaskDropped, TaskGone:
		return true
	}
	return false
}

// Status is a task status update.
type Status struct {
	Task    TaskID
	Agent   string
	State   State
	Reason  string
	Message string
}

// Scheduler is a framework: the second-level scheduler. Calls come one at a
// time, never concurrently.
type Scheduler interface {
	// Subscribed is called once the framework is registered; the driver
	// stays valid for the framework's life.
	Subscribed(d Driver)
	// Offers hands the framework offers to launch tasks on or decline. An
	// offer neither used nor declined is held until the framework acts on
	// it, or it is rescinded. offers stays the driver's: the framework
	// copies what it keeps.
	Offers(d Driver, offers []Offer)
	// Rescinded says an offer was taken back.
	Rescinded(d Driver, id OfferID)
	// Update reports a change of a task's state.
	Update(d Driver, s Status)
}

// Driver is how a framework acts. The simulator applies actions after the
// framework's decision time; a live master after the network.
type Driver interface {
	// Now is the time since the framework subscribed's clock started:
	// virtual in the simulator, wall time live.
	Now() time.Duration
	// Launch starts tasks on one offer; whatever the tasks leave of the
	// offer goes back with a filter of refuse (0: the master's default).
	// tasks stays the framework's: the driver copies what it keeps.
	Launch(offer OfferID, tasks []Task, refuse time.Duration)
	// Decline returns an offer whole, with a filter of refuse.
	Decline(offer OfferID, refuse time.Duration)
	// Suppress stops offers until Revive; Revive also clears filters.
	Suppress()
	Revive()
	// Kill stops a running task.
	Kill(id TaskID)
	// After calls fn, as a callback of this framework, d from now.
	After(d time.Duration, fn func())
	// Submitted tells the driver a job arrived, for its accounting; an error
	// says the job can never run (no agent could hold one of its tasks, or
	// a gang is larger than the cluster), and the framework drops it.
	Submitted(j JobInfo) error
}

// JobInfo describes a job as it arrives.
type JobInfo struct {
	ID      string
	Tasks   int
	Longest time.Duration       // its longest task: the job's ideal run time
	Largest allocator.Resources // the most any one task asks for, by name
	Gang    allocator.Resources // all its tasks together, if they must start together
}
