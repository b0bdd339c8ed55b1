package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apronlab/apron/runtime/masters"
)

// Config configures a run.
type Config struct {
	Apron     string        // the apron binary
	Dir       string        // the run's own directory: work dirs, logs, the history
	Isolation bool          // cgroups for tasks (needs root)
	Quiesce   time.Duration // how long the recovery phase waits for quiescence; default 30 s
	Tag       string        // makes the agents' names (and cgroups) unique on the machine
	// Insecure runs the master and agents --insecure; by default they run
	// as apron up runs them: TLS, credentials (each framework and agent
	// its own principal) and the local cluster's ACLs.
	Insecure bool
}

// Result is what a run saw, and what the checker made of it.
type Result struct {
	Plan       Plan
	Entries    []Entry
	Truths     map[string]Truth
	Processes  map[string][]int // task processes left at the end, by task
	Cgroups    []string         // task cgroups left at the end
	Agents     []string         // the agents' ids, by index
	Quiescent  bool
	Open       string // what kept the run from quiescence
	Violations []Violation
	// Failovers are the leader faults and how soon a new leader answered;
	// LeaderChanges counts the changes of leader the snapshots show.
	Failovers     []Failover
	LeaderChanges int
	Wall          time.Duration
}

const (
	snapshotEvery = 500 * time.Millisecond
	answerBound   = 5 * time.Second
)

