package chaos

import (
	"strings"
	"testing"
)

// The summary tallies the failovers: seeds of three masters, leader
// faults with and without a new leader, changes of leader, and the
// spread of failover times.
func TestSummaryFailovers(t *testing.T) {
	sum := NewSummary()
	one := newScenario().end(5)
	sum.Add(&Result{Plan: *one.o.Plan, Entries: one.o.Entries})
	for _, took := range []float64{1.5, 2.5, 1} {
		s := failover().end(10)
		s.o.Plan.Masters = 3
		sum.Add(&Result{Plan: *s.o.Plan, Entries: s.o.Entries, LeaderChanges: leaderChanges(s.o.Entries),
			Failovers: []Failover{{Kind: LeaderKill, Leader: 2, Took: sec(took), Running: 2}, {Kind: LeaderPause, Took: -1}}})
	}
	if sum.Replicated != 3 || sum.LeaderChanges != 3 || sum.NoNewLeader != 3 || len(sum.FailoverSeconds) != 3 {
		t.Errorf("summary %+v", sum)
	}
	want := "| 3 | 6 | 6 | 3 | 3 | 1.00 s | 1.50 s | 2.50 s |"
	if md := sum.Markdown(); !strings.Contains(md, want) {
		t.Errorf("the summary has no row %q:\n%s", want, md)
	}
	if md := sum.Markdown(); !strings.Contains(md, "| leader-kill | 3 |") || !strings.Contains(md, "| follower-kill | 0 |") {
		t.Errorf("the summary does not count faults by kind:\n%s", md)
	}
}
