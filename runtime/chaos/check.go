package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/internal/sorted"
	"github.com/apronlab/apron/runtime/api"
)

// The kinds of violation the checker reports.
const (
	StatusLost      = "status-lost"                // a launched task's end never reached its framework
	DupTerminal     = "duplicate-terminal"         // two different terminal updates of one task
	WrongState      = "wrong-state"                // the terminal state is not how the process ended
	FalseLoss       = "lost-without-loss"          // TASK_LOST or TASK_GONE for a task whose process was not lost
	AfterEnd        = "update-after-end"           // a new non-terminal update after the terminal one
	UUIDReused      = "uuid-reused"                // one uuid with two states
	RanTwice        = "ran-twice"                  // a task's command started more than once
	RanRefused      = "ran-when-refused"           // a task ran though the master refused it, or was launched on a used offer
	Overcommit      = "overcommit"                 // tasks running at once on an agent needed more than it has
	HeldAfterEnd    = "resources-held"             // the master held a task's resources long after its process ended
	Books           = "books"                      // /state's used, offered and total do not add up
	ReconcileWrong  = "reconcile"                  // the final RECONCILE did not answer, or disagreed
	NotReregistered = "agent-not-reregistered"     // an agent not back within 10 s of a master restart or a new leader
	FailoverSlow    = "failover-slow"              // no new leader answered within 5 s of the election timeout after the leader was lost
	NotResubscribed = "framework-not-resubscribed" // a framework did not subscribe again after a new leader was elected
	TaskDisrupted   = "task-disrupted"             // a task that ran through a failover was not running on the new leader
	StaleLeader     = "stale-leader"               // a stopped leader that continued did not step down
	FrameworkLost   = "framework-lost"             // a framework could not subscribe again with its id
	OfferedAway     = "offered-away"               // an agent's resources offered while it was down or disconnected
	NotQuiescent    = "not-quiescent"              // the recovery phase's bound passed with work still open
	ProcessLeft     = "process-left"               // a task's process still runs at the end
	CgroupLeft      = "cgroup-left"                // a task's cgroup is left at the end
)

// Violation is one broken promise.
type Violation struct {
	Kind   string `json:"kind"`
	Task   string `json:"task,omitempty"`
	Detail string `json:"detail"`
}

func (v Violation) String() string {
	if v.Task != "" {
		return fmt.Sprintf("%s [%s]: %s", v.Kind, v.Task, v.Detail)
	}
	return fmt.Sprintf("%s: %s", v.Kind, v.Detail)
}

// Observed is everything a run saw, for Check.
type Observed struct {
	Plan      *Plan
	Start     time.Time // when the history began (the truths' file times are wall times)
	Entries   []Entry
	Truths    map[string]Truth
	Processes map[string][]int
	Cgroups   []string
	Agents    []string
	Quiescent bool
	Open      string
}

// Check verifies a run: tasks, snapshots, agents, failovers, frameworks,
// leftovers.
func Check(o Observed) []Violation {
	hs := index(o)
	var out []Violation
	for _, id := range sorted.Keys(hs.tasks) {
		out = append(out, hs.checkTask(hs.tasks[id])...)
	}
	out = append(out, hs.checkOvercommit()...)
	out = append(out, hs.checkSnapshots()...)
	out = append(out, hs.checkOffers()...)
	out = append(out, hs.checkReregistration()...)
	out = append(out, hs.checkFailovers()...)
	out = append(out, hs.checkFrameworks()...)
	if !o.Quiescent {
		out = append(out, Violation{Kind: NotQuiescent, Detail: o.Open})
	}
	for _, cg := range o.Cgroups {
		out = append(out, Violation{Kind: CgroupLeft, Detail: cg})
	}
	return out
}

// window is a time an agent was down or paused, or a master.
type window struct {
	agent      int // -1: a master
	master     int // a master's id
	kind       FaultKind
	begin, end time.Duration
}

func (w window) overlaps(a, b time.Duration) bool { return w.begin <= b && a <= w.end }

// leaderLost says whether the window is one without the leader: the one
// master down, or the leader killed or stopped (not a follower killed).
func (w window) leaderLost() bool { return w.agent < 0 && w.kind != FollowerKill }

// taskHistory is what the history says of one task.
type taskHistory struct {
	spec       TaskSpec
	truth      Truth
	pa         bool
	accepts    int           // TaskInfos of it in ACCEPTs answered 202
	uncertain  int           // ... in ACCEPTs with no answer (not refused outright)
	first      time.Duration // its first ACCEPT; -1: none
	agent      string        // the agent its first ACCEPT named
	kills      []time.Duration
	updates    []timedStatus // not reconciliation answers
	answers    []timedStatus // reconciliation answers after the final RECONCILE
	reconciled bool          // a reconciliation answer said it ended
	learnt     []timedStatus // reconciliation answers that said it ended, TASK_LOST or TASK_GONE
	stale      bool          // launched by a StaleAccept: must never run
}

