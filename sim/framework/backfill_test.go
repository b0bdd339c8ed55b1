package framework

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/apronlab/apron/allocator"
)

// rigid is a job of a test machine: submit, processors, run time and
// estimate, in seconds.
type rigid struct{ submit, procs, run, est int }

// replay schedules jobs on a machine of procs processors with passes of
// the policy at every submit and every end, as a batch scheduler does,
// and returns each job's start (s). shadows and reservations report, per
// job, the first shadow time EASY computed for it as the blocked head and
// the first reservation conservative backfilling gave it (-1: none).
func replay(policy Backfill, procs int, jobs []rigid) (starts, shadows, reservations []int) {
	n := len(jobs)
	starts, shadows, reservations = fill(n), fill(n), fill(n)
	plans := make([]*planJob, n)
	for i, j := range jobs {
		plans[i] = &planJob{need: vec{allocator.Units(int64(j.procs))}, est: sec(j.est), reserved: never}
	}
	var queue []int // waiting, in submit order
	next := 0       // the next to arrive
	for now := 0; next < n || len(queue) > 0; {
		for next < n && jobs[next].submit <= now {
			queue, next = append(queue, next), next+1
		}
		p := pass{now: sec(now), free: vec{allocator.Units(int64(procs))}}
		for i, j := range jobs {
			if starts[i] >= 0 && starts[i]+j.run > now {
				p.free = p.free.plus(plans[i].need, -1)
				p.rel = append(p.rel, release{at: max(sec(starts[i]+j.est), sec(now)), need: plans[i].need})
			}
		}
		for _, i := range queue {
			p.queue = append(p.queue, plans[i])
		}
		p.start = func(k int) bool { starts[queue[k]] = now; return true }
		p.run(policy)
		queue = slices.DeleteFunc(queue, func(i int) bool { return starts[i] >= 0 })
		for _, i := range queue {
			if reservations[i] < 0 && plans[i].reserved != never {
				reservations[i] = int(plans[i].reserved / time.Second)
			}
		}
		if len(queue) > 0 && shadows[queue[0]] < 0 && policy == BackfillEASY {
			if at, _, ok := p.shadow(plans[queue[0]].need); ok {
				shadows[queue[0]] = int(at / time.Second)
			}
		}
		now = nextEvent(now, jobs, starts, next)
	}
	return starts, shadows, reservations
}

// nextEvent is the next submit or end after now.
func nextEvent(now int, jobs []rigid, starts []int, next int) int {
	t := -1
	if next < len(jobs) {
		t = jobs[next].submit
	}
	for i, j := range jobs {
		if end := starts[i] + j.run; starts[i] >= 0 && end > now && (t < 0 || end < t) {
			t = end
		}
	}
	return t
}

func fill(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	return out
}

func sec(s int) time.Duration { return time.Duration(s) * time.Second }

