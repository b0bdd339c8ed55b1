package traces

import (
	"io"
	"time"
)

// Resources are what one task asks for, in apron's units: CPUs in cores,
// memory and disk in MiB, GPUs in devices (a fraction is a share of one).
type Resources struct {
	CPUs    float64
	MemMiB  float64
	DiskMiB float64
	GPUs    float64
	// GPUDevices, when set, is how many GPU devices GPUs is spread over
	// evenly: 1 with GPUs below 1 is a fraction of one device (openb's GPU
	// sharing), otherwise whole devices. 0 says nothing of devices.
	GPUDevices int
}

// Task is one task of a job.
type Task struct {
	Resources Resources
	Duration  time.Duration
	// Censored: the trace window cut the task off, so Duration is a lower
	// bound rather than an observation.
	Censored bool
	// Count is how many identical tasks this entry stands for: the
	// processors of an SWF job, the replicas of a CSV row. Zero means one.
	Count int
	// GPUModels are the GPU models the task may run on, joined by '|'
	// (openb's gpu_spec); empty means any.
	GPUModels string
}

// N is how many tasks t stands for: Count, or 1 when Count is zero.
func (t Task) N() int { return max(t.Count, 1) }

// TaskCount is how many tasks j has, counting every entry's Count.
func (j *Job) TaskCount() int {
	n := 0
	for _, t := range j.Tasks {
		n += t.N()
	}
	return n
}

// Job is a unit of submission: a set of tasks submitted together.
type Job struct {
	ID       string
	Submit   time.Duration // since the start of the trace
	User     string
	Group    string // queue, virtual cluster or priority band
	Priority int
	Tasks    []Task
	// After makes the job closed-loop: it follows the job of that ID (as
	// SWF's preceding job, field 17) and is submitted Think (SWF field 18)
	// after the later of that job's end and its own Submit. Submit then
	// places it in the stream, which must hold its predecessor earlier;
	// a predecessor that is not running when the stream reaches the job
	// (it ended, was never there, or belongs to another framework) counts
	// as ended. Generators give a closed-loop job its predecessor's Submit,
	// so that it is submitted exactly Think after the predecessor ends.
	After string
	Think time.Duration

	// Requested is the run time the job asked for, the estimate a
	// backfilling scheduler plans with (SWF field 9); 0 when the trace
	// gives none.
	Requested time.Duration
	// Waited is how long the job waited on the traced system, from submit
	// to start (SWF field 3), to compare a simulated schedule with the
	// real one; nil when the trace does not record it. Simulations never
	// read it. apron's native formats carry neither field.
	Waited *time.Duration
}

// Source streams jobs in submit-time order. Next returns io.EOF after the
// last job.
type Source interface {
	Next() (*Job, error)
}

// Machine is one machine of a cluster.
type Machine struct {
	ID         string
	Capacity   Resources
	Attributes map[string]string
}

// MachineEventKind says what happened to a machine.
type MachineEventKind int

// Machine events.
const (
	MachineAdd MachineEventKind = iota
	MachineRemove
	MachineUpdate // new capacity or attributes
)

// MachineEvent is a change of the cluster at a time since the trace start.
type MachineEvent struct {
	At      time.Duration
	Kind    MachineEventKind
	Machine Machine
}

// Jobs is a Source over jobs held in memory, for tests and small
// generated workloads.
type Jobs []*Job

// Source returns a Source over the jobs, which must be in submit order.
func (j Jobs) Source() Source { return &jobSource{jobs: j} }

type jobSource struct {
	jobs Jobs
	next int
}

func (s *jobSource) Next() (*Job, error) {
	if s.next >= len(s.jobs) {
		return nil, io.EOF
	}
	s.next++
	return s.jobs[s.next-1], nil
}
