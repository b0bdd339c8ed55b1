package chaos

import (
	"fmt"
	"slices"
	"time"

	"github.com/apronlab/apron/internal/sorted"
)

// The rules of replicated masters: after the leader is killed or stopped,
// a new leader answers within 5 s of the election timeout, every
// framework subscribes again, every running task still runs; a stopped
// leader that continues steps down.

const (
	// resubscribeBound is how soon after the new leader first answers
	// every framework has subscribed again: its stream to the old leader
	// broke, or went silent for silentBeats heartbeats, and a SUBSCRIBE
	// waits masters.HeaderTimeout on a stopped master before the next.
	resubscribeBound = 10 * time.Second
	// runningWindow is how long after the new leader first answers its
	// snapshots must show the tasks that ran through the failover.
	runningWindow = 5 * time.Second
	// runningMargin: a task whose process ended within it of a snapshot
	// may be shown ended.
	runningMargin = time.Second
)

// Failover is a leader fault and the new leader it led to.
type Failover struct {
	Kind   FaultKind     `json:"kind"`
	At     time.Duration `json:"at"`     // the fault
	Master int           `json:"master"` // the leader it was done to
	Term   uint64        `json:"term"`   // that leader's term, from the last /state it answered (0: none)
	// Leader is the first master to answer /state after the fault as a new
	// leader (another master, or the same in a later term), Took after
	// the fault; 0 and -1: none did.
	Leader int           `json:"leader"`
	Took   time.Duration `json:"took"`
	// Running counts the tasks their frameworks knew running at the fault.
	Running int `json:"running"`
}

// failovers finds, for each leader fault, the first /state answered by a
// new leader.
func (hs *histories) failovers() []Failover {
	var out []Failover
	for _, w := range hs.windows {
		if !w.kind.leaderFault() {
			continue
		}
		fo := Failover{Kind: w.kind, At: w.begin, Master: w.master, Took: -1}
		for _, th := range hs.tasks {
			if th.runningAt(w.begin) {
				fo.Running++
			}
		}
		for _, e := range hs.o.Entries {
			s := e.Snapshot
			switch {
			case s == nil || s.Master == 0:
			case e.T < w.begin:
				if s.Master == w.master {
					fo.Term = s.Term
				}
			case s.Master != w.master || s.Term > fo.Term:
				fo.Leader, fo.Took = s.Master, e.T-w.begin
			}
			if fo.Took >= 0 {
				break
			}
		}
		out = append(out, fo)
	}
	return out
}

// back is when the cluster had a leader again after a window without
// one: the one master's restart, or the new leader's first answer; -1
// for none.
func (hs *histories) back(w window) time.Duration {
	if !w.kind.leaderFault() {
		return w.end
	}
	for _, fo := range hs.fos {
		if fo.At == w.begin && fo.Took >= 0 {
			return fo.At + fo.Took
		}
	}
	return -1
}

// checkFailovers applies the rules of replicated masters to each leader
// fault.
func (hs *histories) checkFailovers() []Violation {
	var out []Violation
	for _, fo := range hs.fos {
		if fo.Took < 0 || fo.Took > failoverBound {
			if fo.Took < 0 && hs.lastSnapshot() < fo.At+failoverBound {
				continue // the run ended first
			}
			took := "none did"
			if fo.Took >= 0 {
				took = fmt.Sprintf("m%d did after %.3fs", fo.Leader, fo.Took.Seconds())
			}
			out = append(out, Violation{Kind: FailoverSlow, Detail: fmt.Sprintf(
				"%s of m%d at %.3fs: no new leader answered /state within %v; %s", fo.Kind, fo.Master, fo.At.Seconds(), failoverBound, took)})
			continue
		}
		up := fo.At + fo.Took
		out = append(out, hs.checkResubscribed(fo, up)...)
		out = append(out, hs.checkStillRunning(fo, up)...)
	}
	return append(out, hs.checkSteppedDown()...)
}

// ledAgain says whether the master lost in fo led again, after a later
// failover, by t (seed 184: the new leader was killed in turn, and the
// one paused before was elected again).
func (hs *histories) ledAgain(fo Failover, master int, t time.Duration) bool {
	for _, later := range hs.fos {
		if later.At > fo.At && later.Leader == master && later.At+later.Took <= t {
			return true
		}
	}
	return false
}

// checkResubscribed: every framework that was subscribed when the leader
// was lost is subscribed again with its id (its SUBSCRIBED event, which a
// master sends once the subscription is committed, from the new leader or
// another master than the lost one) within resubscribeBound of the new
// leader's first answer, or later by its own failover's time away.
func (hs *histories) checkResubscribed(fo Failover, up time.Duration) []Violation {
	var out []Violation
	for _, fw := range hs.o.Plan.Frameworks {
		deadline := up + resubscribeBound
		id, again := "", time.Duration(-1)
		for _, e := range hs.o.Entries {
			switch {
			case e.What == WhatFaultBegin && e.Note == fw.Name && e.Fault.Kind == FrameworkFailover && e.T >= fo.At-e.Fault.Down && e.T <= deadline:
				deadline = max(deadline, e.T+e.Fault.Down+resubscribeBound)
			case e.Who != fw.Name || e.What != WhatEvent || e.Event.Subscribed == nil:
			case e.T < fo.At:
				id = e.Event.Subscribed.FrameworkID.Value
			case again < 0 && e.Event.Subscribed.FrameworkID.Value == id && (e.Master != fo.Master || e.Master == fo.Leader || hs.ledAgain(fo, e.Master, e.T)):
				again = e.T
			}
		}
		if id == "" || again >= 0 && again <= deadline || again < 0 && hs.end < deadline {
			continue
		}
		when := "it never was"
		if again >= 0 {
			when = fmt.Sprintf("it was at %.3fs", again.Seconds())
		}
		out = append(out, Violation{Kind: NotResubscribed, Detail: fmt.Sprintf(
			"framework %s was not subscribed again as %s within %v of the new leader m%d answering at %.3fs (%s of m%d at %.3fs); %s",
			fw.Name, id, deadline-up, fo.Leader, up.Seconds(), fo.Kind, fo.Master, fo.At.Seconds(), when)})
	}
	return out
}

