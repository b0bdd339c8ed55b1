package sim

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
)

// recorder keeps the metrics of a run incrementally: no event scans the
// agents. Time series are sampled every sample interval and streamed out;
// a job's row is written when its last task ends.
type recorder struct {
	now    func() time.Duration
	fws    []fwMeta      // in the order added
	names  []string      // resource names, sorted
	gauges []*gauge      // in the order added
	last   time.Duration // time of the last change of used
	makesp time.Duration // when the last task ended
	jobs   map[jobKey]*jobRec
	perFw  map[allocator.FrameworkID]*fwRec
	ts, js *csv.Writer
	werr   error

	machineErrs     int
	firstMachineErr error
}

// gauge follows one resource of the cluster.
type gauge struct {
	name        string
	total, used float64
	area        float64 // integral of used over time
}

type jobKey struct {
	fw allocator.FrameworkID
	id string
}

type fwMeta struct {
	id   allocator.FrameworkID
	role string
}

type jobRec struct {
	fw          allocator.FrameworkID
	id          string
	submit      time.Duration
	first, last time.Duration
	started     bool
	finished    bool // written out
	tasks, done int
	failed      int
	longest     time.Duration
}

type fwRec struct {
	used                           []allocator.Resource // by resource name, summed over roles
	jobs, completed, unschedulable int
	waits, completions, slowdowns  []float64
	reasons                        map[string]int
}

func newRecorder(now func() time.Duration) *recorder {
	return &recorder{now: now, jobs: map[jobKey]*jobRec{}, perFw: map[allocator.FrameworkID]*fwRec{}}
}

func (r *recorder) framework(id allocator.FrameworkID, role string) {
	r.fws = append(r.fws, fwMeta{id, role})
	r.perFw[id] = &fwRec{reasons: map[string]int{}}
}

// find returns the gauge of a resource, or nil. A cluster has a few
// resources: a scan is cheaper than a map.
func (r *recorder) find(name string) *gauge {
	for _, g := range r.gauges {
		if g.name == name {
			return g
		}
	}
	return nil
}

// gauge returns the gauge of a resource, adding it when it is new.
func (r *recorder) gauge(name string) *gauge {
	g := r.find(name)
	if g == nil {
		g = &gauge{name: name}
		r.gauges = append(r.gauges, g)
		i, _ := slices.BinarySearch(r.names, name)
		r.names = slices.Insert(r.names, i, name)
	}
	return g
}

func (r *recorder) capacity(res allocator.Resources, sign float64) {
	for _, e := range res {
		r.gauge(e.Name).total += sign * e.Value.Float()
	}
}

// open starts the streamed outputs.
func (r *recorder) open(ts, jobs io.Writer) {
	r.ts, r.js = csv.NewWriter(ts), csv.NewWriter(jobs)
	r.write(r.ts, "time_s", "metric", "key", "value")
	r.write(r.js, "framework", "job", "submit_s", "first_start_s", "last_end_s", "wait_s", "completion_s", "slowdown", "tasks", "failed_tasks", "status")
}

func (r *recorder) write(w *csv.Writer, fields ...string) {
	if w == nil || r.werr != nil {
		return
	}
	r.werr = w.Write(fields)
}

func num(v float64) string        { return strconv.FormatFloat(v, 'g', -1, 64) }
func secs(d time.Duration) string { return num(d.Seconds()) }

// AllocView is what a sample reads of the allocation: the simulator's
// allocator, or a live master's /state.
type AllocView interface {
	Allocated() allocator.Resources
	Total() allocator.Resources
	FrameworkAllocation(id allocator.FrameworkID) allocator.Resources
	Roles() []allocator.RoleView
}

func (r *recorder) sample(v AllocView) {
	now := secs(r.now())
	alloc := v.Allocated()
	for _, name := range r.names {
		g := r.find(name)
		r.write(r.ts, now, "total", name, num(g.total))
		r.write(r.ts, now, "allocated", name, num(alloc.Sum(name).Float()))
		r.write(r.ts, now, "used", name, num(g.used))
	}
	total := v.Total()
	for _, f := range r.fws {
		r.write(r.ts, now, "framework_share", string(f.id), num(v.FrameworkAllocation(f.id).DominantShare(total)))
		r.write(r.ts, now, "framework_used_share", string(f.id), num(r.perFw[f.id].usedShare(total)))
	}
	for _, role := range v.Roles() {
		r.write(r.ts, now, "role_share", role.Name, num(role.DominantShare))
	}
}

func (r *recorder) changeUsed(res allocator.Resources, sign float64) {
	now := r.now()
	dt := (now - r.last).Seconds()
	for _, g := range r.gauges {
		g.area += g.used * dt
	}
	r.last = now
	for _, e := range res {
		r.find(e.Name).used += sign * e.Value.Float()
	}
}

