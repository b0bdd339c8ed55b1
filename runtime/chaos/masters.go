package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/pki"
)

// The masters as processes: one that keeps its registry on disk, or three
// replicated over raft (each with its own data dir and audit log, all as
// the masters' principal); which one leads; the faults done to them.

// startMasters starts the plan's masters and waits until one leads.
func (c *cluster) startMasters(ctx context.Context, cfg Config, plan *Plan) error {
	policy := filepath.Join(cfg.Dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("policy: drf\nallocation_interval: 500ms\n"), 0o644); err != nil {
		return err
	}
	for range plan.Masters {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		c.masters = append(c.masters, &node{addr: addr})
	}
	for i, m := range c.masters {
		args := []string{"master", "--listen", m.addr, "--agent-timeout", plan.AgentTimeout.String(), "--policy", policy,
			"--framework-heartbeat", frameworkHeartbeat.String()}
		m.name, m.log, m.workDir = "master", filepath.Join(cfg.Dir, "master.log"), filepath.Join(cfg.Dir, "master-data")
		audit := filepath.Join(cfg.Dir, "audit.log")
		if plan.Masters > 1 {
			m.name = fmt.Sprintf("m%d", i+1)
			m.log, m.workDir = filepath.Join(cfg.Dir, "master-"+m.name+".log"), filepath.Join(cfg.Dir, m.name+"-data")
			audit = filepath.Join(cfg.Dir, "audit-"+m.name+".log")
			args = append(args, "--id", strconv.Itoa(i+1), "--peers", c.masterList())
		}
		m.args = c.secure(append(args, "--data-dir", m.workDir), pki.Master, audit)
	}
	for i := range c.masters {
		if err := c.startMaster(ctx, i); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for lead, _ := c.leader(ctx); lead < 0; lead, _ = c.leader(ctx) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no master led within 20s (see the masters' logs in %s)", cfg.Dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// startMaster starts master i and waits until it serves, trying again
// for a few seconds if it cannot (its address still taken).
func (c *cluster) startMaster(ctx context.Context, i int) error {
	m := c.masters[i]
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p, err := startProc(c.bin, m.log, m.args...)
		if err != nil {
			return err
		}
		if c.serving(ctx, i, p, deadline) {
			c.mu.Lock()
			m.p = p
			c.mu.Unlock()
			return nil
		}
		p.kill()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("master %s did not serve on %s within 10s (see %s)", m.name, m.addr, m.log)
}

// serving waits until master i's process p serves, or it exits, or the
// deadline passes.
func (c *cluster) serving(ctx context.Context, i int, p *proc, deadline time.Time) bool {
	for time.Now().Before(deadline) {
		if c.healthy(i) {
			return true
		}
		select {
		case <-p.done:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// client is the tester's HTTP client: a call has timeout, and a 307 is
// not followed.
func (c *cluster) client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: c.transport(tester)(http.DefaultTransport.(*http.Transport)),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// healthy says whether master i serves (a standby too).
func (c *cluster) healthy(i int) bool {
	resp, err := c.client(time.Second).Get(c.url(i) + "/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// view asks master i what it knows of the masters.
func (c *cluster) view(ctx context.Context, i int) (*View, error) {
	v, err := getJSON[master.ClusterView](ctx, c, i, "/api/v1/masters")
	if err != nil {
		return nil, err
	}
	return &View{Master: int(v.Self), Leader: int(v.Leader), Term: v.Term}, nil
}

// leader is the index of the master that leads now, -1 when none does
// (an election is under way): of the masters running, the one that says
// it leads in the latest term; and that term.
func (c *cluster) leader(ctx context.Context) (int, uint64) {
	best, term := -1, uint64(0)
	for i, m := range c.masters {
		c.mu.Lock()
		up := m.p != nil && !m.paused
		c.mu.Unlock()
		if !up {
			continue
		}
		if v, err := c.view(ctx, i); err == nil && v.Leader == v.Master && v.Master == i+1 && (best < 0 || v.Term > term) {
			best, term = i, v.Term
		}
	}
	return best, term
}

// target is the master a master fault is for: the only one, the leader,
// or one of the followers; -1 when there is none to be found (no leader
// within a few seconds). term is the leader's.
func (c *cluster) target(ctx context.Context, f Fault) (i int, term uint64) {
	if len(c.masters) == 1 {
		return 0, 0
	}
	lead, term := c.leader(ctx)
	for deadline := time.Now().Add(3 * time.Second); lead < 0 && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(50 * time.Millisecond)
		lead, term = c.leader(ctx)
	}
	if lead < 0 || f.Kind != FollowerKill {
		return lead, term
	}
	var followers []int
	for i := range c.masters {
		if i != lead {
			followers = append(followers, i)
		}
	}
	return followers[f.Follower%len(followers)], term
}

// masterDown does a master fault to the master it is for, and undoes it
// after f.Down. After a leader fault it watches for the new leader.
func (c *cluster) masterDown(ctx context.Context, f Fault) {
	i, term := c.target(ctx, f)
	if i < 0 {
		c.hist.Add(Entry{Who: "fault", What: WhatPhase, Note: fmt.Sprintf("%s skipped: no master led for 3s", f.Kind)})
		return
	}
	c.mu.Lock()
	m := c.masters[i]
	if m.p == nil || m.paused || m.starting {
		c.mu.Unlock()
		return
	}
	f.Master = i + 1
	m.fault = f
	c.hist.Add(Entry{Who: "fault", What: WhatFaultBegin, Fault: &f, Master: i + 1})
	if f.Kind == LeaderPause {
		m.p.signal(syscall.SIGSTOP)
		m.paused = true
	} else {
		m.p.kill()
		m.p = nil
	}
	c.heals = append(c.heals, time.AfterFunc(f.Down, func() { c.masterUp(ctx, i) }))
	c.mu.Unlock()
	if f.Kind.leaderFault() {
		c.watchers.Go(func() { c.watchFailover(i, term) })
	}
}

// masterUp ends master i's fault: it continues, or starts again on its
// address and data dir (a replicated one rejoins as a follower). A leader
// that continues is watched until it steps down.
func (c *cluster) masterUp(ctx context.Context, i int) {
	c.mu.Lock()
	m := c.masters[i]
	f := m.fault
	if m.paused {
		m.p.signal(syscall.SIGCONT)
		m.paused = false
		c.hist.Add(Entry{Who: "fault", What: WhatFaultEnd, Fault: &f, Master: i + 1})
		c.mu.Unlock()
		c.watchers.Go(func() { c.watchStepDown(i) })
		return
	}
	if m.p != nil || m.starting {
		c.mu.Unlock()
		return
	}
	m.starting = true
	c.mu.Unlock()
	e := Entry{Who: "fault", What: WhatFaultEnd, Fault: &f, Master: i + 1}
	if err := c.startMaster(ctx, i); err != nil {
		e.Err = err.Error()
	}
	c.hist.Add(e)
	c.mu.Lock()
	m.starting = false
	c.mu.Unlock()
}

// watchFailover records, as soon as there is one, a /state answered by a
// new leader: a master other than old, the leader of term that was killed
// or stopped, or old itself in a later term (restarted, it won the
// election). It asks each master in turn, directly (a standby answers
// 307), so that the checker measures the failover, not how a client finds
// the leader.
func (c *cluster) watchFailover(old int, term uint64) {
	deadline := time.Now().Add(2 * failoverBound)
	for time.Now().Before(deadline) && c.watch.Err() == nil {
		for i := range c.masters {
			if s, err := c.stateOf(c.watch, i); err == nil && (s.Master != old+1 || s.Term > term) {
				c.hist.Add(Entry{Who: "tester", What: WhatSnapshot, Snapshot: s})
				return
			}
		}
		sleepUntil(c.watch, time.Now().Add(50*time.Millisecond))
	}
}

// stateOf reads master i's /state, if it leads.
func (c *cluster) stateOf(ctx context.Context, i int) (*Snapshot, error) {
	c.mu.Lock()
	up := c.masters[i].p != nil && !c.masters[i].paused
	c.mu.Unlock()
	if !up {
		return nil, fmt.Errorf("master %d is down", i+1)
	}
	st, err := getJSON[master.State](ctx, c, i, "/state")
	if err != nil {
		return nil, err
	}
	return snapshotOf(*st), nil
}

// watchStepDown asks a leader that was stopped and continues whom it takes
// for the leader, until it says another master leads or stepDownBound
// passes, and records its last answer.
func (c *cluster) watchStepDown(i int) {
	deadline := time.Now().Add(stepDownBound + time.Second)
	var last Entry
	for time.Now().Before(deadline) && c.watch.Err() == nil {
		v, err := c.view(c.watch, i)
		last = Entry{Who: "tester", What: WhatView, View: v, Master: i + 1}
		if err != nil {
			last.Err = err.Error()
		}
		last.T = c.hist.Since()
		if err == nil && v.Leader != i+1 && v.Leader != 0 {
			break
		}
		sleepUntil(c.watch, time.Now().Add(50*time.Millisecond))
	}
	if last.What != "" {
		c.hist.AddAt(last, last.T)
	}
}

// getJSON reads master i's answer to a GET of path, within a second.
func getJSON[T any](ctx context.Context, c *cluster, i int, path string) (*T, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(i)+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client(time.Second).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("master %d: %s: %s", i+1, path, resp.Status)
	}
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	return &v, nil
}
