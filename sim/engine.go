package sim

import "time"

// Engine is a discrete-event engine: a virtual clock and a queue of events
// ordered by (time, insertion sequence), so that events at the same time run
// in the order they were scheduled. It runs on the caller's goroutine; one
// engine is one simulation.
type Engine struct {
	now       time.Duration
	seq       uint64
	queue     []event
	processed uint64
	stopped   bool
}

type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

func (x event) before(y event) bool {
	return x.at < y.at || x.at == y.at && x.seq < y.seq
}

// Now returns the virtual time.
func (e *Engine) Now() time.Duration { return e.now }

// Processed returns how many events have run.
func (e *Engine) Processed() uint64 { return e.processed }

// Pending returns how many events are queued.
func (e *Engine) Pending() int { return len(e.queue) }

// At schedules fn at virtual time t; a time in the past means now.
func (e *Engine) At(t time.Duration, fn func()) {
	e.seq++
	e.push(event{at: max(t, e.now), seq: e.seq, fn: fn})
}

// After schedules fn d after now.
func (e *Engine) After(d time.Duration, fn func()) { e.At(e.now+d, fn) }

// Stop makes Run return after the event running now.
func (e *Engine) Stop() { e.stopped = true }

// Run processes events in order until the queue is empty, the next event
// is after until, or Stop is called. It reports whether events remain.
func (e *Engine) Run(until time.Duration) bool {
	e.stopped = false
	for len(e.queue) > 0 && !e.stopped {
		if e.queue[0].at > until {
			return true
		}
		ev := e.pop()
		e.now = ev.at
		e.processed++
		ev.fn()
	}
	return len(e.queue) > 0
}

// The queue is a 4-ary heap: shallower than a binary one, so fewer cache
// misses per push and pop.
func (e *Engine) push(ev event) {
	q := append(e.queue, ev)
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !q[i].before(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	e.queue = q
}

func (e *Engine) pop() event {
	q := e.queue
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q[n] = event{}
	q = q[:n]
	i := 0
	for {
		best := i
		for c := 4*i + 1; c <= 4*i+4 && c < n; c++ {
			if q[c].before(q[best]) {
				best = c
			}
		}
		if best == i {
			break
		}
		q[i], q[best] = q[best], q[i]
		i = best
	}
	e.queue = q
	return top
}
