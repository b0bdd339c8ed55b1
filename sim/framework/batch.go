package framework

import (
	"cmp"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/traces"
)

// BatchConfig shapes a batch framework.
type BatchConfig struct {
	// Gang makes jobs rigid (MPI or Torque like): a job starts only when all
	// its tasks can start at once; the framework holds offers while it
	// gathers enough, for at most HoldLimit. Otherwise jobs are elastic
	// (Hadoop or Spark like): tasks start as resources come.
	Gang      bool
	HoldLimit time.Duration
	// Backfill is how rigid jobs may start ahead of one that does not fit
	// (none, EASY or conservative; see Backfill).
	Backfill Backfill
	// Delay turns on delay scheduling: a task's data is placed on Replicas
	// agents drawn from Agents, and a job waits up to Delay since it last
	// launched for an offer on one of them before it launches anywhere.
	Delay    time.Duration
	Replicas int
	Agents   []string
	// Refuse is the filter on declined offers; 0 means the master's default.
	Refuse time.Duration
	// IdleRefuse, if set, changes what the framework does with nothing to
	// launch: instead of suppressing offers (and reviving, which clears
	// every filter, when a job arrives) it declines them with this long
	// filter, as Spark on Mesos does (spark.mesos.rejectOfferDuration). New
	// work then runs on resources as they free up; a job none of whose
	// tasks has started after ReviveAfter (default 30s) revives.
	IdleRefuse  time.Duration
	ReviveAfter time.Duration
	// Setup is how long a job takes to start before it launches any task
	// (Hadoop's job initialisation and setup task), counted in its time.
	Setup time.Duration
	Seed  uint64
	// Placement, if set, names a Placement (see Placements) that places
	// elastic jobs' tasks over every offer held at once (and their GPUs on
	// devices); delay scheduling does not apply then.
	Placement string
}

// Batch is a batch framework fed by a stream of jobs, which it reads one at
// a time as their submit times come: the workload is never held whole.
// Elastic jobs share the framework's resources fairly (the job with the
// fewest running tasks goes first). A closed-loop job (traces.Job.After)
// waits for the job it follows to end, then for its think time.
type Batch struct {
	cfg     BatchConfig
	src     traces.Source
	rng     *rand.Rand
	d       Driver
	start   time.Duration
	queue   jobQueue // elastic jobs with tasks left to launch
	gangs   []*job   // rigid jobs in submit order
	running map[TaskID]launched
	held    []heldOffer
	seq     int
	done    bool // the source is exhausted
	err     error
	active  bool // not suppressed

	// Closed loop: the jobs received and not ended, by ID (counted, in case
	// of a repeated ID); the jobs waiting for the job of an ID to end; how
	// many jobs wait so, and how many are in their think time.
	live     map[string]int
	after    map[string][]*traces.Job
	parked   int
	thinking int
	starting int // jobs in their setup time
	// Backfilling's view of the resources: names indexes vecs; rigid are
	// the rigid jobs with tasks running, in start order; releasing is what
	// ended tasks freed, or consolidation gave back, and no offer has
	// brought back yet.
	names     []string
	rigid     []*job
	releasing vec

	spare offerFill // the buffers of the last offer filled

	placement Placement // nil unless BatchConfig.Placement names one
	shapes    []Shape   // the shapes of the tasks arrived, for a WorkloadAware placement
	shapesSet int       // how many of them it has

	// LocalityHits and LocalityTotal count launches on an agent that holds
	// the task's data, out of launches under delay scheduling.
	LocalityHits, LocalityTotal int
	// Dropped counts jobs the driver said can never run.
	Dropped int
}

type job struct {
	id      string
	submit  time.Duration
	pending []*pendingTask // into the array of its tasks, which the running map points into too
	running int
	last    time.Duration // when it last launched a task
	index   int           // in its group of the jobQueue; -1 when not queued
	group   *jobGroup     // its group in the jobQueue, while queued
	seq     int

	// Rigid jobs: plan is the job for backfilling passes; started is when
	// it started, holding what its running tasks hold.
	plan    planJob
	started time.Duration
	holding vec
}

type pendingTask struct {
	task  Task
	prefs []string // agents holding its data
}

type launched struct {
	job  *job
	task *pendingTask
}

type heldOffer struct {
	offer Offer
	since time.Duration
}

