package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
)

// Sim is one simulation: an engine, the allocator (the same code the live
// master runs), simulated agents and the frameworks. It runs on one
// goroutine and is deterministic given its config and seed.
type Sim struct {
	cfg     *Config
	eng     Engine
	alloc   *allocator.Allocator
	epoch   time.Time // virtual time 0, as the allocator's clock
	fws     []*fw
	byID    map[allocator.FrameworkID]*fw
	batches []*framework.Batch
	agents  map[allocator.AgentID]*simAgent
	order   []*simAgent
	shapes  map[string][]allocator.Resources // per role: distinct agent totals it may use
	// withAttrs counts the agents with attributes; offerFws is allocate's
	// buffer of each offer's framework.
	withAttrs int
	offerFws  []*fw
	used      allocator.Resources // launch's buffers: what an offer's tasks take,
	left      allocator.Resources // and what they leave
	rng       *rand.Rand
	rec       *recorder
	feed      *feed

	finite          int           // running tasks that will end by themselves
	lastStart       time.Duration // when a task last started
	machinesPending int           // machine events still to come
	stalledAt       time.Duration
}

type simAgent struct {
	id    allocator.AgentID
	ref   allocator.AgentRef
	res   allocator.Resources
	attrs map[string]string
	tasks []*task // running, in no order; task.slot is the index
}

type task struct {
	id    framework.TaskID
	slot  int // in agent.tasks
	f     *fw
	agent *simAgent
	res   allocator.Resources // the entries it holds on its agent
	job   string
	rec   *jobRec // its job's record, while the job runs
	ends  bool    // it has a duration, rather than running until killed
	done  bool
}

// New builds a simulation from a checked config.
func New(cfg *Config) (*Sim, error) {
	acfg, err := cfg.allocConfig()
	if err != nil {
		return nil, err
	}
	a, err := allocator.New(acfg)
	if err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, alloc: a, epoch: time.Unix(0, 0).UTC(), byID: map[allocator.FrameworkID]*fw{},
		agents: map[allocator.AgentID]*simAgent{}, shapes: map[string][]allocator.Resources{},
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x73696d))}
	s.rec = newRecorder(s.eng.Now)
	var names []string
	for _, ag := range cfg.agents() {
		if err := s.addAgent(ag); err != nil {
			return nil, err
		}
		names = append(names, ag.name)
	}
	for i, fc := range cfg.Frameworks {
		if err := s.addFramework(fc, names, cfg.Seed+uint64(i)); err != nil {
			return nil, fmt.Errorf("frameworks[%d] (%s): %w", i, fc.Name, err)
		}
	}
	if cfg.Duration == 0 && len(s.batches) == 0 && cfg.Workload == nil {
		return nil, fmt.Errorf("duration: a run whose frameworks are all services needs a duration")
	}
	return s, nil
}

func (s *Sim) clock() time.Time { return s.epoch.Add(s.eng.Now()) }

func (s *Sim) addAgent(spec agentSpec) error {
	id := allocator.AgentID(spec.name)
	if err := s.alloc.AddAgent(allocator.AgentInfo{ID: id, Attributes: spec.attrs}, spec.res); err != nil {
		return err
	}
	ref, _ := s.alloc.AgentRef(id) // just added
	ag := &simAgent{id: id, ref: ref, res: spec.res, attrs: spec.attrs}
	s.agents[id] = ag
	s.order = append(s.order, ag)
	if ag.attrs != nil {
		s.withAttrs++
	}
	s.rec.capacity(spec.res, +1)
	clear(s.shapes)
	return nil
}

func (s *Sim) addFramework(fc FwConfig, agents []string, seed uint64) error {
	id := allocator.FrameworkID(fc.Name)
	if s.byID[id] != nil {
		return fmt.Errorf("framework %s is listed twice", fc.Name)
	}
	sched := NewScheduler(fc, agents, seed)
	if b, ok := sched.(*framework.Batch); ok {
		s.batches = append(s.batches, b)
	}
	if err := s.alloc.AddFramework(id, fc.Role); err != nil {
		return err
	}
	ref, _ := s.alloc.ClientRef(id, fc.Role) // just added
	f := &fw{s: s, id: id, role: fc.Role, ref: ref, sched: sched, decision: *fc.Decision}
	s.fws = append(s.fws, f)
	s.byID[id] = f
	s.rec.framework(f.id, f.role)
	s.eng.At(0, func() { f.call(func() { sched.Subscribed(f) }) })
	return nil
}

