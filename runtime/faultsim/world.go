package faultsim

import (
	"container/heap"
	"fmt"
	"github.com/apronlab/apron/runtime/auth"
	"math/rand/v2"
	"time"
)

// world is one schedule: a virtual clock, an event queue ordered by time
// then by when each event was queued, and a seeded random source that
// every choice draws from.
type world struct {
	opts  Options
	rng   *rand.Rand
	now   time.Time
	q     events
	seq   uint64
	steps int
	trace []string // the last lines of what happened, for a failure's report

	masters  []*masterNode
	agents   []*agentNode
	fws      []*fwNode
	procs    map[procKey]*proc
	programs map[fwTaskKey]program // what each launched task runs
	faults   map[string]int
	ops      map[string]int // offer operations the frameworks sent, by type
	pids     int            // processes started
	errs     []string
	healed   bool
	acls     *auth.ACLs // who may do what: each framework its roles, each agent its own name
}

type event struct {
	at  time.Time
	seq uint64
	fn  func()
}

type events []*event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	if !e[i].at.Equal(e[j].at) {
		return e[i].at.Before(e[j].at)
	}
	return e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(*event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*e = old[:len(old)-1]
	return x
}

// at runs fn at t (now, if t is past).
func (w *world) at(t time.Time, fn func()) {
	if t.Before(w.now) {
		t = w.now
	}
	w.seq++
	heap.Push(&w.q, &event{at: t, seq: w.seq, fn: fn})
}

func (w *world) after(d time.Duration, fn func()) { w.at(w.now.Add(d), fn) }

// run runs events until the queue is empty, until is reached, or done
// says so.
func (w *world) run(until time.Time, done func() bool) {
	for w.q.Len() > 0 && len(w.errs) == 0 {
		if done != nil && done() {
			return
		}
		e := w.q[0]
		if e.at.After(until) {
			w.now = until
			return
		}
		heap.Pop(&w.q)
		w.now = e.at
		w.steps++
		e.fn()
	}
}

// chance draws true with probability p.
func (w *world) chance(p float64) bool { return p > 0 && w.rng.Float64() < p }

// between draws a duration in [lo, hi).
func (w *world) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

// logf records a line of the trace; the last lines are kept for a
// failure's report.
func (w *world) logf(format string, args ...any) {
	if w.opts.TraceLines <= 0 {
		return
	}
	line := fmt.Sprintf("%9.3fs ", w.now.Sub(epoch).Seconds()) + fmt.Sprintf(format, args...)
	if len(w.trace) >= w.opts.TraceLines {
		copy(w.trace, w.trace[1:])
		w.trace = w.trace[:len(w.trace)-1]
	}
	w.trace = append(w.trace, line)
}

// fail records a violation of what the cluster promises.
func (w *world) fail(format string, args ...any) {
	w.errs = append(w.errs, fmt.Sprintf("%.3fs: ", w.now.Sub(epoch).Seconds())+fmt.Sprintf(format, args...))
}

// epoch is when every schedule starts.
var epoch = time.Unix(1_800_000_000, 0)

// ticker keeps one pending Tick event for a node's core at its deadline.
type ticker struct {
	token   uint64
	pending bool
	at      time.Time
}

// arm schedules fn at deadline unless an earlier tick is pending; a tick
// replaced by an earlier one does nothing when it comes.
func (t *ticker) arm(w *world, deadline time.Time, fn func()) {
	if deadline.IsZero() {
		return
	}
	if deadline.Before(w.now) {
		deadline = w.now
	}
	if t.pending && !deadline.Before(t.at) {
		return
	}
	t.token++
	tok := t.token
	t.pending, t.at = true, deadline
	w.at(deadline, func() {
		if t.token != tok {
			return
		}
		t.pending = false
		fn()
	})
}

// stop drops the pending tick (the node crashed or stopped).
func (t *ticker) stop() { t.token, t.pending = t.token+1, false }

// leader is the master that runs a core, nil if none does (none elected,
// or a lone master down).
func (w *world) leader() *masterNode {
	for _, m := range w.masters {
		if m.up && m.c != nil {
			return m
		}
	}
	return nil
}