// Run plays a plan against real processes and checks what happened.
func Run(ctx context.Context, cfg Config, plan Plan) (*Result, error) {
	began := time.Now()
	if cfg.Quiesce <= 0 {
		cfg.Quiesce = 30 * time.Second
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	res := &Result{Plan: plan}
	for i := range plan.Agents {
		res.Agents = append(res.Agents, fmt.Sprintf("chaos-%s-a%d", cfg.Tag, i+1))
	}
	c, err := newCluster(ctx, cfg, &plan, res.Agents)
	if c != nil {
		defer c.stop()
	}
	if err != nil {
		return nil, fmt.Errorf("starting the cluster: %w", err)
	}
	var lists []*masters.List // each framework its own: which master it talks to is its own
	for range plan.Frameworks {
		ms, err := masters.Parse(c.masterList())
		if err != nil {
			return nil, err
		}
		lists = append(lists, ms)
	}
	start := time.Now()
	c.hist = NewHistory(start)
	res.Quiescent, res.Open = play(ctx, c, plan, lists, start, cfg.Quiesce)
	if err := res.observe(c, cfg.Dir); err != nil {
		return nil, err
	}
	res.Entries = c.hist.Entries()
	o := Observed{Plan: &plan, Start: start, Entries: res.Entries, Truths: res.Truths, Processes: res.Processes,
		Cgroups: res.Cgroups, Agents: res.Agents, Quiescent: res.Quiescent, Open: res.Open}
	res.Violations = Check(o)
	res.Failovers, res.LeaderChanges = index(o).fos, leaderChanges(res.Entries)
	res.Wall = time.Since(began)
	return res, WriteJSONL(filepath.Join(cfg.Dir, "history.jsonl"), res.Entries)
}

// play runs the frameworks, the faults, the recovery phase and the final
// RECONCILE, and says whether the cluster became quiescent, or what was
// still open.
func play(ctx context.Context, c *cluster, plan Plan, lists []*masters.List, start time.Time, bound time.Duration) (bool, string) {
	hist := c.hist
	fctx, stopFws := context.WithCancel(ctx)
	var fws []*framework
	var wg sync.WaitGroup
	for i, spec := range plan.Frameworks {
		f := newFramework(fctx, spec, &plan, lists[i], hist, start, c.transport(spec.Name))
		fws = append(fws, f)
		wg.Go(f.run)
	}
	pctx, stopPoll := context.WithCancel(ctx)
	wg.Go(func() { poll(pctx, c, hist) })
	defer func() {
		stopPoll()
		stopFws()
		wg.Wait()
	}()

	inject(ctx, c, fws, plan, start)
	sleepUntil(ctx, start.Add(plan.Active))
	hist.Add(Entry{Who: "tester", What: WhatPhase, Note: "recovery"})
	c.heal(ctx)
	for _, f := range fws {
		f.do(f.heal)
	}
	quiet, open := quiesce(ctx, c, fws, c.names(), bound)
	note := "quiescent"
	if !quiet {
		note = "not quiescent: " + open
	}
	hist.Add(Entry{Who: "tester", What: WhatPhase, Note: note})
	finalReconcile(ctx, fws, hist)
	if s, err := c.snapshot(ctx); err == nil {
		hist.Add(Entry{Who: "tester", What: WhatSnapshot, Snapshot: s, Note: "final"})
	}
	return quiet, open
}

// observe finds the task processes left, stops the cluster, finds the
// task cgroups left, reads how every task really ended, and cleans up.
func (res *Result) observe(c *cluster, dir string) error {
	res.Processes = taskProcesses(dir)
	c.stop()
	res.Cgroups = taskCgroups(res.Agents)
	defer cleanUp(res.Processes, res.Agents)
	res.Truths = map[string]Truth{}
	var dirs []string
	for _, a := range c.agents {
		dirs = append(dirs, a.workDir)
	}
	for _, t := range res.Plan.Tasks {
		tr, err := readTruth(dirs, t.ID)
		if err != nil {
			return err
		}
		tr.Alive = res.Processes[t.ID]
		res.Truths[t.ID] = tr
	}
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

// inject does the plan's faults at their moments.
func inject(ctx context.Context, c *cluster, fws []*framework, plan Plan, start time.Time) {
	for _, fault := range plan.Faults {
		sleepUntil(ctx, start.Add(fault.At))
		if ctx.Err() != nil {
			return
		}
		switch {
		case fault.Kind.agentFault():
			c.agentDown(fault.Agent, fault)
			if fault.KillAway {
				for _, f := range fws {
					f.do(func() { f.killOn(c.agents[fault.Agent].name) })
				}
			}
		case fault.Kind.masterFault():
			c.masterDown(ctx, fault)
		default:
			f := fws[fault.Framework]
			c.hist.Add(Entry{Who: "fault", What: WhatFaultBegin, Fault: &fault, Note: f.spec.Name})
			f.do(func() { f.inject(fault) })
		}
	}
}

// poll records the master's /state every half second.
func poll(ctx context.Context, c *cluster, hist *History) {
	for {
		if s, err := c.snapshot(ctx); err == nil {
			hist.Add(Entry{Who: "tester", What: WhatSnapshot, Snapshot: s})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(snapshotEvery):
		}
	}
}

// quiesce waits until every framework is subscribed and knows every task
// it launched ended, the master holds no task and has every agent active
// and connected; or the bound passes, and then says what was still open.
func quiesce(ctx context.Context, c *cluster, fws []*framework, agents []string, bound time.Duration) (bool, string) {
	deadline := time.Now().Add(bound)
	for {
		var open []string
		for _, f := range fws {
			var ok, sub bool
			var tasks []string
			f.do(func() { ok, tasks = f.settled(); sub = f.subscribed })
			if !ok {
				open = append(open, fmt.Sprintf("framework %s: subscribed=%v, tasks with no end: %v", f.spec.Name, sub, tasks))
			}
		}
		s, err := c.snapshot(ctx)
		switch {
		case err != nil:
			open = append(open, "master: "+err.Error())
		default:
			if up := s.connected(agents); len(up) < len(agents) {
				open = append(open, fmt.Sprintf("agents active and connected: %v of %v", up, agents))
			}
			for _, t := range s.Tasks {
				open = append(open, fmt.Sprintf("master task %s %s", t.ID, t.State))
			}
		}
		if len(open) == 0 {
			return true, ""
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, strings.Join(open, "; ")
		}
		sleepUntil(ctx, time.Now().Add(200*time.Millisecond))
	}
}

// finalReconcile has every framework reconcile every task it launched,
// and waits a little for the answers.
func finalReconcile(ctx context.Context, fws []*framework, hist *History) {
	hist.Add(Entry{Who: "tester", What: WhatPhase, Note: "final-reconcile"})
	for _, f := range fws {
		f.do(func() {
			f.final = true
			if f.subscribed {
				f.reconcile(true)
			}
		})
	}
	deadline := time.Now().Add(answerBound)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		waiting := false
		for _, f := range fws {
			var open []string
			f.do(func() { open = f.unanswered() })
			waiting = waiting || len(open) > 0
		}
		if !waiting {
			break
		}
		sleepUntil(ctx, time.Now().Add(100*time.Millisecond))
	}
	hist.Add(Entry{Who: "tester", What: WhatPhase, Note: "done"})
}