var _ Scheduler = (*Batch)(nil)

// NewBatch returns a batch framework that runs the jobs of src, whose
// submit times count from when the framework subscribes. With a nil src,
// jobs are pushed with Feed instead, and Close says there are no more.
func NewBatch(cfg BatchConfig, src traces.Source) *Batch {
	if cfg.Replicas == 0 {
		cfg.Replicas = 3
	}
	if cfg.ReviveAfter == 0 {
		cfg.ReviveAfter = 30 * time.Second
	}
	b := &Batch{cfg: cfg, src: src, rng: rand.New(rand.NewPCG(cfg.Seed, 0x62617463)), running: map[TaskID]launched{}, active: true,
		live: map[string]int{}, after: map[string][]*traces.Job{}}
	if cfg.Placement != "" && !cfg.Gang {
		b.placement, _ = NewPlacement(cfg.Placement, PlacementConfig{Seed: cfg.Seed}) // the caller checked the name
	}
	return b
}

// Err returns the error that stopped reading the job stream, if any.
func (b *Batch) Err() error { return b.err }

// Arrived reports whether every job has arrived (or the stream failed),
// but for closed-loop jobs waiting for a job of the framework to end.
func (b *Batch) Arrived() bool { return b.done && b.thinking == 0 && b.starting == 0 }

// Idle reports whether every job has been read and has finished.
func (b *Batch) Idle() bool {
	return b.done && b.queue.Len() == 0 && len(b.gangs) == 0 && len(b.running) == 0 && b.parked == 0 && b.thinking == 0 && b.starting == 0
}

func (b *Batch) Subscribed(d Driver) {
	b.d = d
	b.start = d.Now()
	b.settle() // no offers until the first job arrives
	if b.src != nil {
		b.readNext()
	}
}

// Feed hands the framework a job that arrives now, or, closed-loop, when
// the job it follows ends; call it as a callback of the framework (from
// the driver's event loop).
func (b *Batch) Feed(j *traces.Job) { b.receive(j) }

// Close says no job will be fed any more.
func (b *Batch) Close() {
	b.done = true
	b.settle()
}

// readNext reads the next job and schedules its arrival.
func (b *Batch) readNext() {
	j, err := b.src.Next()
	if err == io.EOF {
		b.done = true
		b.settle()
		return
	}
	if err != nil {
		b.err, b.done = err, true
		b.settle()
		return
	}
	b.d.After(max(0, b.start+j.Submit-b.d.Now()), func() {
		b.receive(j)
		b.readNext()
	})
}

// receive takes a job the stream reached: it arrives now, or, closed-loop,
// Think after the job it follows ends (at once if that job is not live).
func (b *Batch) receive(tj *traces.Job) {
	b.live[tj.ID]++
	switch {
	case tj.After != "" && b.live[tj.After] > 0 && tj.After != tj.ID:
		b.after[tj.After] = append(b.after[tj.After], tj)
		b.parked++
	case tj.After != "" && tj.Think > 0:
		b.think(tj)
	default:
		b.arrive(tj)
	}
}

// think makes a closed-loop job arrive after its think time.
func (b *Batch) think(tj *traces.Job) {
	b.thinking++
	b.d.After(tj.Think, func() {
		b.thinking--
		b.arrive(tj)
	})
}

// ended notes that a job ended (or was dropped): the jobs that follow it
// start their think time.
func (b *Batch) ended(id string) {
	if b.live[id]--; b.live[id] <= 0 {
		delete(b.live, id)
	}
	next := b.after[id]
	delete(b.after, id)
	for _, tj := range next {
		b.parked--
		b.think(tj)
	}
}

