package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
)

// launch applies a framework's launch on an offer: the tasks that fit start
// on the offer's agent, the rest of the offer goes back with the filter.
func (s *Sim) launch(f *fw, a action) {
	o, ok := s.alloc.Offer(a.offer)
	if !ok || o.Framework != f.id {
		for _, t := range a.tasks {
			s.update(f, framework.Status{Task: t.ID, State: framework.TaskDropped, Reason: "offer-gone", Message: "the offer was rescinded or already used"})
		}
		return
	}
	left := append(s.left[:0], o.Resources...) // ours to take from in place
	take := framework.Take
	if scalars(left, false) {
		take = takeScalars
	}
	used := s.used[:0]
	var start []*task
	ag := s.agents[o.Agent]
	for _, t := range a.tasks {
		rest, taken, fits := take(left, t.Resources)
		if !fits {
			s.update(f, framework.Status{Task: t.ID, Agent: string(o.Agent), State: framework.TaskError, Reason: "too-large",
				Message: fmt.Sprintf("task asks for %s, more than the %s left of the offer", t.Resources, left)})
			continue
		}
		left, used = rest, addIn(used, taken)
		start = append(start, &task{id: t.ID, f: f, agent: ag, res: taken, job: t.Job})
	}
	_ = s.alloc.Accept(a.offer, used, a.refuse, s.clock()) // fits by construction; it keeps no part of used
	clear(used)
	s.used = used
	clear(left)
	s.left = left[:0]
	for i, t := range start {
		s.startTask(t, a.tasks[i].Duration)
	}
}

// scalars reports whether r holds only unreserved scalar amounts, each of
// its own name, and, if positive, only amounts above zero.
func scalars(r allocator.Resources, positive bool) bool {
	for i, e := range r {
		if e.Role != "" || e.Device != "" || positive && e.Value <= 0 {
			return false
		}
		for _, prev := range r[:i] {
			if prev.Name == e.Name {
				return false
			}
		}
	}
	return true
}

// takeScalars is framework.Take for have of unreserved scalars, one entry a
// name (scalars), which it takes from in place. For a need of positive
// unreserved scalars it takes exactly need (and returns it as what it
// took) or nothing; Take does the rest.
func takeScalars(have, need allocator.Resources) (rest, taken allocator.Resources, ok bool) {
	if !scalars(need, true) {
		return framework.Take(have, need)
	}
	for _, e := range need {
		if i := indexName(have, e.Name); i < 0 || have[i].Value < e.Value {
			return have, nil, false
		}
	}
	for _, e := range need {
		have[indexName(have, e.Name)].Value -= e.Value
	}
	return slices.DeleteFunc(have, func(e allocator.Resource) bool { return e.Value == 0 }), need, true
}

func indexName(r allocator.Resources, name string) int {
	return slices.IndexFunc(r, func(e allocator.Resource) bool { return e.Name == name })
}

// addIn adds r to the bag sum, in place where it has room: Resources.Add
// without a copy.
func addIn(sum, r allocator.Resources) allocator.Resources {
	for _, e := range r {
		i := slices.IndexFunc(sum, func(h allocator.Resource) bool { return h.Name == e.Name && h.Role == e.Role && h.Device == e.Device })
		switch {
		case e.Value == 0:
		case i >= 0:
			sum[i].Value += e.Value
		default:
			sum = append(sum, e)
		}
	}
	return sum
}

func (s *Sim) startTask(t *task, d time.Duration) {
	t.slot = len(t.agent.tasks)
	t.agent.tasks = append(t.agent.tasks, t)
	t.f.stats.tasks++
	s.lastStart = s.eng.Now()
	if d >= 0 {
		t.ends = true
		s.finite++
	}
	t.rec = s.rec.taskStarted(t.f.id, t.job, t.res)
	s.update(t.f, framework.Status{Task: t.id, Agent: string(t.agent.id), State: framework.TaskRunning})
	if d < 0 {
		return // runs until killed or lost
	}
	end, state := d, framework.TaskFinished
	if s.cfg.TaskFailure > 0 && s.rng.Float64() < s.cfg.TaskFailure {
		end, state = time.Duration(s.rng.Float64()*float64(d)), framework.TaskFailed
	}
	s.eng.After(end, func() { s.endTask(t, state, "") })
}

// endTask stops a task, returns its resources and tells its framework.
func (s *Sim) endTask(t *task, state framework.State, reason string) {
	if t.done {
		return
	}
	t.done = true
	if t.ends {
		s.finite--
	}
	t.agent.drop(t)
	if state != framework.TaskLost {
		_ = s.alloc.ReleaseRef(t.f.ref, t.agent.ref, t.res) // held by construction
	}
	s.rec.taskEnded(t.f.id, t.rec, t.res, state)
	s.update(t.f, framework.Status{Task: t.id, Agent: string(t.agent.id), State: state, Reason: reason})
}

// drop removes t from the agent's running tasks.
func (a *simAgent) drop(t *task) {
	last := a.tasks[len(a.tasks)-1]
	a.tasks[t.slot], last.slot = last, t.slot
	a.tasks[len(a.tasks)-1] = nil
	a.tasks = a.tasks[:len(a.tasks)-1]
}