// use adds sign times res to what the framework's tasks use.
func (fr *fwRec) use(res allocator.Resources, sign allocator.Quantity) {
	for _, e := range res {
		i := slices.IndexFunc(fr.used, func(u allocator.Resource) bool { return u.Name == e.Name })
		if i < 0 {
			i = len(fr.used)
			fr.used = append(fr.used, allocator.Resource{Name: e.Name})
		}
		fr.used[i].Value += sign * e.Value
	}
}

// usedShare is the largest fraction of total that the framework's tasks
// use of any one resource.
func (fr *fwRec) usedShare(total allocator.Resources) float64 {
	share := 0.0
	for _, u := range fr.used {
		if t := total.Sum(u.Name); t > 0 {
			share = max(share, u.Value.Float()/t.Float())
		}
	}
	return share
}

func (r *recorder) jobSubmitted(f allocator.FrameworkID, j framework.JobInfo, unschedulable string) {
	fr := r.perFw[f]
	fr.jobs++
	if unschedulable != "" {
		fr.unschedulable++
		fr.reasons[unschedulable]++
		now := secs(r.now())
		r.write(r.js, string(f), j.ID, now, "", "", "", "", "", strconv.Itoa(j.Tasks), "0", "unschedulable")
		return
	}
	r.jobs[jobKey{f, j.ID}] = &jobRec{fw: f, id: j.ID, submit: r.now(), tasks: j.Tasks, longest: j.Longest}
}

// taskStarted records a task of job starting and returns the job's record
// (nil if the job is not known), to hand back when the task ends.
func (r *recorder) taskStarted(f allocator.FrameworkID, job string, res allocator.Resources) *jobRec {
	r.changeUsed(res, +1)
	r.perFw[f].use(res, +1)
	j := r.jobs[jobKey{f, job}]
	if j != nil && !j.started {
		j.started, j.first = true, r.now()
	}
	return j
}

func (r *recorder) taskEnded(f allocator.FrameworkID, j *jobRec, res allocator.Resources, state framework.State) {
	r.changeUsed(res, -1)
	r.perFw[f].use(res, -1)
	r.makesp = r.now()
	if j == nil || j.finished || state == framework.TaskLost || state == framework.TaskGone || state == framework.TaskDropped {
		return // a lost task runs again; the job goes on
	}
	j.done++
	if state == framework.TaskFailed {
		j.failed++
	}
	if j.done >= j.tasks {
		j.last = r.now()
		r.jobDone(j, "completed")
		j.finished = true
		delete(r.jobs, jobKey{f, j.id})
	}
}

func (r *recorder) jobDone(j *jobRec, status string) {
	fr := r.perFw[j.fw]
	if status != "completed" {
		r.write(r.js, string(j.fw), j.id, secs(j.submit), optSecs(j.started, j.first), "", optSecs(j.started, j.first-j.submit), "", "", strconv.Itoa(j.tasks), strconv.Itoa(j.failed), status)
		return
	}
	wait, jct := (j.first - j.submit).Seconds(), (j.last - j.submit).Seconds()
	slow := math.NaN()
	if j.longest > 0 {
		slow = jct / j.longest.Seconds()
		fr.slowdowns = append(fr.slowdowns, slow)
	}
	fr.completed++
	fr.waits = append(fr.waits, wait)
	fr.completions = append(fr.completions, jct)
	r.write(r.js, string(j.fw), j.id, secs(j.submit), secs(j.first), secs(j.last), num(wait), num(jct), optNum(slow), strconv.Itoa(j.tasks), strconv.Itoa(j.failed), status)
}

func optSecs(ok bool, d time.Duration) string {
	if !ok {
		return ""
	}
	return secs(d)
}

func optNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return num(v)
}

// finish closes the integrals and writes the jobs still running.
func (r *recorder) finish() {
	r.changeUsed(nil, 0)
	keys := make([]jobKey, 0, len(r.jobs))
	for k := range r.jobs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y jobKey) int { return cmp.Or(cmp.Compare(x.fw, y.fw), cmp.Compare(x.id, y.id)) })
	for _, k := range keys {
		r.jobDone(r.jobs[k], "incomplete")
	}
	for _, w := range []*csv.Writer{r.ts, r.js} {
		if w != nil {
			w.Flush()
			if r.werr == nil {
				r.werr = w.Error()
			}
		}
	}
}

// machineError counts a machine event that could not apply (an agent
// removed twice, added twice).
func (r *recorder) machineError(err error) {
	r.machineErrs++
	if r.firstMachineErr == nil {
		r.firstMachineErr = err
	}
}

func (r *recorder) err() error {
	if r.werr != nil {
		return fmt.Errorf("writing results: %w", r.werr)
	}
	return nil
}