func (b *Batch) arrive(tj *traces.Job) {
	j := &job{id: tj.ID, submit: b.d.Now(), index: -1}
	info := JobInfo{ID: tj.ID, Tasks: tj.TaskCount()}
	tasks := make([]pendingTask, 0, info.Tasks)
	for _, t := range tj.Tasks {
		res := TaskResources(t)
		for range t.N() {
			b.noteShape(res)
			task := Task{ID: TaskID(tj.ID + "/" + strconv.Itoa(len(tasks))), Job: tj.ID, Resources: res, Duration: t.Duration}
			tasks = append(tasks, pendingTask{task: task, prefs: b.place()})
		}
		if b.cfg.Gang {
			info.Gang = info.Gang.Add(res.Times(t.N()))
		}
		info.Longest = max(info.Longest, t.Duration)
		info.Largest = maxEach(info.Largest, res)
	}
	j.pending = make([]*pendingTask, len(tasks))
	for k := range tasks {
		j.pending[k] = &tasks[k]
	}
	if err := b.d.Submitted(info); err != nil || len(j.pending) == 0 {
		if err != nil {
			b.Dropped++
		}
		b.ended(tj.ID)
		return
	}
	if b.cfg.Gang { // backfilling plans with the requested time, else the longest task's
		j.plan = planJob{need: b.vecOf(info.Gang), est: cmp.Or(tj.Requested, info.Longest), reserved: never}
	}
	if b.cfg.Setup <= 0 {
		b.enqueue(j)
		return
	}
	b.starting++
	b.d.After(b.cfg.Setup, func() {
		b.starting--
		b.enqueue(j)
	})
}

// enqueue makes a job's tasks wait for offers.
func (b *Batch) enqueue(j *job) {
	b.seq++
	j.seq = b.seq
	if b.cfg.Gang {
		b.gangs = append(b.gangs, j)
	} else {
		b.queue.push(j)
	}
	b.wake(j)
	if b.cfg.Gang && b.cfg.Backfill != BackfillNone && len(b.held) > 0 {
		b.startGangs() // it may start on what is held
	}
}

// wake asks for offers for a job that has tasks to launch: a suppressed
// framework revives; one that declines idle offers revives only if the job
// is still waiting for its first launch after ReviveAfter.
func (b *Batch) wake(j *job) {
	if b.cfg.IdleRefuse <= 0 {
		if !b.active {
			b.active = true
			b.d.Revive()
		}
		return
	}
	since := b.d.Now()
	b.d.After(b.cfg.ReviveAfter, func() {
		if len(j.pending) > 0 && j.last <= since {
			b.d.Revive()
		}
	})
}

// place draws the agents that hold a task's data.
func (b *Batch) place() []string {
	if b.cfg.Delay <= 0 || len(b.cfg.Agents) == 0 {
		return nil
	}
	n := min(b.cfg.Replicas, len(b.cfg.Agents))
	prefs := make([]string, 0, n)
	for _, i := range b.rng.Perm(len(b.cfg.Agents))[:n] {
		prefs = append(prefs, b.cfg.Agents[i])
	}
	return prefs
}

func (b *Batch) Offers(d Driver, offers []Offer) {
	if b.cfg.Gang {
		for _, o := range offers {
			b.held = append(b.held, heldOffer{o, d.Now()})
			b.releasing = b.releasing.floor(b.vecOf(o.Resources))
		}
		b.startGangs()
		b.consolidate()
		if len(b.held) > 0 && b.cfg.HoldLimit > 0 {
			d.After(b.cfg.HoldLimit, b.releaseStale)
		}
		return
	}
	if b.placement != nil {
		b.placeOffers(offers)
	} else {
		for _, o := range offers {
			b.fillOffer(o)
		}
	}
	b.settle()
}

// fillOffer launches on o the next tasks of the jobs with the fewest
// running tasks, as long as they fit.
func (b *Batch) fillOffer(o Offer) {
	f := b.newFill(o)
	if b.cfg.Delay > 0 && len(b.cfg.Agents) > 0 {
		b.fillDelayed(o, &f)
	} else {
		for g := b.queue.first(); g != nil; g = b.queue.first() {
			if b.take(&f, g.need) {
				b.launchNext(&f, g.jobs.s[0], 0, false)
			} else {
				b.queue.pass() // no job of the group fits now, nor will
			}
		}
		b.queue.unpass()
	}
	refuse := b.declineFilter()
	if !f.waited && b.cfg.IdleRefuse > 0 {
		// What is left fits none of the waiting tasks: filter it long. The
		// filter lapses as soon as the agent frees more than it refused.
		refuse = b.cfg.IdleRefuse
	}
	if len(f.launch) == 0 {
		b.d.Decline(o.ID, refuse)
	} else {
		b.d.Launch(o.ID, f.launch, refuse) // the driver copies what it keeps
	}
	clear(f.launch)
	b.spare = offerFill{free: f.free, launch: f.launch[:0]}
}

