package framework

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
)

// Backfill is how a rigid (gang) framework picks which queued jobs to
// start. Every pass starts jobs in submit order while they fit in the
// offers held; they differ in what they may start past a job that does
// not fit. Each plans with a job's estimated run time: its requested time
// (traces.Job.Requested, SWF field 9), or its longest task's duration when
// the trace gives none. A job that runs past its estimate is expected to
// end at any moment.
type Backfill string

const (
	// BackfillNone starts jobs in submit order only: a job that does not
	// fit blocks every job behind it (first come, first served).
	BackfillNone Backfill = ""
	// BackfillEASY (Lifka's EASY, as in Mu'alem and Feitelson 2001)
	// reserves only for the first job that does not fit, at its shadow
	// time: when enough of the running jobs will have ended, by their
	// estimates. A later job may start now if it fits and either ends, by
	// its estimate, by the shadow time or uses no more than the extra
	// resources the first job will leave at its shadow time.
	BackfillEASY Backfill = "easy"
	// BackfillConservative reserves for every queued job, in order, the
	// earliest start that delays no earlier reservation; a job starts when
	// its reservation is now. Each pass plans the queue again in the order
	// of the reservations it had, which moves no reservation later unless a
	// running job overran its estimate.
	BackfillConservative Backfill = "conservative"
)

// ParseBackfill reads a backfilling name: none (or empty), easy or
// conservative.
func ParseBackfill(name string) (Backfill, error) {
	switch name {
	case "", "none":
		return BackfillNone, nil
	case string(BackfillEASY), string(BackfillConservative):
		return Backfill(name), nil
	}
	return "", fmt.Errorf("%q; want none, easy or conservative", name)
}

// never is the start of a job that has no reservation.
const never = time.Duration(math.MaxInt64)

// vec is an amount of each resource name of a framework's index (its
// names, in the order first seen), roles aside: entry i is name i, and a
// shorter vec has none of the names past its end.
type vec []allocator.Quantity

func (v vec) at(i int) allocator.Quantity {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func (v vec) contains(o vec) bool {
	for i, q := range o {
		if q > v.at(i) {
			return false
		}
	}
	return true
}

// plus returns v + sign·o, a new vec.
func (v vec) plus(o vec, sign allocator.Quantity) vec {
	out := make(vec, max(len(v), len(o)))
	copy(out, v)
	for i, q := range o {
		out[i] += sign * q
	}
	return out
}

// floor returns v - o with every entry floored at zero.
func (v vec) floor(o vec) vec {
	out := v.plus(o, -1)
	for i := range out {
		out[i] = max(out[i], 0)
	}
	return out
}

// planJob is a queued rigid job as a pass sees it.
type planJob struct {
	need vec           // all its tasks together
	est  time.Duration // its estimated run time
	// reserved is the start conservative backfilling reserved for it at
	// the last pass; never when it has none.
	reserved time.Duration
}

// release is what a running job gives back at its estimated end.
type release struct {
	at   time.Duration
	need vec
}

// pass is one scheduling pass of a rigid framework at now over its queue
// (in submit order). free is what can start now (the offers held); rel is
// what the running jobs give back and when, by their estimates, never
// before now. start starts queue[k] on the offers held, or says it does
// not fit them (a pass checks the amounts; the offers' agents decide).
type pass struct {
	now   time.Duration
	free  vec
	rel   []release
	queue []*planJob
	start func(k int) bool
}

// run starts what the policy allows.
func (p *pass) run(policy Backfill) {
	switch policy {
	case BackfillEASY:
		p.easy()
	case BackfillConservative:
		p.conservative()
	default:
		p.inOrder()
	}
}

// launch starts queue[k] if it fits what is free, taking it from free and
// counting its release.
func (p *pass) launch(k int) bool {
	j := p.queue[k]
	if !p.free.contains(j.need) || !p.start(k) {
		return false
	}
	p.free = p.free.plus(j.need, -1)
	p.rel = append(p.rel, release{at: addSat(p.now, j.est), need: j.need})
	return true
}

// inOrder starts jobs in submit order while they fit; it returns the
// index of the first that does not.
func (p *pass) inOrder() int {
	k := 0
	for k < len(p.queue) && p.launch(k) {
		k++
	}
	return k
}

// easy is EASY backfilling.
func (p *pass) easy() {
	head := p.inOrder()
	if head == len(p.queue) {
		return
	}
	shadow, extra, ok := p.shadow(p.queue[head].need)
	if !ok {
		return // the head could never fit in what the framework knows of: no reservation to protect, start nothing past it
	}
	for k := head + 1; k < len(p.queue); k++ {
		j := p.queue[k]
		early := addSat(p.now, j.est) <= shadow
		if !early && !extra.contains(j.need) {
			continue
		}
		if p.launch(k) && !early {
			extra = extra.plus(j.need, -1)
		}
	}
}

// shadow returns when need fits, by the running jobs' estimated ends
// (what is free now counted first), and what will be left over then.
func (p *pass) shadow(need vec) (time.Duration, vec, bool) {
	rel := slices.Clone(p.rel)
	slices.SortStableFunc(rel, func(a, b release) int { return cmp.Compare(a.at, b.at) })
	avail := p.free
	at := p.now
	for i := 0; ; i++ {
		// Every release at the same time counts before the check.
		if (i == len(rel) || rel[i].at > at) && avail.contains(need) {
			return at, avail.plus(need, -1), true
		}
		if i == len(rel) {
			return 0, nil, false
		}
		at = rel[i].at
		avail = avail.plus(rel[i].need, 1)
	}
}

// conservative is conservative backfilling: the queue is planned in the
// order of the reservations of the last pass (new jobs last, in submit
// order), each job at its earliest fit after the ones before it.
func (p *pass) conservative() {
	prof := newProfile(p.now, p.free, p.rel)
	order := make([]int, len(p.queue))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(p.queue[a].reserved, p.queue[b].reserved) })
	for _, k := range order {
		j := p.queue[k]
		t, ok := prof.earliest(j.need, j.est)
		if !ok {
			j.reserved = never // larger than all the framework knows of
			continue
		}
		if t == p.now {
			p.launch(k) // or it waits for offers still to come, its place kept
		}
		j.reserved = t
		prof.reserve(t, addSat(t, j.est), j.need)
	}
}

