package chaos

import (
	"slices"
	"testing"

	"github.com/apronlab/apron/runtime/api"
)

// replicated makes the scenario's cluster three masters, m1 leading in
// term 2, both frameworks subscribed to it.
func (s *scenario) replicated() *scenario {
	s.o.Plan.Masters = 3
	return s.lead(1, 2).subscribed(0.05, "pa", 1).subscribed(0.05, "np", 1)
}

// lead makes master m, in term, answer the snapshots from now on.
func (s *scenario) lead(m int, term uint64) *scenario {
	s.leader, s.term = m, term
	return s
}

// subscribed is framework fw's SUBSCRIBED event from master m, with its
// id ("fw-" and its name).
func (s *scenario) subscribed(t float64, fw string, m int) *scenario {
	return s.add(t, Entry{Who: fw, What: WhatEvent, Master: m, Event: &api.Event{Type: api.EventSubscribed,
		Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw-" + fw}, HeartbeatIntervalSeconds: 1}}})
}

// masterFault is a fault of master m from a to b.
func (s *scenario) masterFault(kind FaultKind, m int, a, b float64) *scenario {
	f := Fault{Kind: kind, Master: m}
	s.add(a, Entry{Who: "fault", What: WhatFaultBegin, Fault: &f, Master: m})
	return s.add(b, Entry{Who: "fault", What: WhatFaultEnd, Fault: &f, Master: m})
}

// view is what master m said of the leader at t.
func (s *scenario) view(t float64, m, leader int) *scenario {
	return s.add(t, Entry{Who: "tester", What: WhatView, Master: m, View: &View{Master: m, Leader: leader, Term: 3}})
}

// failover is a leader kill of m1 at 2 (restarted at 4), m2 leading in
// term 3 from 3.5, both frameworks subscribed to it at 3; the new
// leader's first snapshot shows tasks.
func failover(tasks ...string) *scenario {
	return newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 4).
		lead(2, 3).snapshot(3.5, "", tasks...).subscribed(3, "pa", 2).subscribed(3, "np", 2)
}

func TestCheckFailovers(t *testing.T) {
	pause := func() *scenario {
		return newScenario().replicated().snapshot(1, "").masterFault(LeaderPause, 1, 2, 6).
			lead(2, 3).snapshot(3.5, "").subscribed(5, "pa", 2).subscribed(5, "np", 2)
	}
	tests := []struct {
		name string
		s    *scenario
		want []string
	}{
		{"a new leader in time", failover().end(10), nil},
		{"a new leader late", newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 4).
			lead(2, 3).snapshot(9.5, "").subscribed(9, "pa", 2).subscribed(9, "np", 2).end(12), []string{FailoverSlow + ":"}},
		{"no new leader", newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 4).snapshot(12, "").end(13),
			[]string{FailoverSlow + ":"}},
		{"the old leader elected again", newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 2.5).
			lead(1, 3).snapshot(4, "").subscribed(3.5, "pa", 1).subscribed(3.5, "np", 1).end(10), nil},
		{"a follower killed", newScenario().replicated().snapshot(1, "").masterFault(FollowerKill, 2, 2, 4).snapshot(3, "").end(10), nil},
		{"a framework not subscribed again", newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 4).
			lead(2, 3).snapshot(3.5, "").subscribed(3, "pa", 2).end(16), []string{NotResubscribed + ":"}},
		{"a framework subscribed again late", newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 4).
			lead(2, 3).snapshot(3.5, "").subscribed(3, "pa", 2).subscribed(14, "np", 2).end(16), []string{NotResubscribed + ":"}},
		{"a framework away by its own failover", newScenario().replicated().snapshot(1, "").masterFault(LeaderKill, 1, 2, 4).
			add(2.5, Entry{Who: "fault", What: WhatFaultBegin, Note: "np", Fault: &Fault{Kind: FrameworkFailover, Down: sec(4)}}).
			lead(2, 3).snapshot(3.5, "").subscribed(3, "pa", 2).subscribed(14, "np", 2).end(16), nil},
		{"the stopped leader elected again after its successor died", pause().with(func(o *Observed) {
			o.Entries = slices.DeleteFunc(o.Entries, func(e Entry) bool { return e.Who == "np" && e.Master == 2 })
		}).view(6.5, 1, 2).masterFault(LeaderKill, 2, 7, 8).lead(1, 4).snapshot(8.5, "").subscribed(8.6, "np", 1).end(16), nil},
		{"subscribed only to the stopped leader", pause().subscribed(6.05, "np", 1).end(16).with(func(o *Observed) {
			o.Entries = slices.DeleteFunc(o.Entries, func(e Entry) bool { return e.Who == "np" && e.Master == 2 })
		}), []string{NotResubscribed + ":", StaleLeader + ":"}},
		{"a task still running on the new leader", failover("pa-t1 TASK_RUNNING 1").finished("pa-t1", 1, 8, 0).end(10, "pa-t1 TASK_FINISHED"), nil},
		{"a task gone on the new leader", failover("pa-t1 TASK_RUNNING 1").finished("pa-t1", 1, 8, 0).snapshot(4, "", "pa-t1 TASK_LOST 1").
			end(10, "pa-t1 TASK_FINISHED"), []string{TaskDisrupted + ":pa-t1"}},
		{"a task not there on the new leader", failover().finished("pa-t1", 1, 8, 0).end(10, "pa-t1 TASK_FINISHED"),
			[]string{TaskDisrupted + ":pa-t1"}},
		{"a task that ended meanwhile", failover().finished("pa-t1", 1, 3.2, 0).end(10, "pa-t1 TASK_FINISHED"), nil},
		{"a task killed meanwhile", failover().accept(1, 202, "pa-t1").update(1.01, "pa-t1", "TASK_RUNNING", "u1", "").
			ran("pa-t1", 1.02, 5, Terminated, 0).kill(3, "pa-t1").update(5.1, "pa-t1", "TASK_KILLED", "u2", "").end(10, "pa-t1 TASK_KILLED"), nil},
		{"a task whose agent was away", failover().finished("pa-t1", 1, 8, 0).window(0, AgentCrash, 1.5, 6).end(10, "pa-t1 TASK_FINISHED"), nil},
		{"a stopped leader steps down", pause().view(6.1, 1, 2).end(10), nil},
		{"a stopped leader that still leads", pause().view(7.5, 1, 1).end(10), []string{StaleLeader + ":"}},
		{"a stopped leader that steps down late", pause().view(8.5, 1, 2).end(10), []string{StaleLeader + ":"}},
		{"a stopped leader never asked", pause().end(10), []string{StaleLeader + ":"}},
		{"agents back on the new leader", failover().snapshot(13.6, "").end(14), nil},
		{"agents not back on the new leader", failover().snapshot(13.6, "").end(14).with(func(o *Observed) {
			for _, e := range o.Entries {
				if e.Snapshot != nil && e.Snapshot.Master == 2 && e.Note == "" {
					e.Snapshot.Agents[0].Connected = false
				}
			}
		}), []string{NotReregistered + ":"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.kinds(); !slices.Equal(got, tt.want) {
				t.Errorf("violations %v, want %v\n%v", got, tt.want, Check(tt.s.o))
			}
		})
	}
}

func TestFailoversAndLeaderChanges(t *testing.T) {
	s := failover("pa-t1 TASK_RUNNING 1").finished("pa-t1", 1, 8, 0).finished("np-t1", 1, 1.5, 0).end(10).snapshot(10.5, "final")
	hs := index(s.o)
	if len(hs.fos) != 1 || hs.fos[0] != (Failover{Kind: LeaderKill, At: sec(2), Master: 1, Term: 2, Leader: 2, Took: sec(1.5), Running: 1}) {
		t.Errorf("failovers %+v, want m1's kill at 2s, m2 leading 1.5s later", hs.fos)
	}
	// a stale answer of the old leader in its old term is no change
	s.lead(1, 2).snapshot(4, "").lead(2, 3).snapshot(4.5, "")
	if n := leaderChanges(s.o.Entries); n != 1 {
		t.Errorf("%d leader changes, want 1", n)
	}
}
