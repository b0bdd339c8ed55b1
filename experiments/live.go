package experiments

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/runtime/scheduler"
	"github.com/apronlab/apron/sim"
	"github.com/apronlab/apron/sim/framework"
)

// Live runs a study's live runs on a live master: the run's policy is
// applied to the master, the run's frameworks (built by the simulator's
// own constructor) run through the scheduler driver, each task a real
// process that burns its cpus and mem for its duration, and what the
// master reports is written to the same result files a simulated run
// writes, with backend: live in manifest.json.
type Live struct {
	// Master is the masters: a base URL or host:port, or several,
	// comma-separated, of which the runs follow the leader.
	Master string
	// Compress is framework seconds per wall second: 10 runs a
	// 10-minute workload in one minute, every task a tenth as long.
	Compress float64
	// Command, if set, replaces apron burn as the command of the tasks
	// (tests use sleep).
	Command func(t framework.Task, wall time.Duration) string
	// Credential is who the runs are to the masters (nil: none).
	Credential *auth.Client
}

// liveRun is one run on the live cluster.
type liveRun struct {
	l       Live
	masters *masters.List
	cfg     *sim.Config
	start   time.Time
	metrics *sim.Metrics

	mu       sync.Mutex
	launched map[[2]string]framework.Task
	stats    map[string]*sim.FwStats
	order    []string // frameworks, in the order started
}

func (l Live) compress() float64 { return max(l.Compress, 1e-9) }

func (r *liveRun) now() time.Duration {
	return time.Duration(float64(time.Since(r.start)) * r.l.compress())
}

// run runs one study run into dir; config is its YAML.
func (l Live) run(ctx context.Context, cfg *sim.Config, config []byte, dir, name, version string) (bool, error) {
	if len(cfg.MachineEvents) > 0 {
		return false, fmt.Errorf("machine_events: the live backend runs on the cluster it is given; machine events are simulator-only")
	}
	ms, err := masters.WithCredential(l.Master, l.Credential)
	if err != nil {
		return false, err
	}
	policy, err := applyPolicy(ctx, ms, l.compress(), config, name)
	if err != nil {
		return false, err
	}
	st, err := master.FetchState(ctx, ms.Client(0), ms)
	if err != nil {
		return false, err
	}
	r := &liveRun{l: l, masters: ms, cfg: cfg, launched: map[[2]string]framework.Task{}, stats: map[string]*sim.FwStats{}}
	r.start = time.Now()
	if r.metrics, err = sim.NewMetrics(dir, r.now); err != nil {
		return false, err
	}
	var agents []string
	for _, a := range st.Agents {
		if a.State == "active" {
			r.metrics.Capacity(a.Resources.Total.Resources(), +1)
			agents = append(agents, a.ID)
		}
	}
	complete, err := r.runFrameworks(ctx, agents)
	span := r.now()
	stats := make([]sim.FwStats, len(r.order))
	for i, name := range r.order {
		stats[i] = *r.stats[name]
	}
	man := sim.Manifest{Version: version, Backend: "live", Seed: cfg.Seed, Complete: complete && err == nil, Config: cfg, Allocator: policy,
		Compress: l.compress(), Simulated: span.Seconds(), Wall: time.Since(r.start).Seconds()}
	if ferr := r.metrics.Finish(man.Complete, span, len(agents), stats, man); err == nil {
		err = ferr
	}
	return man.Complete, err
}