// profile is what a framework expects to have free from now on: free[i]
// from t[i] until t[i+1], the last for ever.
type profile struct {
	t    []time.Duration
	free []vec
}

// newProfile is free from now, and each release from its time on.
func newProfile(now time.Duration, free vec, rel []release) *profile {
	rel = slices.Clone(rel)
	slices.SortStableFunc(rel, func(a, b release) int { return cmp.Compare(a.at, b.at) })
	p := &profile{t: []time.Duration{now}, free: []vec{free}}
	for _, r := range rel {
		last := len(p.t) - 1
		if r.at > p.t[last] {
			p.t = append(p.t, r.at)
			p.free = append(p.free, p.free[last])
			last++
		}
		p.free[last] = p.free[last].plus(r.need, 1)
	}
	return p
}

// earliest returns the first time from which need fits for est, or false
// if it never does.
func (p *profile) earliest(need vec, est time.Duration) (time.Duration, bool) {
	for i := 0; i < len(p.t); {
		end := addSat(p.t[i], max(est, 1))
		k := i
		for k < len(p.t) && p.t[k] < end && p.free[k].contains(need) {
			k++
		}
		if k == len(p.t) || p.t[k] >= end {
			return p.t[i], true
		}
		i = k + 1 // no start at or before t[k] gets past it
	}
	return 0, false
}

// reserve takes need from from until to.
func (p *profile) reserve(from, to time.Duration, need vec) {
	i := p.split(from)
	k := len(p.t)
	if to < never {
		k = p.split(to)
	}
	for ; i < k; i++ {
		p.free[i] = p.free[i].plus(need, -1)
	}
}

// split returns the index of a breakpoint at t (t >= t[0]), inserting one.
func (p *profile) split(t time.Duration) int {
	i, found := slices.BinarySearch(p.t, t)
	if !found {
		p.t = slices.Insert(p.t, i, t)
		p.free = slices.Insert(p.free, i, p.free[i-1])
	}
	return i
}

// addSat adds durations, saturating at never.
func addSat(a, b time.Duration) time.Duration {
	if b > 0 && a > never-b {
		return never
	}
	return a + b
}
