package sim

import (
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
)

// Metrics writes a run directory from events reported from outside the
// simulator, the files and columns a simulated run writes: the live
// backend feeds it what a live master reports, so simulated and live runs
// are read, aggregated and plotted alike. Its methods are safe for
// concurrent use.
type Metrics struct {
	mu      sync.Mutex
	rec     *recorder
	out     *outputs
	running map[[2]string]running
}

type running struct {
	job *jobRec
	res allocator.Resources
}

// NewMetrics starts a run directory; now is the run's clock.
func NewMetrics(dir string, now func() time.Duration) (*Metrics, error) {
	out, err := createOutputs(dir)
	if err != nil {
		return nil, err
	}
	m := &Metrics{rec: newRecorder(now), out: out, running: map[[2]string]running{}}
	m.rec.open(out.ts, out.jobs)
	return m, nil
}

// Framework adds a framework, in the order its summary comes.
func (m *Metrics) Framework(name, role string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec.framework(allocator.FrameworkID(name), role)
}

// Capacity adds (sign +1) or removes (-1) an agent's resources.
func (m *Metrics) Capacity(res allocator.Resources, sign float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec.capacity(res, sign)
}

// Submitted records a job's arrival; unschedulable says why it can never
// run, if it cannot.
func (m *Metrics) Submitted(fw string, j framework.JobInfo, unschedulable string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec.jobSubmitted(allocator.FrameworkID(fw), j, unschedulable)
}

// Started records a task of job starting with res.
func (m *Metrics) Started(fw, task, job string, res allocator.Resources) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{fw, task}
	if _, dup := m.running[k]; dup {
		return
	}
	m.running[k] = running{job: m.rec.taskStarted(allocator.FrameworkID(fw), job, res), res: res}
}

// Ended records a task that ended in state; one never started is ignored.
func (m *Metrics) Ended(fw, task string, state framework.State) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{fw, task}
	r, ok := m.running[k]
	if !ok {
		return
	}
	delete(m.running, k)
	m.rec.taskEnded(allocator.FrameworkID(fw), r.job, r.res, state)
}

// Sample writes one sample of the allocation.
func (m *Metrics) Sample(v AllocView) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec.sample(v)
}

// Finish writes the jobs still running as incomplete, frameworks.csv,
// summary.json and man as manifest.json. span is the run's length;
// stats are the frameworks', in the order added.
func (m *Metrics) Finish(complete bool, span time.Duration, agents int, stats []FwStats, man Manifest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.out.close()
	m.rec.finish()
	if err := m.rec.err(); err != nil {
		return err
	}
	return m.out.finish(m.rec.summary(complete, span, 0, agents, stats), stats, man)
}