// offerFill is an offer being filled. While neither the offer nor a task
// taken from it has devices (or negative amounts), what is left is kept as
// sums by name (free, in the names of vecOf), which is all Take decides a
// fit by then: no allocation a try. left is what is left otherwise.
type offerFill struct {
	sums   bool
	free   vec
	left   allocator.Resources
	launch []Task // the tasks taken, in order
	waited bool   // delay scheduling passed over the offer for some job
}

// newFill starts filling o, in the buffers of the last offer filled.
func (b *Batch) newFill(o Offer) offerFill {
	f := offerFill{left: o.Resources, launch: b.spare.launch}
	if plain(o.Resources) {
		f.sums, f.free = true, b.vecIn(b.spare.free, o.Resources)
	}
	return f
}

// take takes need from what is left of the offer, as Take would, or
// reports false, taking nothing.
func (b *Batch) take(f *offerFill, need allocator.Resources) bool {
	if f.sums && plain(need) {
		return f.free.takeSums(b.names, need)
	}
	if f.sums { // what is left, entry by entry, as Take leaves it
		for _, t := range f.launch {
			f.left, _, _ = Take(f.left, t.Resources)
		}
		f.sums = false
	}
	rest, _, ok := Take(f.left, need)
	if ok {
		f.left = rest
	}
	return ok
}

// plain reports whether r has no device entry and no negative amount.
func plain(r allocator.Resources) bool {
	return !slices.ContainsFunc(r, func(e allocator.Resource) bool { return e.Device != "" || e.Value < 0 })
}

// takeSums takes need, which is plain, from v by name (names indexes v),
// or reports false, taking nothing, when v lacks any of it.
func (v vec) takeSums(names []string, need allocator.Resources) bool {
	for _, e := range need {
		i := slices.Index(names, e.Name)
		if e.Value > 0 && (i < 0 || sumOf(need, e.Name) > v.at(i)) {
			return false
		}
	}
	for _, e := range need {
		if e.Value > 0 {
			v[slices.Index(names, e.Name)] -= e.Value
		}
	}
	return true
}

// sumOf sums the amounts of r named name.
func sumOf(r allocator.Resources, name string) allocator.Quantity {
	var q allocator.Quantity
	for _, e := range r {
		if e.Name == name {
			q += e.Value
		}
	}
	return q
}

// fillDelayed fills o under delay scheduling, where the task a job launches
// depends on the agent: job by job in order.
func (b *Batch) fillDelayed(o Offer, f *offerFill) {
	var skipped []*job
	for g := b.queue.first(); g != nil; g = b.queue.first() {
		j := g.jobs.s[0]
		k, local := b.pick(j, o.Agent)
		if k < 0 {
			f.waited = true
		} else if b.take(f, j.pending[k].task.Resources) {
			b.launchNext(f, j, k, local)
			continue
		}
		b.queue.remove(j)
		skipped = append(skipped, j)
	}
	for _, j := range skipped {
		b.queue.push(j)
	}
}

// launchNext launches the pending task k of j, which is queued, on the offer
// being filled, and queues j again if it has tasks left.
func (b *Batch) launchNext(f *offerFill, j *job, k int, local bool) {
	b.countLocality(local)
	f.launch = append(f.launch, b.launchPending(j, k))
}

// launchPending records that the pending task k of j launches, and
// returns it.
func (b *Batch) launchPending(j *job, k int) Task {
	t := j.pending[k].task
	b.running[t.ID] = launched{j, j.pending[k]}
	j.pending = removeAt(j.pending, k)
	j.running++
	j.last = b.d.Now()
	b.queue.launched(j)
	return t
}

// removeAt removes p[k], keeping the order. The head, which is what is
// launched without delay scheduling, goes in O(1).
func removeAt(p []*pendingTask, k int) []*pendingTask {
	if k == 0 {
		p[0] = nil
		return p[1:]
	}
	return slices.Delete(p, k, k+1)
}

// pick returns which pending task of j to launch on agent and whether its
// data is there, or -1 when delay scheduling says wait: a task whose data is
// on agent first; any task once the job has waited Delay since it last
// launched.
func (b *Batch) pick(j *job, agent string) (int, bool) {
	if b.cfg.Delay <= 0 || len(b.cfg.Agents) == 0 {
		return 0, false
	}
	for k, p := range j.pending {
		if slices.Contains(p.prefs, agent) {
			return k, true
		}
	}
	if b.d.Now()-max(j.last, j.submit) >= b.cfg.Delay {
		return 0, false
	}
	return -1, false
}

