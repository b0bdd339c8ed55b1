package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// The per-task rules: the end reached the framework exactly once and is
// the true one.

// terminals are a task's distinct terminal updates that are not refusals:
// updates with one uuid are one update (retransmissions); each update
// without a uuid is one.
func (th *taskHistory) terminals() []timedStatus {
	var out []timedStatus
	seen := map[api.UUID]bool{}
	for _, u := range th.updates {
		if !terminal(u.s.State) || rejection(u.s) || u.s.UUID != "" && seen[u.s.UUID] {
			continue
		}
		seen[u.s.UUID] = true
		out = append(out, u)
	}
	return out
}

func (th *taskHistory) rejections() int {
	n := 0
	for _, u := range th.updates {
		if rejection(u.s) {
			n++
		}
	}
	return n
}

func describe(us []timedStatus) string {
	var parts []string
	for _, u := range us {
		parts = append(parts, fmt.Sprintf("%s (%s, %.3fs, uuid %q)", u.s.State, u.s.Reason, u.t.Seconds(), short(u.s.UUID)))
	}
	return strings.Join(parts, ", ")
}

func (hs *histories) checkTask(th *taskHistory) []Violation {
	if !th.launched() {
		return nil
	}
	id := th.spec.ID
	v := func(kind, format string, args ...any) Violation {
		return Violation{Kind: kind, Task: id, Detail: fmt.Sprintf(format, args...)}
	}
	var out []Violation
	out = append(out, th.checkUUIDs(v)...)
	tr := th.truth
	if tr.Starts > 1 {
		out = append(out, v(RanTwice, "its command started %d times", tr.Starts))
	}
	if tr.Starts > 0 && th.stale {
		out = append(out, v(RanRefused, "launched on an offer already used, yet it ran"))
	}
	if len(tr.Alive) > 0 {
		out = append(out, v(ProcessLeft, "its processes %v still run at the end (%s)", tr.Alive, th.endingString()))
	}
	ends := th.terminals()
	if len(ends) == 0 && tr.Starts > 0 {
		ends = hs.learntAway(th)
	}
	attempts := th.accepts + th.uncertain
	switch {
	case len(ends) > 1:
		out = append(out, v(DupTerminal, "%d terminal updates reached the framework: %s", len(ends), describe(ends)))
	case len(ends) == 0 && (tr.Starts > 0 || th.rejections() == 0 && !th.reconciled):
		out = append(out, v(StatusLost, "no terminal update reached the framework; its process %s", th.endingString()))
	}
	if tr.Starts > 0 && th.rejections() > max(attempts-1, 0) {
		out = append(out, v(RanRefused, "the master refused %d of its %d launches, yet it ran", th.rejections(), attempts))
	}
	if len(ends) > 0 {
		out = append(out, hs.checkEnd(th, ends[0], v)...)
		out = append(out, th.checkAfterEnd(ends[0], v)...)
	}
	return append(out, hs.checkAnswer(th, ends, v)...)
}

type violationf func(kind, format string, args ...any) Violation

// learntAway is the end the master decided for a task (TASK_LOST or
// TASK_GONE of an unreachable agent's task) while its framework was
// away, as the framework learnt it by reconciling: a master drops the
// updates it makes for a framework that is not connected, as Mesos'
// does, and one that subscribes again reconciles. The framework must
// have been away between the last /state that showed the task and the
// answer.
func (hs *histories) learntAway(th *taskHistory) []timedStatus {
	if len(th.learnt) == 0 {
		return nil
	}
	a := th.learnt[0]
	seen := th.first
	for _, e := range hs.o.Entries {
		if e.T < a.t && e.Snapshot != nil && slices.ContainsFunc(e.Snapshot.Tasks, func(t SnapTask) bool { return t.ID == th.spec.ID && !terminal(t.State) }) {
			seen = e.T
		}
	}
	if hs.away(th.spec.Framework, seen, a.t) {
		return []timedStatus{a}
	}
	return nil
}

// away says whether framework i's stream was closed, and it not yet
// subscribed again, at some moment between a and b.
func (hs *histories) away(i int, a, b time.Duration) bool {
	name := hs.o.Plan.Frameworks[i].Name
	closed := time.Duration(-1)
	for _, e := range hs.o.Entries {
		if e.Who != name || e.T > b {
			continue
		}
		switch {
		case e.What == WhatClosed && closed < 0:
			closed = e.T
		case e.What == WhatEvent && e.Event.Subscribed != nil && closed >= 0:
			if e.T >= a {
				return true
			}
			closed = -1
		}
	}
	return closed >= 0
}

// checkUUIDs: one uuid, one state.
func (th *taskHistory) checkUUIDs(v violationf) []Violation {
	state := map[api.UUID]string{}
	for _, u := range th.updates {
		if u.s.UUID == "" {
			continue
		}
		if was, ok := state[u.s.UUID]; ok && was != u.s.State {
			return []Violation{v(UUIDReused, "uuid %s came as %s and as %s", u.s.UUID, was, u.s.State)}
		}
		state[u.s.UUID] = u.s.State
	}
	return nil
}

func (th *taskHistory) endingString() string {
	tr := th.truth
	switch {
	case tr.Starts == 0:
		return "never started"
	case len(tr.Alive) > 0:
		return "still runs"
	case tr.Ending == Exited:
		return fmt.Sprintf("exited with %d", tr.Code)
	case tr.Ending == Terminated:
		return "was ended by SIGTERM"
	}
	return "was SIGKILLed"
}

