package framework_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
)

// recorder is a Driver that records what a framework does, for tests: a
// harness in the manner of Nomad's plan recorder.
type recorder struct {
	now      time.Duration
	launched map[framework.OfferID][]framework.Task
	declined []framework.OfferID
	calls    []string
	timers   []func()
}

func newRecorder() *recorder { return &recorder{launched: map[framework.OfferID][]framework.Task{}} }

func (r *recorder) Now() time.Duration { return r.now }
func (r *recorder) Launch(o framework.OfferID, ts []framework.Task, _ time.Duration) {
	r.launched[o] = append(r.launched[o], ts...)
	r.calls = append(r.calls, "launch "+string(o))
}
func (r *recorder) Decline(o framework.OfferID, _ time.Duration) {
	r.declined = append(r.declined, o)
	r.calls = append(r.calls, "decline "+string(o))
}
func (r *recorder) Suppress()                       { r.calls = append(r.calls, "suppress") }
func (r *recorder) Revive()                         { r.calls = append(r.calls, "revive") }
func (r *recorder) Kill(framework.TaskID)           {}
func (r *recorder) After(_ time.Duration, f func()) { r.timers = append(r.timers, f) }
func (r *recorder) Submitted(framework.JobInfo) error {
	return nil
}

// fire runs the pending timers (job arrivals), once.
func (r *recorder) fire() {
	ts := r.timers
	r.timers = nil
	for _, f := range ts {
		f()
	}
}

func offer(id string, res string) framework.Offer {
	return framework.Offer{ID: framework.OfferID(id), Agent: id, Resources: allocator.MustParseResources(res)}
}

func job(id string, n int, res traces.Resources) *traces.Job {
	j := &traces.Job{ID: id}
	for range n {
		j.Tasks = append(j.Tasks, traces.Task{Resources: res, Duration: time.Minute})
	}
	return j
}

// A rigid job starts only when all its tasks fit in the offers it holds:
// it hoards the first offer, then launches on both when the second comes.
func TestGangHoldsOffersUntilAllTasksFit(t *testing.T) {
	r := newRecorder()
	b := framework.NewBatch(framework.BatchConfig{Gang: true}, traces.Jobs{job("mpi", 4, traces.Resources{CPUs: 1})}.Source())
	b.Subscribed(r)
	r.fire()
	b.Offers(r, []framework.Offer{offer("a", "cpus:2;mem:1024")})
	if len(r.launched) != 0 || len(r.declined) != 0 {
		t.Fatalf("with 2 of 4 CPUs: launched %v, declined %v; want the offer held", r.launched, r.declined)
	}
	b.Offers(r, []framework.Offer{offer("b", "cpus:2;mem:1024")})
	if len(r.launched["a"]) != 2 || len(r.launched["b"]) != 2 {
		t.Fatalf("launched %v; want 2 tasks on each offer", r.launched)
	}
}

// Elastic jobs share the framework's offers fairly: the job with fewer
// running tasks goes first, so two jobs end up with 3 tasks each.
func TestElasticJobsShareFairly(t *testing.T) {
	r := newRecorder()
	b := framework.NewBatch(framework.BatchConfig{}, traces.Jobs{job("j1", 10, traces.Resources{CPUs: 1}), job("j2", 10, traces.Resources{CPUs: 1})}.Source())
	b.Subscribed(r)
	r.fire() // j1 arrives, schedules j2
	r.fire() // j2 arrives
	b.Offers(r, []framework.Offer{offer("a", "cpus:6;mem:1024")})
	per := map[string]int{}
	for _, task := range r.launched["a"] {
		per[task.Job]++
	}
	if per["j1"] != 3 || per["j2"] != 3 {
		t.Fatalf("tasks per job %v; want 3 and 3", per)
	}
}

// A batch framework with nothing to run suppresses offers and revives when
// work arrives.
func TestBatchSuppressesWhenIdle(t *testing.T) {
	r := newRecorder()
	b := framework.NewBatch(framework.BatchConfig{}, nil)
	b.Subscribed(r)
	b.Feed(job("j", 1, traces.Resources{CPUs: 1}))
	b.Offers(r, []framework.Offer{offer("a", "cpus:4;mem:1024")})
	want := []string{"suppress", "revive", "launch a", "suppress"}
	if !slices.Equal(r.calls, want) {
		t.Fatalf("calls %v; want %v", r.calls, want)
	}
	b.Update(r, framework.Status{Task: "j/0", State: framework.TaskFinished})
	b.Close()
	if !b.Idle() {
		t.Fatal("not idle after its only task finished and the feed closed")
	}
}

func TestServiceKeepsInstancesRunning(t *testing.T) {
	r := newRecorder()
	s := framework.NewService("web", 3, allocator.MustParseResources("cpus:1;mem:512"))
	s.Subscribed(r)
	s.Offers(r, []framework.Offer{offer("a", "cpus:2;mem:4096"), offer("b", "cpus:4;mem:4096")})
	if s.Running() != 3 || len(r.launched["a"]) != 2 || len(r.launched["b"]) != 1 {
		t.Fatalf("running %d, launched %v", s.Running(), r.launched)
	}
	s.Update(r, framework.Status{Task: r.launched["a"][0].ID, State: framework.TaskLost})
	s.Offers(r, []framework.Offer{offer("c", "cpus:1;mem:512")})
	if s.Running() != 3 || len(r.launched["c"]) != 1 {
		t.Fatalf("after a loss: running %d, launched on c %v", s.Running(), r.launched["c"])
	}
	if got := fmt.Sprint(r.calls[len(r.calls)-1]); got != "suppress" {
		t.Fatalf("last call %s; want suppress at the target", got)
	}
}

