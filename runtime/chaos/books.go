package chaos

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/sorted"
	"github.com/apronlab/apron/runtime/master"
)

// The rules on resources, agents and frameworks.

const (
	tolerance = 0.01 // /state's amounts are rounded to 0.001
	// heldMargin is how long after a process ends the master may still
	// hold its task's resources: an agent retries its oldest update at
	// least every 10 s, with the latest state.
	heldMargin = 10500 * time.Millisecond
	// exitNoticed is how soon an agent knows a task's process ended.
	exitNoticed = 500 * time.Millisecond
	// snapshotSlack is how much later a /state may show what the master
	// did by the time it forwarded an update.
	snapshotSlack = 100 * time.Millisecond
	// streamNoticed is how soon the master knows an agent's stream
	// closed once its process is gone.
	streamNoticed = 500 * time.Millisecond
	// reregisterBound is how soon after a master restart every agent is
	// back (issue 14).
	reregisterBound = 10 * time.Second
	// stepDownBound is how soon a leader that was stopped (while the
	// others elected a new one) and continues knows it no longer leads.
	stepDownBound = 2 * time.Second
	// subscribeBound is how long a framework may be refused its id after
	// a master restart, while agents re-register with its info.
	subscribeBound = 15 * time.Second
)

// checkOvercommit: the tasks whose processes ran at once on an agent
// fitted in it. Intervals are from the task's own files, so they are
// within the time the master held the task's resources.
func (hs *histories) checkOvercommit() []Violation {
	type edge struct {
		t         time.Time
		cpus, mem float64
		task      string
	}
	var out []Violation
	for i := range hs.o.Agents {
		var edges []edge
		for _, id := range sorted.Keys(hs.tasks) {
			th := hs.tasks[id]
			tr := th.truth
			if tr.Agent != i || tr.Starts == 0 || tr.Ended.IsZero() || tr.Started.IsZero() {
				continue
			}
			end := tr.Ended
			if ends := th.terminals(); len(ends) > 0 {
				// the master gave up the task's resources when it told
				// the framework (TASK_LOST of an unreachable agent)
				end = minTime(end, hs.o.Start.Add(ends[0].t))
			}
			edges = append(edges, edge{tr.Started, th.spec.CPUs, th.spec.Mem, id}, edge{end, -th.spec.CPUs, -th.spec.Mem, id})
		}
		slices.SortStableFunc(edges, func(a, b edge) int {
			if c := a.t.Compare(b.t); c != 0 {
				return c
			}
			return cmp.Compare(math.Copysign(1, a.cpus), math.Copysign(1, b.cpus)) // ends first
		})
		var cpus, mem float64
		running := map[string]bool{}
		for _, e := range edges {
			cpus, mem = cpus+e.cpus, mem+e.mem
			running[e.task] = e.cpus > 0
			if cpus > hs.o.Plan.AgentCPUs+tolerance || mem > hs.o.Plan.AgentMem+tolerance {
				var ids []string
				for _, id := range sorted.Keys(running) {
					if running[id] {
						ids = append(ids, id)
					}
				}
				out = append(out, Violation{Kind: Overcommit, Detail: fmt.Sprintf("agent a%d ran cpus %.2f, mem %.0f at %.3fs (it has %s): %s",
					i+1, cpus, mem, hs.since(e.t).Seconds(), hs.o.Plan.AgentResources, strings.Join(ids, ", "))})
				break
			}
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// checkSnapshots: in every /state, used is what the running tasks hold,
// and no agent has more used and offered than it has; no task whose
// process ended long ago holds resources; at the end, nothing is used and
// every agent is back whole.
func (hs *histories) checkSnapshots() []Violation {
	var out []Violation
	first := map[string]int{} // a rule's first violation in out
	count := map[string]int{}
	var last *Entry
	for i, e := range hs.o.Entries {
		if e.What != WhatSnapshot {
			continue
		}
		last = &hs.o.Entries[i]
		for _, im := range hs.balance(e.Snapshot) {
			if count[im.rule]++; count[im.rule] == 1 {
				first[im.rule] = len(out)
				kind := Books
				if strings.HasPrefix(im.rule, "offered away") {
					kind = OfferedAway
				}
				out = append(out, Violation{Kind: kind, Detail: fmt.Sprintf("at %.3fs: %s", e.T.Seconds(), im.msg)})
			}
		}
		for _, v := range hs.held(e) {
			if count["held "+v.Task]++; count["held "+v.Task] == 1 {
				out = append(out, v)
			}
		}
	}
	for rule, i := range first {
		if count[rule] > 1 {
			out[i].Detail += fmt.Sprintf(" (and in %d later snapshots)", count[rule]-1)
		}
	}
	if last == nil || last.Note != "final" {
		return append(out, Violation{Kind: Books, Detail: "no /state at the end"})
	}
	for _, msg := range hs.quiescentBooks(last.Snapshot) {
		out = append(out, Violation{Kind: Books, Detail: "at the end: " + msg})
	}
	return out
}

// imbalance is one thing that does not add up in a snapshot, with the
// rule it breaks, so that a run reports each rule once.
type imbalance struct{ rule, msg string }

// holding are the snapshot's tasks that hold resources: not terminal,
// not unreachable, on an active agent.
func holding(s *Snapshot) []SnapTask {
	active := map[string]bool{}
	for _, a := range s.Agents {
		active[a.ID] = a.State == "active"
	}
	var out []SnapTask
	for _, t := range s.Tasks {
		if !terminal(t.State) && t.State != "TASK_UNREACHABLE" && active[t.Agent] {
			out = append(out, t)
		}
	}
	return out
}

// balance lists what does not add up in one snapshot.
func (hs *histories) balance(s *Snapshot) []imbalance {
	var out []imbalance
	sum := map[string]allocator.Resources{}
	var all allocator.Resources
	for _, t := range holding(s) {
		r, err := allocator.ParseResources(t.Resources)
		if err != nil {
			out = append(out, imbalance{"resources of " + t.ID, fmt.Sprintf("task %s has resources %q: %v", t.ID, t.Resources, err)})
			continue
		}
		sum[t.Agent] = sum[t.Agent].Add(r)
		all = all.Add(r)
	}
	if !same(s.Used, all) {
		out = append(out, imbalance{"used", fmt.Sprintf("used %v, but the running tasks hold %v", s.Used, all)})
	}
	for _, a := range s.Agents {
		if (a.State != "active" || !a.Connected) && (a.Offered["cpus"] > tolerance || a.Offered["mem"] > tolerance) {
			out = append(out, imbalance{"offered away " + a.ID, fmt.Sprintf("agent %s is %s (connected %v), yet %v of it is offered", a.ID, a.State, a.Connected, a.Offered)})
			continue
		}
		if a.State != "active" {
			continue
		}
		if !same(a.Used, sum[a.ID]) {
			out = append(out, imbalance{"used of " + a.ID, fmt.Sprintf("agent %s: used %v, but its running tasks hold %v", a.ID, a.Used, sum[a.ID])})
		}
		for _, name := range []string{"cpus", "mem"} {
			if a.Used[name]+a.Offered[name] > a.Total[name]+tolerance {
				out = append(out, imbalance{"over " + a.ID, fmt.Sprintf("agent %s: %s used %g + offered %g > total %g", a.ID, name, a.Used[name], a.Offered[name], a.Total[name])})
			}
		}
	}
	return out
}

// same says whether amounts equal resources, name by name.
func same(a master.Amounts, r allocator.Resources) bool {
	b := map[string]float64{}
	for _, e := range r {
		b[e.Name] += e.Value.Float()
	}
	for _, k := range []string{"cpus", "mem"} {
		if math.Abs(a[k]-b[k]) > tolerance {
			return false
		}
	}
	return true
}

// held: a task the master shows holding resources after its process
// ended, while its agent and the master were up, past when the master
// must have known: the first update of the task forwarded after the end
// (the agent sends its oldest update with the latest state, and the
// master frees the resources of a terminal latest state before any
// acknowledgement), or heldMargin after the end at the latest.
func (hs *histories) held(e Entry) []Violation {
	var out []Violation
	for _, t := range holding(e.Snapshot) {
		th := hs.tasks[t.ID]
		if th == nil || th.truth.Ended.IsZero() {
			continue
		}
		ended := hs.since(th.truth.Ended)
		known, how := ended+heldMargin, fmt.Sprintf("%v after", heldMargin)
		for _, u := range th.updates {
			if u.s.UUID != "" && u.t >= ended+exitNoticed && u.t+snapshotSlack < known {
				known, how = u.t+snapshotSlack, fmt.Sprintf("the master forwarded its %s update (uuid %s) at %.3fs, after", u.s.State, short(u.s.UUID), u.t.Seconds())
				break
			}
		}
		if e.T < known || hs.faulted(th.truth.Agent, true, ended-time.Second, e.T) {
			continue
		}
		out = append(out, Violation{Kind: HeldAfterEnd, Task: t.ID, Detail: fmt.Sprintf(
			"at %.3fs the master shows it %s holding %s; its process %s at %.3fs (%s that), and its agent and the master were up since",
			e.T.Seconds(), t.State, t.Resources, th.endingString(), ended.Seconds(), how)})
	}
	return out
}

// faulted says whether agent i (or the master, with master) had a fault
// between a and b.
func (hs *histories) faulted(i int, master bool, a, b time.Duration) bool {
	for _, w := range hs.windows {
		if (w.agent == i || master && w.leaderLost()) && w.overlaps(a, b) {
			return true
		}
	}
	return false
}

// quiescentBooks: at the end no task is left, nothing is used, and every
// agent is active with all it has.
func (hs *histories) quiescentBooks(s *Snapshot) []string {
	var out []string
	for _, t := range s.Tasks {
		out = append(out, fmt.Sprintf("the master still has task %s %s holding %s", t.ID, t.State, t.Resources))
	}
	if s.Used["cpus"] > tolerance || s.Used["mem"] > tolerance {
		out = append(out, fmt.Sprintf("used %v with no task running", s.Used))
	}
	p := hs.o.Plan
	want := map[string]float64{"cpus": p.AgentCPUs * float64(p.Agents), "mem": p.AgentMem * float64(p.Agents)}
	for k, v := range want {
		if math.Abs(s.Total[k]-v) > tolerance {
			out = append(out, fmt.Sprintf("total %s %g, want %g (%d agents of %s)", k, s.Total[k], v, p.Agents, p.AgentResources))
		}
	}
	return out
}

// checkOffers: no offer of an agent whose process was down (killed or
// stopped, and not yet started again) once the master could know it,
// its stream having closed.
func (hs *histories) checkOffers() []Violation {
	var out []Violation
	for _, w := range hs.windows {
		if w.agent < 0 || w.kind == AgentPause {
			continue
		}
		for _, o := range hs.offers {
			if o.agent == hs.o.Agents[w.agent] && o.t >= w.begin+streamNoticed && o.t < w.end {
				out = append(out, Violation{Kind: OfferedAway, Detail: fmt.Sprintf("offer %s of agent a%d at %.3fs, while the agent was down (%s from %.3fs to %.3fs)",
					o.id, w.agent+1, o.t.Seconds(), w.kind, w.begin.Seconds(), w.end.Seconds())})
				break
			}
		}
	}
	return out
}

// checkReregistration: within 10 s of the master coming back (or of a
// new leader's first answer), every agent that was not itself under a
// fault is active and connected.
func (hs *histories) checkReregistration() []Violation {
	var out []Violation
	for _, w := range hs.windows {
		if !w.leaderLost() {
			continue
		}
		up := hs.back(w)
		if up < 0 || hs.masterDownBetween(up, up+reregisterBound) || hs.lastSnapshot() < up+reregisterBound {
			continue
		}
		for i, name := range hs.o.Agents {
			if hs.faulted(i, false, up-time.Second, up+reregisterBound) {
				continue
			}
			if !hs.connectedBetween(name, up, up+reregisterBound) {
				out = append(out, Violation{Kind: NotReregistered, Detail: fmt.Sprintf(
					"agent %s (a%d) was not active and connected within %v of the master coming back (%s) at %.3fs", name, i+1, reregisterBound, w.kind, up.Seconds())})
			}
		}
	}
	return out
}

func (hs *histories) masterDownBetween(a, b time.Duration) bool {
	for _, w := range hs.windows {
		if w.leaderLost() && w.begin > a && w.begin <= b {
			return true
		}
	}
	return false
}

func (hs *histories) lastSnapshot() time.Duration {
	var t time.Duration
	for _, e := range hs.o.Entries {
		if e.What == WhatSnapshot {
			t = e.T
		}
	}
	return t
}

func (hs *histories) connectedBetween(agent string, a, b time.Duration) bool {
	for _, e := range hs.o.Entries {
		if e.What == WhatSnapshot && e.T >= a && e.T <= b && slices.Contains(e.Snapshot.connected([]string{agent}), agent) {
			return true
		}
	}
	return false
}

// checkFrameworks: a framework that subscribes again with its id is taken
// back within subscribeBound, if it had tasks that had not ended (a
// master that restarted learns of it from the agents that run them).
func (hs *histories) checkFrameworks() []Violation {
	var out []Violation
	for i, fw := range hs.o.Plan.Frameworks {
		var since time.Duration = -1
		var why string
		attempts := 0
		judge := func(until time.Duration, how string, last bool) {
			if since < 0 || until-since <= subscribeBound && !last {
				return
			}
			if live := hs.live(i, since); len(live) > 0 {
				out = append(out, Violation{Kind: FrameworkLost, Detail: fmt.Sprintf(
					"framework %s subscribing again with its id was refused %d times from %.3fs %s (its tasks %v had not ended): %s",
					fw.Name, attempts, since.Seconds(), how, live, why)})
			}
		}
		for _, e := range hs.o.Entries {
			if e.Who != fw.Name || e.What != WhatSubscribe {
				continue
			}
			withID := e.Call.Subscribe.FrameworkInfo.ID != nil
			switch {
			case e.Code == 200:
				judge(e.T, fmt.Sprintf("until %.3fs", e.T.Seconds()), false)
				since, attempts = -1, 0
			case e.Code != 0 && withID:
				if since < 0 {
					since, why = e.T, fmt.Sprintf("%d %s", e.Code, e.Err)
				}
				attempts++
			}
		}
		judge(hs.end, "to the end", true)
	}
	return out
}

// live lists framework i's tasks launched before t whose end had not
// reached it by t.
func (hs *histories) live(i int, t time.Duration) []string {
	var out []string
	for _, id := range sorted.Keys(hs.tasks) {
		th := hs.tasks[id]
		if th.spec.Framework != i || th.first < 0 || th.first > t {
			continue
		}
		ended := false
		for _, u := range th.updates {
			ended = ended || u.t <= t && terminal(u.s.State) && (!rejection(u.s) || th.rejections() >= th.accepts+th.uncertain)
		}
		if !ended {
			out = append(out, id)
		}
	}
	return out
}
