package framework

import (
	"container/heap"
	"slices"
	"strconv"

	"github.com/apronlab/apron/allocator"
)

// jobQueue holds the elastic jobs with tasks left to launch, in the order
// they are served: fewest running tasks first, then arrival. Jobs are
// grouped by the resources of the task they would launch next (their
// head task), each group a heap, and the groups sit in a heap by their
// first job. Offers are served in the order one heap of every job would
// give, but a group whose head task does not fit what is left of an offer
// is passed over whole (what is left only shrinks), so that an offer costs
// O((launches + groups) · log) however many jobs wait, not a pop and a push
// of every waiting job.
type jobQueue struct {
	groups map[string]*jobGroup
	heads  ixHeap[*jobGroup]
	passed []*jobGroup // groups passed over by the offer being served
	n      int
	key    []byte
}

// jobGroup is the jobs whose head tasks need the same resources.
type jobGroup struct {
	key    string
	need   allocator.Resources
	jobs   ixHeap[*job]
	index  int  // in heads; -1 when out of it
	passed bool // passed over by the offer being served
}

// Len is how many jobs wait.
func (q *jobQueue) Len() int { return q.n }

// push adds j, whose pending tasks are not empty.
func (q *jobQueue) push(j *job) {
	need := j.pending[0].task.Resources
	q.key = appendShape(q.key[:0], need)
	g := q.groups[string(q.key)]
	if g == nil {
		if q.groups == nil {
			q.groups, q.heads.less = map[string]*jobGroup{}, groupLess
		}
		g = &jobGroup{key: string(q.key), need: need, index: -1, jobs: ixHeap[*job]{less: jobLess}}
		q.groups[g.key] = g
	}
	j.group = g
	heap.Push(&g.jobs, j)
	q.n++
	switch {
	case g.passed:
	case g.index < 0:
		heap.Push(&q.heads, g)
	default:
		heap.Fix(&q.heads, g.index)
	}
}

// fix repositions j, which is queued, after its running count changed.
func (q *jobQueue) fix(j *job) {
	g := j.group
	heap.Fix(&g.jobs, j.index)
	if g.index >= 0 {
		heap.Fix(&q.heads, g.index)
	}
}

// launched repositions j, which is queued, after it launched a task: in
// its group while its head task needs what the group does, else out of the
// queue and, with tasks left, back in.
func (q *jobQueue) launched(j *job) {
	if len(j.pending) > 0 && slices.Equal(j.pending[0].task.Resources, j.group.need) {
		q.fix(j)
		return
	}
	q.remove(j)
	if len(j.pending) > 0 {
		q.push(j)
	}
}

// remove takes j, which is queued, out of the queue.
func (q *jobQueue) remove(j *job) {
	g := j.group
	heap.Remove(&g.jobs, j.index)
	j.group = nil
	q.n--
	switch {
	case g.jobs.Len() == 0:
		if g.index >= 0 {
			heap.Remove(&q.heads, g.index)
		}
		delete(q.groups, g.key)
	case g.index >= 0:
		heap.Fix(&q.heads, g.index)
	}
}

// first returns the group holding the first job, or nil.
func (q *jobQueue) first() *jobGroup {
	if q.heads.Len() == 0 {
		return nil
	}
	return q.heads.s[0]
}

// pass passes over the first group for the offer being served.
func (q *jobQueue) pass() {
	g := heap.Pop(&q.heads).(*jobGroup)
	g.passed = true
	q.passed = append(q.passed, g)
}

// unpass puts back the groups passed over: the offer is served.
func (q *jobQueue) unpass() {
	for _, g := range q.passed {
		g.passed = false
		heap.Push(&q.heads, g)
	}
	clear(q.passed)
	q.passed = q.passed[:0]
}

// appendShape appends to b a key that tells resources apart entry by entry.
func appendShape(b []byte, r allocator.Resources) []byte {
	for _, e := range r {
		b = append(b, e.Name...)
		b = append(b, 0)
		b = append(b, e.Role...)
		b = append(b, 0)
		b = append(b, e.Device...) // a GPU request's model constraint, or device
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(e.Value), 10)
		b = append(b, 0)
	}
	return b
}

func jobLess(x, y *job) bool {
	if x.running != y.running {
		return x.running < y.running
	}
	return x.seq < y.seq
}

func groupLess(x, y *jobGroup) bool { return jobLess(x.jobs.s[0], y.jobs.s[0]) }

func (j *job) setIndex(i int)      { j.index = i }
func (g *jobGroup) setIndex(i int) { g.index = i }

// ixHeap is a heap (container/heap) of items that know their place in it.
type ixHeap[T interface{ setIndex(int) }] struct {
	s    []T
	less func(x, y T) bool
}

func (h *ixHeap[T]) Len() int           { return len(h.s) }
func (h *ixHeap[T]) Less(i, k int) bool { return h.less(h.s[i], h.s[k]) }
func (h *ixHeap[T]) Swap(i, k int) {
	h.s[i], h.s[k] = h.s[k], h.s[i]
	h.s[i].setIndex(i)
	h.s[k].setIndex(k)
}
func (h *ixHeap[T]) Push(x any) {
	t := x.(T)
	t.setIndex(len(h.s))
	h.s = append(h.s, t)
}
func (h *ixHeap[T]) Pop() any {
	n := len(h.s) - 1
	t := h.s[n]
	var zero T
	h.s[n] = zero
	t.setIndex(-1)
	h.s = h.s[:n]
	return t
}