func TestTakePrefersReservations(t *testing.T) {
	have := allocator.MustParseResources("cpus:2;cpus(r):1;mem:100")
	rest, taken, ok := framework.Take(have, allocator.MustParseResources("cpus:2;mem:50"))
	if !ok || !taken.Equal(allocator.MustParseResources("cpus(r):1;cpus:1;mem:50")) || !rest.Equal(allocator.MustParseResources("cpus:1;mem:50")) {
		t.Fatalf("took %s leaving %s (%v)", taken, rest, ok)
	}
	if _, _, ok := framework.Take(have, allocator.MustParseResources("cpus:4")); ok {
		t.Fatal("took 4 CPUs from 3")
	}
}

// A closed-loop job waits for the job it follows to end, then for its
// think time; one whose predecessor the framework does not hold (never
// had, or already ended) waits only its think time. The framework is idle
// only when the last of the chain has ended.
func TestClosedLoopJobs(t *testing.T) {
	for _, tc := range []struct {
		name        string
		after       string
		think       time.Duration
		wantParked  bool // waits for "a" to end before its think time
		wantTimers  int  // timers pending after it is fed
		wantArrived bool // arrived (tasks launched on the next offer) before "a" ends
	}{
		{"follows a running job", "a", 0, true, 0, false},
		{"follows a running job, thinks", "a", time.Minute, true, 0, false},
		{"follows an unknown job", "zz", 0, false, 0, true},
		{"follows an unknown job, thinks", "zz", time.Minute, false, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder()
			b := framework.NewBatch(framework.BatchConfig{}, nil)
			b.Subscribed(r)
			b.Feed(job("a", 1, traces.Resources{CPUs: 1}))
			next := job("b", 1, traces.Resources{CPUs: 1})
			next.After, next.Think = tc.after, tc.think
			b.Feed(next)
			b.Close()
			if len(r.timers) != tc.wantTimers {
				t.Fatalf("%d timers after feeding; want %d", len(r.timers), tc.wantTimers)
			}
			b.Offers(r, []framework.Offer{offer("o1", "cpus:4;mem:1024")})
			if got := len(r.launched["o1"]); got != 1+btoi(tc.wantArrived) {
				t.Fatalf("launched %d tasks before a ended; want %d", got, 1+btoi(tc.wantArrived))
			}
			b.Update(r, framework.Status{Task: "a/0", State: framework.TaskFinished})
			if b.Idle() {
				t.Fatal("idle while b has not run")
			}
			if tc.wantParked {
				if len(r.timers) != 1 {
					t.Fatalf("%d timers once a ended; want b's think time", len(r.timers))
				}
			}
			r.fire()
			b.Offers(r, []framework.Offer{offer("o2", "cpus:4;mem:1024")})
			if !tc.wantArrived && len(r.launched["o2"]) != 1 {
				t.Fatalf("launched %v once a ended and b thought; want b's task", r.launched["o2"])
			}
			b.Update(r, framework.Status{Task: "b/0", State: framework.TaskFinished})
			if !b.Idle() {
				t.Fatal("not idle once both jobs ended")
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// With EASY backfilling a rigid framework starts a job behind a blocked
// one on the offers it holds, as soon as the job arrives, if it ends by
// its requested time before the blocked job's shadow time; without
// backfilling it waits its turn.
func TestGangBackfillsOnHeldOffers(t *testing.T) {
	rigid := func(id string, n int, requested time.Duration) *traces.Job {
		j := job(id, n, traces.Resources{CPUs: 1})
		j.Requested = requested
		return j
	}
	for _, c := range []struct {
		backfill framework.Backfill
		want     []string
	}{
		{framework.BackfillNone, []string{"a", "b", "c"}},
		{framework.BackfillEASY, []string{"a", "b", "c", "d"}},
		{framework.BackfillConservative, []string{"a", "b", "c", "d"}},
	} {
		r := newRecorder()
		b := framework.NewBatch(framework.BatchConfig{Gang: true, Backfill: c.backfill}, nil)
		b.Subscribed(r)
		b.Feed(rigid("wide1", 3, 100*time.Second))
		b.Feed(rigid("wide2", 4, 100*time.Second)) // waits for wide1: shadow 100 s, no extra CPU
		b.Offers(r, []framework.Offer{offer("a", "cpus:1"), offer("b", "cpus:1"), offer("c", "cpus:1"), offer("d", "cpus:1")})
		b.Feed(rigid("long", 1, 101*time.Second))  // would delay wide2
		b.Feed(rigid("short", 1, 100*time.Second)) // ends by the shadow time
		var got []string
		for _, id := range []string{"a", "b", "c", "d"} {
			if len(r.launched[framework.OfferID(id)]) > 0 {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: launched on %v; want %v", c.backfill, got, c.want)
		}
		if ts := r.launched["d"]; len(ts) > 0 && ts[0].Job != "short" {
			t.Errorf("%q: launched %s on d; want the short job", c.backfill, ts[0].Job)
		}
	}
}
