package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
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
	Master string // base URL
	// Compress is framework seconds per wall second: 10 runs a
	// 10-minute workload in one minute, every task a tenth as long.
	Compress float64
	// Command, if set, replaces apron burn as the command of the tasks
	// (tests use sleep).
	Command func(t framework.Task, wall time.Duration) string
}

// liveRun is one run on the live cluster.
type liveRun struct {
	l       Live
	cfg     *sim.Config
	start   time.Time
	metrics *sim.Metrics

	mu       sync.Mutex
	launched map[[2]string]framework.Task
	stats    map[string]*sim.FwStats
}

func (l Live) compress() float64 { return max(l.Compress, 1e-9) }

func (r *liveRun) now() time.Duration {
	return time.Duration(float64(time.Since(r.start)) * r.l.compress())
}

// run runs one study run into dir; config is its YAML.
func (l Live) run(ctx context.Context, cfg *sim.Config, config []byte, dir, name, version string) (bool, error) {
	if cfg.Workload != nil || len(cfg.MachineEvents) > 0 {
		return false, fmt.Errorf("the live backend runs frameworks with job lists; workload traces and machine events are simulator-only for now")
	}
	policy, err := l.applyPolicy(ctx, config, name)
	if err != nil {
		return false, err
	}
	st, err := getState(ctx, l.Master)
	if err != nil {
		return false, err
	}
	r := &liveRun{l: l, cfg: cfg, launched: map[[2]string]framework.Task{}, stats: map[string]*sim.FwStats{}}
	r.start = time.Now()
	if r.metrics, err = sim.NewMetrics(dir, r.now); err != nil {
		return false, err
	}
	var agents []string
	for _, a := range st.Agents {
		if a.State == "active" {
			r.metrics.Capacity(amountsToResources(a.Resources.Total), +1)
			agents = append(agents, a.ID)
		}
	}
	complete, err := r.runFrameworks(ctx, agents)
	span := r.now()
	stats := make([]sim.FwStats, len(cfg.Frameworks))
	for i, fc := range cfg.Frameworks {
		stats[i] = *r.stats[fc.Name]
	}
	man := sim.Manifest{Version: version, Backend: "live", Seed: cfg.Seed, Complete: complete && err == nil, Config: cfg, Allocator: policy,
		Compress: l.compress(), Simulated: span.Seconds(), Wall: time.Since(r.start).Seconds()}
	if ferr := r.metrics.Finish(man.Complete, span, len(agents), stats, man); err == nil {
		err = ferr
	}
	return man.Complete, err
}

// runFrameworks runs every framework until the batch ones are done (or
// the config's duration passes), sampling the master as it goes.
func (r *liveRun) runFrameworks(ctx context.Context, agents []string) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d := time.Duration(r.cfg.Duration); d > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, time.Duration(float64(d)/r.l.compress()))
		defer stop()
	}
	var wg, batches sync.WaitGroup
	errs := make(chan error, len(r.cfg.Frameworks))
	services, serviceStop := context.WithCancel(ctx)
	defer serviceStop()
	for i, fc := range r.cfg.Frameworks {
		r.metrics.Framework(fc.Name, fc.Role)
		r.stats[fc.Name] = &sim.FwStats{}
		sched := sim.NewScheduler(fc, agents, r.cfg.Seed+uint64(i))
		opts := scheduler.Options{Master: r.l.Master, Name: fc.Name, Role: fc.Role, Compress: r.l.compress(), Observe: r, Command: r.l.Command}
		runCtx := services
		if b, ok := sched.(*framework.Batch); ok {
			opts.Done, runCtx = b.Idle, ctx
			batches.Add(1)
		}
		wg.Go(func() {
			if _, ok := sched.(*framework.Batch); ok {
				defer batches.Done()
			}
			if err := scheduler.Run(runCtx, opts, sched); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("framework %s: %w", fc.Name, err)
				cancel()
			}
		})
	}
	go r.sample(ctx)
	batches.Wait()
	serviceStop()
	wg.Wait()
	close(errs)
	for err := range errs {
		return false, err
	}
	return ctx.Err() == nil || r.cfg.Duration > 0 && ctx.Err() == context.DeadlineExceeded, nil
}

// sample reads /state every sample interval (of framework time).
func (r *liveRun) sample(ctx context.Context) {
	every := time.Duration(float64(r.cfg.SampleInterval) / r.l.compress())
	for {
		if st, err := getState(ctx, r.l.Master); err == nil {
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

// applyPolicy posts the run's config to the master as its policy and
// waits until the master runs it.
func (l Live) applyPolicy(ctx context.Context, config []byte, name string) (allocator.Config, error) {
	policy, err := sim.ParsePolicy(name, config)
	if err != nil {
		return policy, err
	}
	// The master runs in wall time: its intervals shrink with the workload.
	c := l.compress()
	for _, d := range []*time.Duration{&policy.AllocationInterval, &policy.OfferTimeout, &policy.DefaultRefuse} {
		*d = time.Duration(float64(*d) / c)
	}
	file, err := sim.PolicyYAML(policy)
	if err != nil {
		return policy, err
	}
	u := l.Master + "/api/v1/policy?name=" + url.QueryEscape(name)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(file))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return policy, fmt.Errorf("master %s: %w", l.Master, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return policy, fmt.Errorf("master %s refused the policy: %s", l.Master, bytes.TrimSpace(body))
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := getState(ctx, l.Master)
		if err != nil {
			return policy, err
		}
		switch {
		case st.Policy.Source == name && st.Policy.Pending == "":
			return policy, nil
		case st.Policy.LastError != "" && st.Policy.Pending == "":
			return policy, fmt.Errorf("master %s could not apply the policy: %s", l.Master, st.Policy.LastError)
		}
	}
	return policy, fmt.Errorf("master %s did not apply the policy within 30s", l.Master)
}

func getState(ctx context.Context, base string) (master.State, error) {
	var st master.State
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/state", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("master %s: %w", base, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("master %s/state: %w", base, err)
	}
	return st, nil
}

// stateView is a master's /state as the recorder samples an allocator.
type stateView struct{ st master.State }

func (v stateView) Allocated() allocator.Resources {
	return amountsToResources(v.st.Resources.Used).Add(amountsToResources(v.st.Resources.Offered))
}

func (v stateView) Total() allocator.Resources { return amountsToResources(v.st.Resources.Total) }

func (v stateView) FrameworkAllocation(id allocator.FrameworkID) allocator.Resources {
	for _, f := range v.st.Frameworks {
		if f.Name == string(id) {
			return amountsToResources(f.Resources.Total)
		}
	}
	return nil
}

func (v stateView) Roles() []allocator.RoleView {
	var out []allocator.RoleView
	for _, r := range v.st.Roles {
		out = append(out, allocator.RoleView{Name: r.Name, Weight: r.Weight, Allocated: amountsToResources(r.Allocated), DominantShare: r.DominantShare})
	}
	return out
}

// amountsToResources converts /state's amounts, by name in order.
func amountsToResources(a master.Amounts) allocator.Resources {
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	slices.Sort(names)
	var out allocator.Resources
	for _, n := range names {
		if r, err := allocator.ParseResources(fmt.Sprintf("%s:%g", n, a[n])); err == nil {
			out = out.Add(r)
		}
	}
	return out
}