// allowed lists the terminal states that tell the truth of a task; lost
// says whether TASK_LOST is allowed too (its agent was unreachable and
// its framework is not partition-aware).
func (th *taskHistory) allowed(lost bool) []string {
	tr := th.truth
	killed := len(th.kills) > 0
	var ok []string
	switch {
	case tr.Starts == 0:
		ok = []string{"TASK_DROPPED", "TASK_ERROR", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_GONE"}
	case len(tr.Alive) > 0:
	case tr.Ending == Exited:
		ok = []string{"TASK_FINISHED"}
		if tr.Code != 0 {
			ok = []string{"TASK_FAILED"}
		}
		if killed {
			ok = append(ok, "TASK_KILLED")
		}
	case killed:
		ok = []string{"TASK_KILLED"}
	}
	if lost && !slices.Contains(ok, "TASK_LOST") {
		ok = append(ok, "TASK_LOST")
	}
	return ok
}

// checkEnd: the end is the true one; TASK_LOST only where the process
// was lost (or, for a framework that is not partition-aware, where the
// master could have found its agent unreachable).
func (hs *histories) checkEnd(th *taskHistory, end timedStatus, v violationf) []Violation {
	agent := th.truth.Agent
	if agent < 0 {
		agent = hs.agentIndex(th.agent)
	}
	lost := !th.pa && agent >= 0 && hs.unreachable(agent, th.first, end.t)
	ok := th.allowed(lost)
	if slices.Contains(ok, end.s.State) || hs.killedInRecovery(th, agent, end) {
		return nil
	}
	kind := WrongState
	if end.s.State == "TASK_LOST" || strings.HasPrefix(end.s.State, "TASK_GONE") {
		kind = FalseLoss
	}
	return []Violation{v(kind, "the framework got %s (%s: %q), but its process %s%s; true: %v",
		end.s.State, end.s.Reason, end.s.Message, th.endingString(), th.killNote(), ok)}
}

// killedInRecovery: a process the agent started but had not recorded
// (its pid not yet checkpointed) when it was killed -9 is killed by the
// restarted agent, which destroys the task's container and reports
// TASK_FAILED REASON_AGENT_RESTARTED, as Mesos' agent destroys the
// containers it cannot recover.
func (hs *histories) killedInRecovery(th *taskHistory, agent int, end timedStatus) bool {
	if th.truth.Ending != Killed || end.s.State != "TASK_FAILED" || end.s.Reason != api.ReasonAgentRestarted || agent < 0 {
		return false
	}
	for _, w := range hs.windows {
		if w.agent == agent && w.kind == AgentCrash && w.overlaps(th.first, end.t) {
			return true
		}
	}
	return false
}

func (th *taskHistory) killNote() string {
	if len(th.kills) == 0 {
		return ", and no KILL was sent"
	}
	return fmt.Sprintf(", a KILL was sent at %.3fs", th.kills[0].Seconds())
}

// checkAfterEnd: no new non-terminal update after the end.
func (th *taskHistory) checkAfterEnd(end timedStatus, v violationf) []Violation {
	before := map[api.UUID]bool{}
	for _, u := range th.updates {
		if u.t <= end.t {
			before[u.s.UUID] = true
			continue
		}
		if !terminal(u.s.State) && (u.s.UUID == "" || !before[u.s.UUID]) {
			return []Violation{v(AfterEnd, "%s at %.3fs after %s at %.3fs", u.s.State, u.t.Seconds(), end.s.State, end.t.Seconds())}
		}
	}
	return nil
}

// checkAnswer: the final RECONCILE answered, and agrees with the end the
// framework got (or says the master forgot the task, which it may once
// the end is acknowledged). A launch the master refused outright, on no
// agent of the cluster (a stale offer's), may go unanswered: a master that
// restarted with no memory cannot tell it from a task on an agent yet to
// re-register, and waits, as Mesos' master does for such tasks.
func (hs *histories) checkAnswer(th *taskHistory, ends []timedStatus, v violationf) []Violation {
	if hs.final < 0 || !hs.subscribedAtEnd(th.spec.Framework) {
		return nil
	}
	if len(th.answers) == 0 && len(ends) == 0 && th.rejections() > 0 && th.truth.Starts == 0 && hs.agentIndex(th.agent) < 0 {
		return nil
	}
	if len(th.answers) == 0 {
		return []Violation{v(ReconcileWrong, "the final RECONCILE got no answer for it")}
	}
	a := th.answers[len(th.answers)-1].s
	unknown := a.State == "TASK_LOST" || a.State == "TASK_UNKNOWN"
	switch {
	case !terminal(a.State) && a.State != "TASK_UNKNOWN":
		return []Violation{v(ReconcileWrong, "the final RECONCILE says %s, but its process %s", a.State, th.endingString())}
	case len(ends) > 0 && a.State != ends[0].s.State && !unknown:
		return []Violation{v(ReconcileWrong, "the final RECONCILE says %s, but the framework got %s", a.State, ends[0].s.State)}
	}
	return nil
}

// subscribedAtEnd says whether framework i's last subscription before
// the final RECONCILE succeeded.
func (hs *histories) subscribedAtEnd(i int) bool {
	name := hs.o.Plan.Frameworks[i].Name
	ok := false
	for _, e := range hs.o.Entries {
		if e.T > hs.final {
			break
		}
		if e.Who == name && (e.What == WhatSubscribe || e.What == WhatClosed) {
			ok = e.What == WhatSubscribe && e.Code == 200
		}
	}
	return ok
}