// checkStillRunning: a task its framework knew running before the leader
// was lost (the old leader had committed it), whose process still ran and
// whose agent had no fault, is running in the new leader's snapshots of
// the first runningWindow, unless its framework had asked to kill it.
func (hs *histories) checkStillRunning(fo Failover, up time.Duration) []Violation {
	var out []Violation
	for _, id := range sorted.Keys(hs.tasks) {
		th := hs.tasks[id]
		if !th.runningAt(fo.At) {
			continue
		}
		for _, e := range hs.o.Entries {
			s := e.Snapshot
			if s == nil || e.T < up || e.T > up+runningWindow || s.Master == 0 {
				continue
			}
			if th.truth.Ended.IsZero() || hs.since(th.truth.Ended) < e.T+runningMargin || th.killedBy(e.T) ||
				hs.faulted(th.truth.Agent, false, fo.At-time.Second, e.T) {
				break
			}
			if i := slices.IndexFunc(s.Tasks, func(t SnapTask) bool { return t.ID == id }); i < 0 || !running(s.Tasks[i].State) {
				state := "not there"
				if i >= 0 {
					state = s.Tasks[i].State
				}
				out = append(out, Violation{Kind: TaskDisrupted, Task: id, Detail: fmt.Sprintf(
					"it ran through %s of m%d at %.3fs, its process until %.3fs, but the new leader m%d's /state at %.3fs has it %s",
					fo.Kind, fo.Master, fo.At.Seconds(), hs.since(th.truth.Ended).Seconds(), s.Master, e.T.Seconds(), state)})
				break
			}
		}
	}
	return out
}

// running says whether a state is a running task's.
func running(state string) bool { return state == "TASK_RUNNING" || state == "TASK_KILLING" }

// runningAt says whether the framework had heard the task run before t,
// and nothing since: a master forwards an update once it is committed.
func (th *taskHistory) runningAt(t time.Duration) bool {
	ok := false
	for _, u := range th.updates {
		if u.t < t {
			ok = u.s.State == "TASK_RUNNING"
		}
	}
	return ok && th.truth.Starts == 1
}

// killedBy says whether the framework sent a KILL of the task by t.
func (th *taskHistory) killedBy(t time.Duration) bool {
	return len(th.kills) > 0 && th.kills[0] <= t
}

// checkSteppedDown: a leader that was stopped while another was elected,
// and continues, says within stepDownBound that another master leads.
func (hs *histories) checkSteppedDown() []Violation {
	var out []Violation
	for _, w := range hs.windows {
		if w.kind != LeaderPause || hs.back(w) < 0 || hs.back(w) > w.end {
			continue
		}
		i := slices.IndexFunc(hs.o.Entries, func(e Entry) bool { return e.What == WhatView && e.Master == w.master && e.T >= w.end })
		var why string
		switch {
		case i < 0:
			why = "it was never asked"
		case hs.o.Entries[i].View == nil:
			why = "it did not answer: " + hs.o.Entries[i].Err
		case hs.o.Entries[i].View.Leader == w.master || hs.o.Entries[i].View.Leader == 0:
			why = fmt.Sprintf("at %.3fs it said m%d leads (term %d)", hs.o.Entries[i].T.Seconds(), hs.o.Entries[i].View.Leader, hs.o.Entries[i].View.Term)
		case hs.o.Entries[i].T > w.end+stepDownBound:
			why = fmt.Sprintf("it said m%d leads only at %.3fs", hs.o.Entries[i].View.Leader, hs.o.Entries[i].T.Seconds())
		default:
			continue
		}
		out = append(out, Violation{Kind: StaleLeader, Detail: fmt.Sprintf(
			"m%d, stopped at %.3fs while m%d was elected, continued at %.3fs and did not step down within %v: %s",
			w.master, w.begin.Seconds(), hs.newLeader(w), w.end.Seconds(), stepDownBound, why)})
	}
	return out
}

func (hs *histories) newLeader(w window) int {
	for _, fo := range hs.fos {
		if fo.At == w.begin {
			return fo.Leader
		}
	}
	return 0
}

// leaderChanges counts the changes of leader the snapshots show: a master
// answering in a later term than any before, other than the last leader.
func leaderChanges(entries []Entry) int {
	n, leader, term := 0, 0, uint64(0)
	for _, e := range entries {
		s := e.Snapshot
		if s == nil || s.Master == 0 || s.Term <= term {
			continue
		}
		if leader != 0 && s.Master != leader {
			n++
		}
		leader, term = s.Master, s.Term
	}
	return n
}