// runFrameworks runs every framework, and the workload's as its jobs
// arrive, until the batch ones are done (or the config's duration passes),
// sampling the master as it goes.
func (r *liveRun) runFrameworks(ctx context.Context, agents []string) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d := time.Duration(r.cfg.Duration); d > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, time.Duration(float64(d)/r.l.compress()))
		defer stop()
	}
	services, serviceStop := context.WithCancel(ctx)
	defer serviceStop()
	fl := &fleet{r: r, ctx: ctx, services: services, cancel: cancel}
	for i, fc := range r.cfg.Frameworks {
		fl.start(fc, sim.NewScheduler(fc, agents, r.cfg.Seed+uint64(i)), nil)
	}
	if w := r.cfg.Workload; w != nil {
		fl.batches.Add(1)
		go func() {
			defer fl.batches.Done()
			if err := fl.feed(w, agents); err != nil {
				fl.fail(err)
			}
		}()
	}
	go r.sample(ctx)
	fl.batches.Wait()
	serviceStop()
	fl.wg.Wait()
	if fl.err != nil {
		return false, fl.err
	}
	return ctx.Err() == nil || r.cfg.Duration > 0 && ctx.Err() == context.DeadlineExceeded, nil
}

// fleet is the frameworks of one live run.
type fleet struct {
	r             *liveRun
	ctx, services context.Context
	cancel        context.CancelFunc
	wg, batches   sync.WaitGroup
	mu            sync.Mutex
	err           error
}

func (fl *fleet) fail(err error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.err == nil && fl.ctx.Err() == nil {
		fl.err = err
		fl.cancel()
	}
}

// start runs one framework; a batch one counts toward the run's end.
// subscribed, if set, gets the framework's driver once it has its id.
func (fl *fleet) start(fc sim.FwConfig, sched framework.Scheduler, subscribed func(*scheduler.Driver)) {
	r := fl.r
	r.metrics.Framework(fc.Name, fc.Role)
	r.mu.Lock()
	r.stats[fc.Name] = &sim.FwStats{}
	r.order = append(r.order, fc.Name)
	r.mu.Unlock()
	opts := scheduler.Options{Master: r.l.Master, Credential: r.l.Credential, Name: fc.Name, Role: fc.Role, Compress: r.l.compress(), Observe: r,
		Command: r.l.Command, OnSubscribed: subscribed}
	ctx := fl.services
	b, isBatch := sched.(*framework.Batch)
	if isBatch {
		opts.Done, ctx = b.Idle, fl.ctx
		fl.batches.Add(1)
	}
	fl.wg.Go(func() {
		if isBatch {
			defer fl.batches.Done()
		}
		if err := scheduler.Run(ctx, opts, sched); err != nil {
			fl.fail(fmt.Errorf("framework %s: %w", fc.Name, err))
		}
	})
}

// feed replays the workload: each job is handed to its group's framework
// (started with the group's first job) at its submit time, compressed.
func (fl *fleet) feed(w *sim.Workload, agents []string) error {
	src, err := w.Jobs()
	if err != nil {
		return err
	}
	defer src.Close()
	type group struct {
		b *framework.Batch
		d *scheduler.Driver
	}
	groups := map[string]*group{}
	var order []*group
	defer func() {
		for _, g := range order {
			g.d.Do(g.b.Close)
		}
	}()
	for {
		j, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("workload: %w", err)
		}
		select {
		case <-fl.ctx.Done():
			return nil
		case <-time.After(time.Until(fl.r.start.Add(time.Duration(float64(j.Submit) / fl.r.l.compress())))):
		}
		name := w.Group(j)
		g := groups[name]
		if g == nil {
			fc, err := w.Framework(name)
			if err != nil {
				return err
			}
			g = &group{b: framework.NewBatch(sim.BatchConfig(fc, agents, w.Seed+uint64(len(order))), nil)}
			ready := make(chan *scheduler.Driver, 1)
			fl.start(fc, g.b, func(d *scheduler.Driver) { ready <- d })
			select {
			case g.d = <-ready:
			case <-fl.ctx.Done():
				return nil
			}
			groups[name] = g
			order = append(order, g)
		}
		g.d.Do(func() { g.b.Feed(j) })
	}
}