// Schedules computed by hand on a machine of 10 processors, after the
// examples of Mu'alem and Feitelson (2001), Figure 1: a wide job (J2)
// blocked behind a running one.
func TestBackfillSchedules(t *testing.T) {
	for _, c := range []struct {
		name  string
		procs int // 10 if 0
		jobs  []rigid
		want  map[Backfill][]int
	}{{
		// J2 waits for J1 (shadow 10, 2 extra); J3 ends before the shadow
		// and starts at once; J4 runs past it but fits the extra 2
		// processors when J3 ends. In submit order J3 waits for J2 and J4
		// for J3.
		name: "short job and extra processors",
		jobs: []rigid{{0, 6, 10, 10}, {1, 8, 10, 10}, {2, 4, 5, 5}, {3, 2, 20, 20}},
		want: map[Backfill][]int{
			BackfillNone:         {0, 10, 20, 20},
			BackfillEASY:         {0, 10, 2, 7},
			BackfillConservative: {0, 10, 2, 7},
		},
	}, {
		// EASY protects only the head: J4 takes the extra processors for
		// 40 s and delays J3, the second in line, from 20 to 43.
		// Conservative backfilling reserved J3 at 20 and puts J4 after it.
		name: "EASY delays the second job",
		jobs: []rigid{{0, 6, 10, 10}, {1, 8, 10, 10}, {2, 9, 30, 30}, {3, 2, 40, 40}},
		want: map[Backfill][]int{
			BackfillNone:         {0, 10, 20, 50},
			BackfillEASY:         {0, 10, 43, 3},
			BackfillConservative: {0, 10, 20, 50},
		},
	}, {
		// J1 ends at 10, before its estimate of 20: J2's reservation (20)
		// moves up to 19, when J4, backfilled in J3's wake to end by the
		// old shadow, is done.
		name: "early end",
		jobs: []rigid{{0, 6, 10, 20}, {1, 8, 10, 10}, {2, 4, 5, 15}, {3, 4, 12, 12}},
		want: map[Backfill][]int{
			BackfillNone:         {0, 10, 20, 20},
			BackfillEASY:         {0, 19, 2, 7},
			BackfillConservative: {0, 19, 2, 7},
		},
	}, {
		// J1 overruns its estimate of 10 by 10 s: while it runs it is
		// expected to end at any moment, so J4 (4 processors for 5 s)
		// cannot start in the 4 free processors: it would delay J2.
		name: "overrun",
		jobs: []rigid{{0, 6, 20, 10}, {1, 8, 10, 10}, {2, 4, 5, 5}, {11, 4, 5, 5}},
		want: map[Backfill][]int{
			BackfillNone:         {0, 20, 30, 30},
			BackfillEASY:         {0, 20, 2, 30},
			BackfillConservative: {0, 20, 2, 30},
		},
	}, {
		// J4 arrives after J3 but fits beside J2 when J1 ends: conservative
		// backfilling reserves it there (10), ahead of J3 (20), and J5 beside
		// J3; EASY starts J4 then because it ends by J3's shadow time (20).
		// In submit order J4 waits for J3 to end, and J5 for J4 to start.
		name: "reservation in a future hole",
		jobs: []rigid{{0, 10, 10, 10}, {1, 6, 10, 10}, {2, 8, 10, 10}, {3, 4, 10, 10}, {4, 2, 25, 25}},
		want: map[Backfill][]int{
			BackfillNone:         {0, 10, 20, 30, 30},
			BackfillEASY:         {0, 10, 20, 10, 20},
			BackfillConservative: {0, 10, 20, 10, 20},
		},
	}, {
		// On 2 processors: J5 was reserved at 2, in the hole J3 leaves
		// beside J2, ahead of J4 (2 processors at 3). J3 ends at 2, a second
		// early: planned again in the order of their reservations, J5 keeps
		// 2 and J4 keeps 3 (in submit order J4 would take 2 and delay J5).
		// EASY and FCFS start J4, the head, at 2.
		name:  "a later job keeps its reservation",
		procs: 2,
		jobs:  []rigid{{0, 1, 1, 1}, {0, 1, 1, 1}, {0, 1, 1, 1}, {0, 1, 1, 2}, {0, 2, 1, 1}, {0, 1, 1, 1}},
		want: map[Backfill][]int{
			BackfillNone:         {0, 0, 1, 1, 2, 3},
			BackfillEASY:         {0, 0, 1, 1, 2, 3},
			BackfillConservative: {0, 0, 1, 1, 3, 2},
		},
	}} {
		for policy, want := range c.want {
			got, _, _ := replay(policy, cmp.Or(c.procs, 10), c.jobs)
			if !slices.Equal(got, want) {
				t.Errorf("%s, %q: starts %v; want %v", c.name, policy, got, want)
			}
		}
	}
}

// drawJobs draws a workload for a machine of procs processors whose jobs
// end by their estimates.
func drawJobs(t *rapid.T, procs int) []rigid {
	n := rapid.IntRange(1, 25).Draw(t, "jobs")
	jobs := make([]rigid, n)
	at := 0
	for i := range jobs {
		at += rapid.IntRange(0, 8).Draw(t, "gap")
		est := rapid.IntRange(1, 40).Draw(t, "est")
		jobs[i] = rigid{submit: at, procs: rapid.IntRange(1, procs).Draw(t, "procs"), est: est, run: rapid.IntRange(1, est).Draw(t, "run")}
	}
	return jobs
}

// With run times within their estimates: no policy ever runs more than the
// machine holds or starts a job before it arrives; EASY starts no head
// later than the first shadow time it computed for it; conservative
// backfilling starts no job later than its first reservation.
func TestBackfillProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		procs := rapid.IntRange(1, 16).Draw(t, "machine")
		jobs := drawJobs(t, procs)
		for _, policy := range []Backfill{BackfillNone, BackfillEASY, BackfillConservative} {
			starts, shadows, reservations := replay(policy, procs, jobs)
			for i, j := range jobs {
				switch {
				case starts[i] < j.submit:
					t.Fatalf("%q: job %d %+v starts at %d", policy, i, j, starts[i])
				case shadows[i] >= 0 && starts[i] > shadows[i]:
					t.Fatalf("EASY: head job %d %+v starts at %d, after its shadow time %d", i, j, starts[i], shadows[i])
				case reservations[i] >= 0 && starts[i] > reservations[i]:
					t.Fatalf("conservative: job %d %+v starts at %d, after its reservation %d", i, j, starts[i], reservations[i])
				}
				busy := 0
				for k, o := range jobs {
					if starts[k] <= starts[i] && starts[i] < starts[k]+o.run {
						busy += o.procs
					}
				}
				if busy > procs {
					t.Fatalf("%q: %d of %d processors in use at %d", policy, busy, procs, starts[i])
				}
			}
		}
	})
}