func (b *Batch) countLocality(local bool) {
	if b.cfg.Delay > 0 && len(b.cfg.Agents) > 0 {
		b.LocalityTotal++
		if local {
			b.LocalityHits++
		}
	}
}

// startGangs starts the rigid jobs the backfilling policy allows on the
// held offers (without backfilling: in submit order while they fit); then
// declines the held offers if no job is waiting.
func (b *Batch) startGangs() {
	if len(b.gangs) > 0 {
		p := pass{now: b.d.Now(), queue: make([]*planJob, len(b.gangs))}
		for _, h := range b.held {
			p.free = p.free.plus(b.vecOf(h.offer.Resources), 1)
		}
		for k, j := range b.gangs {
			p.queue[k] = &j.plan
		}
		if b.cfg.Backfill != BackfillNone {
			p.rel = b.releases(p.now)
		}
		started := make([]bool, len(b.gangs))
		p.start = func(k int) bool {
			started[k] = b.launchGang(b.gangs[k])
			return started[k]
		}
		p.run(b.cfg.Backfill)
		waiting := b.gangs[:0]
		for k, j := range b.gangs {
			if !started[k] {
				waiting = append(waiting, j)
			}
		}
		clear(b.gangs[len(waiting):])
		b.gangs = waiting
	}
	if len(b.gangs) == 0 {
		for _, h := range b.held {
			b.d.Decline(h.offer.ID, b.declineFilter())
		}
		b.held = nil
		b.settle()
	}
}

// launchGang launches every task of j on the held offers, or nothing if
// they do not all fit.
func (b *Batch) launchGang(j *job) bool {
	plan, ok := b.packGang(j)
	if !ok {
		return false
	}
	var keep []heldOffer
	for i, h := range b.held {
		if tasks := plan[i]; len(tasks) > 0 {
			for _, t := range tasks {
				b.running[t.ID] = launched{job: j, task: &pendingTask{task: t}}
			}
			j.running += len(tasks)
			b.d.Launch(h.offer.ID, tasks, b.cfg.Refuse)
		} else {
			keep = append(keep, h)
		}
	}
	b.held = keep
	j.pending = nil
	if b.cfg.Backfill != BackfillNone {
		if !slices.Contains(b.rigid, j) { // not a lost task's restart
			j.started = b.d.Now()
			b.rigid = append(b.rigid, j)
		}
		for _, tasks := range plan { // a sum: the order does not matter
			for _, t := range tasks {
				j.holding = j.holding.plus(b.vecOf(t.Resources), 1)
			}
		}
	}
	return true
}

// releases are what the running rigid jobs give back, at their estimated
// ends (now for a job past its estimate), and what was released and not
// offered back yet, now.
func (b *Batch) releases(now time.Duration) []release {
	rel := make([]release, 0, len(b.rigid)+1)
	if len(b.releasing) > 0 {
		rel = append(rel, release{at: now, need: b.releasing})
	}
	for _, j := range b.rigid {
		rel = append(rel, release{at: max(addSat(j.started, j.plan.est), now), need: j.holding})
	}
	return rel
}

// vecOf is r by the framework's resource names, roles aside.
func (b *Batch) vecOf(r allocator.Resources) vec { return b.vecIn(nil, r) }

// vecIn is vecOf in the array of v.
func (b *Batch) vecIn(v vec, r allocator.Resources) vec {
	v = v[:0]
	for _, e := range r {
		i := slices.Index(b.names, e.Name)
		if i < 0 {
			i = len(b.names)
			b.names = append(b.names, e.Name)
		}
		for len(v) <= i {
			v = append(v, 0)
		}
		v[i] += e.Value
	}
	return v
}

// consolidate gives back, unfiltered, the offers held on an agent of which
// more than one is held, so that a later cycle offers what is free there
// as one: a task must fit in one offer, and an agent held in fragments
// (each freed by a task that ended) might never hold a large one.
func (b *Batch) consolidate() {
	count := map[string]int{}
	for _, h := range b.held {
		count[h.offer.Agent]++
	}
	keep := b.held[:0]
	for _, h := range b.held {
		if count[h.offer.Agent] > 1 {
			b.d.Decline(h.offer.ID, 0)
			if b.cfg.Backfill != BackfillNone {
				b.releasing = b.releasing.plus(b.vecOf(h.offer.Resources), 1) // it comes back next cycle
			}
		} else {
			keep = append(keep, h)
		}
	}
	b.held = keep
}