// sample reads /state every sample interval (of framework time).
func (r *liveRun) sample(ctx context.Context) {
	every := time.Duration(float64(r.cfg.SampleInterval) / r.l.compress())
	for {
		if st, err := master.FetchState(ctx, r.masters.Client(0), r.masters); err == nil {
			r.metrics.Sample(stateView{st})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// The scheduler.Observer methods: what the frameworks do, into the
// metrics.

func (r *liveRun) Submitted(fw string, j framework.JobInfo, unschedulable string, _ time.Duration) {
	r.metrics.Submitted(fw, j, unschedulable)
}

func (r *liveRun) Launched(fw string, t framework.Task, _ string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.launched[[2]string{fw, string(t.ID)}] = t
	r.stats[fw].Launched++
}

func (r *liveRun) Offered(fw string, n int) { r.count(fw, func(st *sim.FwStats) { st.Offers += n }) }
func (r *liveRun) Declined(fw string)       { r.count(fw, func(st *sim.FwStats) { st.Declined++ }) }
func (r *liveRun) Rescinded(fw string)      { r.count(fw, func(st *sim.FwStats) { st.Rescinded++ }) }

func (r *liveRun) count(fw string, f func(*sim.FwStats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.stats[fw])
}

func (r *liveRun) Updated(fw string, s framework.Status, _ time.Duration) {
	r.mu.Lock()
	t, ok := r.launched[[2]string{fw, string(s.Task)}]
	if s.State.Terminal() {
		delete(r.launched, [2]string{fw, string(s.Task)})
	}
	if s.State == framework.TaskRunning {
		r.stats[fw].Tasks++
	}
	r.mu.Unlock()
	switch {
	case !ok:
	case s.State == framework.TaskRunning:
		r.metrics.Started(fw, string(s.Task), t.Job, t.Resources)
	case s.State.Terminal():
		r.metrics.Ended(fw, string(s.Task), s.State)
	}
}

// applyPolicy posts the run's config to the leading master as its policy,
// its intervals divided by compress, and waits until the master runs it.
func applyPolicy(ctx context.Context, ms *masters.List, compress float64, config []byte, name string) (allocator.Config, error) {
	policy, err := sim.ParsePolicy(name, config)
	if err != nil {
		return policy, err
	}
	// The master runs in wall time: its intervals shrink with the workload.
	for _, d := range []*time.Duration{&policy.AllocationInterval, &policy.OfferTimeout, &policy.DefaultRefuse} {
		*d = time.Duration(float64(*d) / compress)
	}
	file, err := sim.PolicyYAML(policy)
	if err != nil {
		return policy, err
	}
	resp, err := ms.Do(ctx, ms.Client(0), masters.Request{Method: http.MethodPost, Path: "/api/v1/policy?name=" + url.QueryEscape(name), Body: file})
	if err != nil {
		return policy, fmt.Errorf("master %s: %w", ms, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return policy, fmt.Errorf("master %s refused the policy: %s", ms.URL(), bytes.TrimSpace(body))
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := master.FetchState(ctx, ms.Client(0), ms)
		if err != nil {
			return policy, err
		}
		switch {
		case st.Policy.Source == name && st.Policy.Pending == "":
			return policy, nil
		case st.Policy.LastError != "" && st.Policy.Pending == "":
			return policy, fmt.Errorf("master %s could not apply the policy: %s", ms.URL(), st.Policy.LastError)
		}
	}
	return policy, fmt.Errorf("master %s did not apply the policy within 30s", ms.URL())
}

// stateView is a master's /state as the recorder samples an allocator.
type stateView struct{ st master.State }

func (v stateView) Allocated() allocator.Resources {
	return v.st.Resources.Used.Resources().Add(v.st.Resources.Offered.Resources())
}

func (v stateView) Total() allocator.Resources { return v.st.Resources.Total.Resources() }

func (v stateView) FrameworkAllocation(id allocator.FrameworkID) allocator.Resources {
	for _, f := range v.st.Frameworks {
		if f.Name == string(id) {
			return f.Resources.Total.Resources()
		}
	}
	return nil
}

func (v stateView) Roles() []allocator.RoleView {
	var out []allocator.RoleView
	for _, r := range v.st.Roles {
		out = append(out, allocator.RoleView{Name: r.Name, Weight: r.Weight, Allocated: r.Allocated.Resources(), DominantShare: r.DominantShare})
	}
	return out
}