// NewScheduler builds the framework a config describes: a service, or a
// batch framework (elastic or gang) running its job list. agents are the
// cluster's agent names, for delay scheduling's data placement; seed
// seeds its draws. The simulator and the live backend build frameworks
// here, so the same config runs the same framework in both.
func NewScheduler(fc FwConfig, agents []string, seed uint64) framework.Scheduler {
	if fc.Kind == "service" {
		svc := framework.NewService(fc.Name, fc.Instances, fc.Task.Resources)
		svc.Refuse = time.Duration(fc.Refuse)
		return svc
	}
	return framework.NewBatch(BatchConfig(fc, agents, seed), jobsOf(fc, seed))
}

// BatchConfig is the batch framework a config describes, for a framework
// fed its jobs from outside (Batch.Feed), as a workload's groups are.
func BatchConfig(fc FwConfig, agents []string, seed uint64) framework.BatchConfig {
	bc := framework.BatchConfig{Gang: fc.Kind == "gang", HoldLimit: time.Duration(fc.HoldLimit), Delay: time.Duration(fc.Delay),
		Replicas: fc.Replicas, Refuse: time.Duration(fc.Refuse), Seed: seed,
		IdleRefuse: time.Duration(fc.IdleRefuse), ReviveAfter: time.Duration(fc.ReviveAfter), Setup: time.Duration(fc.Setup),
		Placement: fc.Placement}
	if bc.Delay > 0 {
		bc.Agents = agents
	}
	bc.Backfill, _ = framework.ParseBackfill(fc.Backfill) // checked by Finish
	return bc
}

// jobsOf expands a framework's job specs into a source in submit order. A
// closed-loop job takes the Submit of the job it follows, so that the
// stream holds it after that job and it is submitted exactly its think
// time after that job ends.
func jobsOf(fc FwConfig, seed uint64) traces.Source {
	rng := rand.New(rand.NewPCG(seed, 0x6a6f6273))
	thinkRng := rand.New(rand.NewPCG(seed, 0x7468696e6b)) // its own stream: open-loop draws stay as they were
	var jobs traces.Jobs
	last := make([]*traces.Job, len(fc.Jobs)) // each entry's last job
	for i, spec := range fc.Jobs {
		think := spec.thinkTime(thinkRng)
		for k := range max(spec.Count, 1) {
			j := &traces.Job{ID: fmt.Sprintf("%s-%d-%d", fc.Name, i, k), Submit: time.Duration(spec.Submit) + time.Duration(k)*time.Duration(spec.Every)}
			var prev *traces.Job
			switch {
			case spec.Chain && k > 0:
				prev = last[i]
			case spec.After != nil:
				prev = last[*spec.After]
			}
			if prev != nil {
				j.After, j.Submit, j.Think = prev.ID, prev.Submit, think()
			}
			for t := range spec.Tasks {
				d := time.Duration(spec.Duration)
				if len(spec.Durations) > 0 {
					d = time.Duration(spec.Durations[t])
				}
				if spec.Exponential {
					d = time.Duration(rng.ExpFloat64() * float64(d))
				}
				j.Tasks = append(j.Tasks, traces.Task{Resources: traceResources(spec.Task.Resources), Duration: d})
			}
			jobs = append(jobs, j)
			if spec.Chain || k == max(spec.Count, 1)-1 {
				last[i] = j
			}
		}
	}
	sortJobs(jobs)
	return jobs.Source()
}

// thinkTime returns the think times of the spec's closed-loop jobs: the
// fixed one, or draws from its distribution (checked by Finish).
func (spec JobSpec) thinkTime(rng *rand.Rand) func() time.Duration {
	if spec.ThinkDist == nil {
		return func() time.Duration { return time.Duration(spec.Think) }
	}
	draw, _ := spec.ThinkDist.Sampler(rng)
	return func() time.Duration { return time.Duration(math.Round(max(0, draw()) * 1e9)) }
}

// Options are how a run reports: where it writes and whom it tells.
type Options struct {
	Dir      string         // the run directory; created if missing
	Progress func(Progress) // called once per allocation cycle
	Version  string         // apron's version, for the manifest
}

// Progress is a run's state, for progress bars.
type Progress struct {
	Now, Until time.Duration // Until is 0 when the run ends with its workload
	Events     uint64
	Wall       time.Duration
}

// Result is how a run went.
type Result struct {
	Complete  bool // ran to the end rather than being interrupted
	Events    uint64
	Simulated time.Duration
	Wall      time.Duration
	// SkippedLines counts malformed workload trace lines skipped (skip_bad).
	SkippedLines int64
	// Stalled says when the run stopped because nothing could happen any
	// more (see Config.StallAfter); 0 if it did not.
	Stalled time.Duration
}