type timedStatus struct {
	t time.Duration
	s api.TaskStatus
}

// histories is the history indexed by task, with the fault windows.
type histories struct {
	o       Observed
	tasks   map[string]*taskHistory
	windows []window
	end     time.Duration
	final   time.Duration // the final RECONCILE; -1: none
	offers  []timedOffer
	fos     []Failover // the leader faults, with their new leaders
}

// timedOffer is an offer a framework received.
type timedOffer struct {
	t         time.Duration
	id, agent string
}

func index(o Observed) *histories {
	hs := &histories{o: o, tasks: map[string]*taskHistory{}, final: -1}
	stale := map[string]bool{}
	for _, f := range o.Plan.Faults {
		for _, id := range f.Tasks {
			stale[id] = f.Kind == StaleAccept
		}
	}
	for _, t := range o.Plan.Tasks {
		hs.tasks[t.ID] = &taskHistory{spec: t, truth: o.Truths[t.ID], pa: o.Plan.Frameworks[t.Framework].PartitionAware, first: -1, stale: stale[t.ID]}
	}
	open := map[int]window{}
	for _, e := range o.Entries {
		hs.end = e.T
		switch e.What {
		case WhatCall:
			hs.indexCall(e)
		case WhatEvent:
			hs.indexEvent(e)
		case WhatPhase:
			if e.Note == "final-reconcile" {
				hs.final = e.T
			}
		case WhatFaultBegin, WhatFaultEnd:
			hs.indexFault(e, open)
		}
	}
	for _, w := range open {
		w.end = hs.end
		hs.windows = append(hs.windows, w)
	}
	slices.SortStableFunc(hs.windows, func(a, b window) int { return int(a.begin - b.begin) })
	hs.fos = hs.failovers()
	return hs
}

func (hs *histories) indexCall(e Entry) {
	c := e.Call
	switch {
	case c.Accept != nil:
		for _, op := range c.Accept.Operations {
			if op.Launch == nil {
				continue
			}
			for _, ti := range op.Launch.TaskInfos {
				th := hs.tasks[ti.TaskID.Value]
				if th == nil {
					continue
				}
				switch {
				case e.Code == 202:
					th.accepts++
				case e.Code == 0 && !strings.Contains(e.Err, "connection refused"):
					th.uncertain++
				default:
					continue
				}
				if th.first < 0 {
					th.first, th.agent = e.T, ti.AgentID.Value
				}
			}
		}
	case c.Kill != nil:
		if th := hs.tasks[c.Kill.TaskID.Value]; th != nil {
			th.kills = append(th.kills, e.T)
		}
	}
}

func (hs *histories) indexEvent(e Entry) {
	if e.Event.Offers != nil {
		for _, o := range e.Event.Offers.Offers {
			hs.offers = append(hs.offers, timedOffer{e.T, o.ID.Value, o.AgentID.Value})
		}
	}
	if e.Event.Update == nil {
		return
	}
	s := e.Event.Update.Status
	th := hs.tasks[s.TaskID.Value]
	switch {
	case th == nil:
	case !reconciliation(s):
		th.updates = append(th.updates, timedStatus{e.T, s})
	default:
		th.reconciled = th.reconciled || reconciledEnd(s.State, len(th.updates) > 0)
		if s.State == "TASK_LOST" || s.State == "TASK_GONE" {
			th.learnt = append(th.learnt, timedStatus{e.T, s})
		}
		if hs.final >= 0 {
			th.answers = append(th.answers, timedStatus{e.T, s})
		}
	}
}

// indexFault pairs the begin and end of agent and master faults into
// windows.
func (hs *histories) indexFault(e Entry, open map[int]window) {
	f := e.Fault
	key := -1
	switch {
	case f.Kind.agentFault():
		key = f.Agent
	case !f.Kind.masterFault():
		return
	}
	if e.What == WhatFaultBegin {
		open[key] = window{agent: key, master: e.Master, kind: f.Kind, begin: e.T}
		return
	}
	if w, ok := open[key]; ok {
		w.end = e.T
		hs.windows = append(hs.windows, w)
		delete(open, key)
	}
}

// agentIndex is the index of an agent id, -1 if unknown.
func (hs *histories) agentIndex(id string) int { return slices.Index(hs.o.Agents, id) }

// since converts a wall time to the history's time.
func (hs *histories) since(t time.Time) time.Duration { return t.Sub(hs.o.Start) }

// unreachable says whether agent i was away for long enough that the
// master may have marked it unreachable, between a and b.
func (hs *histories) unreachable(i int, a, b time.Duration) bool {
	for _, w := range hs.windows {
		if w.agent == i && w.end-w.begin >= hs.o.Plan.AgentTimeout*8/10 && w.overlaps(a, b) {
			return true
		}
	}
	return false
}

func (th *taskHistory) launched() bool {
	return th.accepts+th.uncertain > 0 || len(th.updates) > 0 || th.truth.Starts > 0
}