// kill ends the framework's running task of the id. It looks the task up
// agent by agent: no scheduler kills often, and a map of the running tasks
// by id would cost every task a hashed insert and delete.
func (s *Sim) kill(f *fw, id framework.TaskID) {
	t := s.running(f, id)
	if t == nil {
		s.update(f, framework.Status{Task: id, State: framework.TaskLost, Reason: "unknown-task"})
		return
	}
	s.endTask(t, framework.TaskKilled, "killed")
}

// running returns the framework's running task of the id, or nil.
func (s *Sim) running(f *fw, id framework.TaskID) *task {
	for _, ag := range s.order {
		for _, t := range ag.tasks {
			if t.f == f && t.id == id {
				return t
			}
		}
	}
	return nil
}

func (s *Sim) update(f *fw, st framework.Status) {
	f.call(func() { f.sched.Update(f, st) })
}

// removeAgent takes an agent away: its offers are rescinded and its tasks
// reported lost.
func (s *Sim) removeAgent(id allocator.AgentID) error {
	ag := s.agents[id]
	if ag == nil {
		return fmt.Errorf("remove agent %s: no such agent", id)
	}
	rescinded, err := s.alloc.RemoveAgent(id)
	if err != nil {
		return err
	}
	for _, o := range rescinded {
		s.rescinded(o)
	}
	lost := slices.Clone(ag.tasks)
	slices.SortFunc(lost, func(x, y *task) int { return cmp.Or(cmp.Compare(x.f.id, y.f.id), cmp.Compare(x.id, y.id)) })
	for _, t := range lost {
		s.endTask(t, framework.TaskLost, "agent-removed")
	}
	delete(s.agents, id)
	if ag.attrs != nil {
		s.withAttrs--
	}
	s.order = slices.DeleteFunc(s.order, func(a *simAgent) bool { return a == ag })
	s.rec.capacity(ag.res, -1)
	clear(s.shapes)
	return nil
}

// submitted records a job's arrival, or says it can never run: no agent the
// framework's role may use can hold its largest task, or its gang is larger
// than all of them together.
func (s *Sim) submitted(f *fw, j framework.JobInfo) error {
	shapes := s.shapesFor(f.role)
	fits := slices.ContainsFunc(shapes, func(r allocator.Resources) bool { return r.Contains(j.Largest.Flatten()) })
	reason := ""
	switch {
	case !fits:
		reason = fmt.Sprintf("no agent can hold a task of %s", j.Largest)
	case !j.Gang.IsEmpty() && !s.capacityFor(f.role).Contains(j.Gang.Flatten()):
		reason = fmt.Sprintf("its %d tasks together need %s, more than the cluster", j.Tasks, j.Gang)
	}
	s.rec.jobSubmitted(f.id, j, reason)
	if reason != "" {
		return fmt.Errorf("job %s is unschedulable: %s", j.ID, reason)
	}
	return nil
}

// shapesFor returns the distinct totals of the agents role may use, what of
// them it may use (unreserved, and reservations for it or an ancestor).
func (s *Sim) shapesFor(role string) []allocator.Resources {
	if sh, ok := s.shapes[role]; ok {
		return sh
	}
	var out []allocator.Resources
	for _, ag := range s.order {
		r := usable(ag.res, role, s.alloc.Admits(role, ag.id)).Flatten()
		if !slices.ContainsFunc(out, r.Equal) {
			out = append(out, r)
		}
	}
	s.shapes[role] = out
	return out
}

func (s *Sim) capacityFor(role string) allocator.Resources {
	var total allocator.Resources
	for _, ag := range s.order {
		total = total.Add(usable(ag.res, role, s.alloc.Admits(role, ag.id)))
	}
	return total.Flatten()
}

func usable(res allocator.Resources, role string, admitted bool) allocator.Resources {
	var out allocator.Resources
	for _, e := range res {
		if e.Role == "" && admitted || e.Role != "" && allocator.IsWithin(role, e.Role) {
			out = append(out, e)
		}
	}
	return out
}

func traceResources(r allocator.Resources) traces.Resources {
	return traces.Resources{CPUs: r.Sum("cpus").Float(), MemMiB: r.Sum("mem").Float(), DiskMiB: r.Sum("disk").Float(), GPUs: r.Sum("gpus").Float()}
}

func sortJobs(jobs traces.Jobs) {
	slices.SortStableFunc(jobs, func(x, y *traces.Job) int {
		switch {
		case x.Submit < y.Submit:
			return -1
		case x.Submit > y.Submit:
			return 1
		}
		return 0
	})
}

// machineEvents schedules the config's machine events, in time order.
func (s *Sim) machineEvents() {
	s.machinesPending = len(s.cfg.MachineEvents)
	for _, e := range s.cfg.MachineEvents {
		spec := agentSpec{name: e.Name, res: e.Resources.Resources, attrs: e.Attributes}
		kind := e.Kind
		s.eng.At(time.Duration(e.At), func() {
			s.machinesPending--
			var err error
			if kind != "add" {
				err = s.removeAgent(allocator.AgentID(spec.name))
			}
			if err == nil && kind != "remove" {
				err = s.addAgent(spec)
			}
			if err != nil {
				s.rec.machineError(err)
			}
		})
	}
}