// Run simulates until the end (the configured duration, or every batch
// framework done) or until ctx is cancelled, writing the run directory:
// timeseries.csv, jobs.csv, frameworks.csv, summary.json and manifest.json.
// An interrupted run writes what it measured, marked incomplete.
func (s *Sim) Run(ctx context.Context, opts Options) (Result, error) {
	out, err := createOutputs(opts.Dir)
	if err != nil {
		return Result{}, err
	}
	defer out.close()
	s.rec.open(out.ts, out.jobs)
	wallStart := time.Now()
	until := time.Duration(1<<63 - 1)
	if s.cfg.Duration > 0 {
		until = time.Duration(s.cfg.Duration)
	}
	interval := time.Duration(s.cfg.Allocator.AllocationInterval)
	var cycle func()
	cycle = func() {
		s.allocate()
		if s.finished() || ctx.Err() != nil {
			s.eng.Stop()
			return
		}
		if s.stalled() {
			s.stalledAt = s.eng.Now()
			s.eng.Stop()
			return
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Now: s.eng.Now(), Until: time.Duration(s.cfg.Duration), Events: s.eng.Processed(), Wall: time.Since(wallStart)})
		}
		s.eng.After(interval, cycle)
	}
	s.eng.At(0, cycle)
	if err := s.startWorkload(); err != nil {
		return Result{}, err
	}
	s.machineEvents()
	s.startSampling()
	s.eng.Run(until)
	res := Result{Complete: ctx.Err() == nil, Events: s.eng.Processed(), Simulated: min(s.eng.Now(), until), Wall: time.Since(wallStart), Stalled: s.stalledAt}
	s.rec.finish()
	if s.feed != nil {
		res.SkippedLines = s.feed.src.Skipped()
		s.feed.src.Close()
		if s.feed.err != nil {
			return res, s.feed.err
		}
	}
	if err := s.rec.err(); err != nil {
		return res, err
	}
	sum := s.rec.summary(res.Complete, res.Simulated, res.Stalled, len(s.order), s.fwStats())
	return res, out.finish(sum, s.fwStats(), manifest(s, res, opts.Version))
}

func (s *Sim) finished() bool {
	if s.cfg.Duration > 0 || s.feed != nil && !s.feed.done {
		return false
	}
	for _, b := range s.batches {
		if !b.Idle() {
			return false
		}
	}
	return true
}

// stalled reports whether jobs wait but nothing can change any more: every
// job has arrived, no machine event is to come, no task with an end is
// running, and none has started for StallAfter. (A gang framework holding
// offers until its whole job fits, in a pool others keep partly busy, can
// wait so for ever.) A run with a duration ends then anyway.
func (s *Sim) stalled() bool {
	if s.cfg.Duration > 0 || s.feed != nil && !s.feed.done || s.machinesPending > 0 || s.finite > 0 {
		return false
	}
	for _, b := range s.batches {
		if !b.Arrived() {
			return false
		}
	}
	return s.eng.Now()-s.lastStart >= time.Duration(s.cfg.StallAfter)
}

// allocate runs one allocation cycle and hands the offers out.
func (s *Sim) allocate() {
	c := s.alloc.Allocate(s.clock())
	for _, o := range c.Rescinded {
		s.rescinded(o)
	}
	// Group the offers by framework, in the order frameworks first appear:
	// count them first, so that each framework's offers take one slice.
	fws := s.offerFws[:0]
	var order []*fw
	for _, o := range c.Offers {
		f := s.byID[o.Framework]
		if f.offered == 0 {
			order = append(order, f)
		}
		f.offered++
		fws = append(fws, f)
	}
	for _, f := range order {
		f.cycle = f.offerBuf(f.offered)
	}
	for i, o := range c.Offers {
		f := fws[i]
		f.cycle = append(f.cycle, framework.Offer{ID: offerID(o.ID), Agent: string(o.Agent), Role: o.Role,
			Resources: o.Resources, Attributes: s.attrs(o.Agent)})
	}
	clear(fws)
	s.offerFws = fws
	for _, f := range order {
		offers := f.cycle
		f.cycle, f.offered = nil, 0
		s.eng.After(time.Duration(s.cfg.Master.OfferLatency), func() { f.deliver(offers) })
	}
}

// attrs returns an agent's attributes, looking the agent up only when some
// agent has attributes.
func (s *Sim) attrs(id allocator.AgentID) map[string]string {
	if s.withAttrs == 0 {
		return nil
	}
	return s.agents[id].attrs
}

func (s *Sim) rescinded(o allocator.Offer) {
	f := s.byID[o.Framework]
	f.stats.rescinded++
	id := offerID(o.ID)
	for i, w := range f.waiting {
		if w.ID == id {
			f.waiting = append(f.waiting[:i], f.waiting[i+1:]...)
			return // never seen by the scheduler
		}
	}
	f.call(func() { f.sched.Rescinded(f, id) })
}

// startSampling samples the allocation now and every sample interval after.
func (s *Sim) startSampling() {
	var sample func()
	sample = func() {
		s.rec.sample(s.alloc)
		s.eng.After(time.Duration(s.cfg.SampleInterval), sample)
	}
	s.eng.At(0, sample)
}
