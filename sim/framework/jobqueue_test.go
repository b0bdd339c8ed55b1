package framework

import (
	"slices"
	"testing"

	"github.com/apronlab/apron/allocator"
	"pgregory.net/rapid"
)

// TestPropertyJobQueueOrder: whatever the pushes, removals, launches and
// changes of running counts, the queue's first job is the job with the fewest running
// tasks, then the earliest, of those queued and not in a group passed over;
// and passing groups over and back loses no job.
func TestPropertyJobQueueOrder(t *testing.T) {
	shapes := []allocator.Resources{
		allocator.MustParseResources("cpus:1"),
		allocator.MustParseResources("cpus:1;mem:64"),
		allocator.MustParseResources("cpus:2;gpus:1"),
	}
	rapid.Check(t, func(t *rapid.T) {
		var q jobQueue
		var queued []*job
		for i := range rapid.IntRange(1, 200).Draw(t, "ops") {
			switch op := rapid.IntRange(0, 4).Draw(t, "op"); {
			case op == 0 || len(queued) == 0:
				j := &job{seq: i, running: rapid.IntRange(0, 3).Draw(t, "running"), index: -1}
				for range rapid.IntRange(1, 3).Draw(t, "tasks") {
					j.pending = append(j.pending, &pendingTask{task: Task{Resources: rapid.SampledFrom(shapes).Draw(t, "shape")}})
				}
				q.push(j)
				queued = append(queued, j)
			case op == 1:
				k := rapid.IntRange(0, len(queued)-1).Draw(t, "remove")
				q.remove(queued[k])
				queued = slices.Delete(queued, k, k+1)
			case op == 2:
				j := queued[rapid.IntRange(0, len(queued)-1).Draw(t, "fix")]
				j.running = rapid.IntRange(0, 3).Draw(t, "running")
				q.fix(j)
			case op == 3: // the first job launches its head task
				j := q.first().jobs.s[0]
				j.pending = j.pending[1:]
				j.running++
				q.launched(j)
				if len(j.pending) == 0 {
					queued = slices.DeleteFunc(queued, func(x *job) bool { return x == j })
				} else if !slices.Equal(j.group.need, j.pending[0].task.Resources) {
					t.Fatalf("job %d is in the group of %s, its head task needs %s", j.seq, j.group.need, j.pending[0].task.Resources)
				}
			default: // pass some groups over, check the rest, put them back
				passed := map[*jobGroup]bool{}
				for range rapid.IntRange(0, 2).Draw(t, "passes") {
					if g := q.first(); g != nil {
						passed[g] = true
						q.pass()
					}
				}
				checkFirst(t, &q, queued, passed)
				q.unpass()
			}
			if q.Len() != len(queued) {
				t.Fatalf("Len = %d, want %d", q.Len(), len(queued))
			}
			checkFirst(t, &q, queued, nil)
		}
	})
}

func checkFirst(t *rapid.T, q *jobQueue, queued []*job, passed map[*jobGroup]bool) {
	var want *job
	for _, j := range queued {
		if !passed[j.group] && (want == nil || jobLess(j, want)) {
			want = j
		}
	}
	g := q.first()
	switch {
	case want == nil && g != nil:
		t.Fatalf("first group holds job %d, want none", g.jobs.s[0].seq)
	case want != nil && (g == nil || g.jobs.s[0] != want):
		t.Fatalf("first job is not job %d (running %d)", want.seq, want.running)
	}
}