// packGang places every task of j on the held offers, first fit.
func (b *Batch) packGang(j *job) (map[int][]Task, bool) {
	left := make([]heldOffer, len(b.held))
	copy(left, b.held)
	plan := map[int][]Task{}
	for _, p := range j.pending {
		placed := false
		for i := range left {
			if rest, _, ok := Take(left[i].offer.Resources, p.task.Resources); ok {
				left[i].offer.Resources = rest
				plan[i] = append(plan[i], p.task)
				placed = true
				break
			}
		}
		if !placed {
			return nil, false
		}
	}
	return plan, true
}

// releaseStale declines the offers held longer than the hold limit.
func (b *Batch) releaseStale() {
	var keep []heldOffer
	for _, h := range b.held {
		if b.d.Now()-h.since >= b.cfg.HoldLimit {
			b.d.Decline(h.offer.ID, b.cfg.Refuse)
		} else {
			keep = append(keep, h)
		}
	}
	b.held = keep
}

func (b *Batch) Rescinded(_ Driver, id OfferID) {
	b.held = slices.DeleteFunc(b.held, func(h heldOffer) bool { return h.offer.ID == id })
}

func (b *Batch) Update(d Driver, s Status) {
	if !s.State.Terminal() {
		return
	}
	l, ok := b.running[s.Task]
	if !ok {
		return
	}
	delete(b.running, s.Task)
	j := l.job
	j.running--
	if b.cfg.Gang && b.cfg.Backfill != BackfillNone {
		b.rigidEnded(j, l.task.task.Resources, s.State)
	}
	rerun := s.State == TaskLost || s.State == TaskDropped || s.State == TaskGone
	if !rerun {
		*l.task = pendingTask{} // done: its job's array lets go of its id and resources
	}
	switch {
	case rerun:
		// The work was lost with its agent, or never started: run it again.
		b.requeue(j, l.task)
	case j.index >= 0:
		b.queue.fix(j)
	case j.running == 0 && len(j.pending) == 0:
		b.ended(j.id)
	}
}

// rigidEnded accounts for a rigid job's task that ended in state: what it held
// is released, to be offered again, unless its agent is gone with it.
func (b *Batch) rigidEnded(j *job, res allocator.Resources, state State) {
	v := b.vecOf(res)
	j.holding = j.holding.floor(v)
	if state != TaskLost && state != TaskGone {
		b.releasing = b.releasing.plus(v, 1)
	}
	if j.running == 0 {
		b.rigid = slices.DeleteFunc(b.rigid, func(l *job) bool { return l == j })
	}
}

// requeue makes a lost task pending again. The remaining tasks of a rigid
// job go to the front of the line and start together again.
func (b *Batch) requeue(j *job, p *pendingTask) {
	j.pending = append(j.pending, p)
	switch {
	case b.cfg.Gang && !slices.Contains(b.gangs, j):
		b.gangs = slices.Insert(b.gangs, 0, j)
	case !b.cfg.Gang && j.index < 0:
		b.queue.push(j)
	case !b.cfg.Gang:
		b.queue.fix(j)
	}
	b.wake(j)
}

// declineFilter is the filter for an offer the framework has no use for.
func (b *Batch) declineFilter() time.Duration {
	if b.cfg.IdleRefuse > 0 && b.queue.Len() == 0 && len(b.gangs) == 0 {
		return b.cfg.IdleRefuse
	}
	return b.cfg.Refuse
}

// settle suppresses offers when nothing is waiting to launch, unless the
// framework declines idle offers instead.
func (b *Batch) settle() {
	if b.cfg.IdleRefuse <= 0 && b.active && b.queue.Len() == 0 && len(b.gangs) == 0 {
		b.active = false
		b.d.Suppress()
	}
}

// Locality returns the launches on an agent holding the task's data, and
// all launches made under delay scheduling.
func (b *Batch) Locality() (hits, launches int) { return b.LocalityHits, b.LocalityTotal }
