package sim

import (
	"math/bits"
	"time"
)

// Engine is a discrete-event engine: a virtual clock and a queue of events
// ordered by (time, insertion sequence), so that events at the same time run
// in the order they were scheduled. It runs on the caller's goroutine; one
// engine is one simulation.
type Engine struct {
	now       time.Duration
	queue     queue
	processed uint64
	stopped   bool
}

// Now returns the virtual time.
func (e *Engine) Now() time.Duration { return e.now }

// Processed returns how many events have run.
func (e *Engine) Processed() uint64 { return e.processed }

// Pending returns how many events are queued.
func (e *Engine) Pending() int { return e.queue.n }

// At schedules fn at virtual time t; a time in the past means now.
func (e *Engine) At(t time.Duration, fn func()) {
	e.queue.push(event{at: max(t, e.now), fn: fn})
}

// After schedules fn d after now.
func (e *Engine) After(d time.Duration, fn func()) { e.At(e.now+d, fn) }

// Stop makes Run return after the event running now.
func (e *Engine) Stop() { e.stopped = true }

// Run processes events in order until the queue is empty, the next event
// is after until, or Stop is called. It reports whether events remain.
func (e *Engine) Run(until time.Duration) bool {
	e.stopped = false
	for e.queue.n > 0 && !e.stopped {
		if e.queue.earliest() > until {
			return true
		}
		ev := e.queue.pop()
		e.now = ev.at
		e.processed++
		ev.fn()
	}
	return e.queue.n > 0
}

type event struct {
	at time.Duration
	fn func()
}

// The queue is a radix heap of base 256 (Ahuja, Mehlhorn, Orlin and Tarjan,
// 1990), which needs every event to come no earlier than the last one
// popped (last moves only when pop takes an event, so it is never after
// now, and At clamps to now). An event whose time differs from last's first
// (from the top) in byte l waits in bucket b of level l, b being its byte
// l; one at last's time waits in ready. When ready is empty, pop empties
// the lowest non-empty bucket (it holds the earliest events) into ready and
// lower levels, so that an event moves down at most once per level, and
// only while the queue streams through it: a million events waiting cost
// little more than a thousand, where a heap of a million misses the cache
// at every level. Every bucket is a FIFO, so events keep their insertion
// order within it (a bucket is only emptied into empty lower ones, and a
// push comes after everything queued), and ties at one time run in the
// order they were scheduled.
type queue struct {
	last     time.Duration // time of the events in ready; the others are later
	n        int           // events queued
	ready    fifo
	levels   [levels][256]fifo
	nonempty [levels][4]uint64 // a bit per non-empty bucket
	spare    *chunk            // free chunks
}

const levels = 8 // one per byte of a time

// earliest returns the time of the next event, leaving last where it is
// (Run may stop there, and events come in before it); the queue must not
// be empty.
func (q *queue) earliest() time.Duration {
	if !q.ready.empty() {
		return q.last
	}
	l, b := q.lowest()
	return q.levels[l][b].min
}

func (q *queue) push(ev event) {
	q.n++
	q.place(ev)
}

// place queues ev in ready or in its bucket.
func (q *queue) place(ev event) {
	if ev.at == q.last {
		q.put(&q.ready, ev)
		return
	}
	l := (bits.Len64(uint64(ev.at^q.last)) - 1) / 8
	b := uint8(ev.at >> (8 * l))
	q.put(&q.levels[l][b], ev)
	q.nonempty[l][b/64] |= 1 << (b % 64)
}

func (q *queue) pop() event {
	if q.ready.empty() {
		q.refill()
	}
	q.n--
	return q.take(&q.ready)
}

// refill empties the lowest non-empty bucket, its earliest event's time
// becoming last, into ready and lower levels.
func (q *queue) refill() {
	l, b := q.lowest()
	q.nonempty[l][b/64] &^= 1 << (b % 64)
	f := &q.levels[l][b]
	q.last = f.min
	if l == 0 { // a bucket of level 0 holds a single time
		q.ready, *f = *f, fifo{}
		return
	}
	for !f.empty() {
		q.place(q.take(f))
	}
}

// lowest returns the level and index of the lowest non-empty bucket; the
// queue must hold an event outside ready.
func (q *queue) lowest() (level, bucket int) {
	for l := range q.nonempty {
		for w, bits64 := range q.nonempty[l] {
			if bits64 != 0 {
				return l, 64*w + bits.TrailingZeros64(bits64)
			}
		}
	}
	panic("sim: lowest bucket of an empty queue")
}

// A fifo is a list of chunks of events: written at w in tail, read at r in
// head; its chunks come from and go back to the queue's spares, so the
// queue's memory follows the events waiting, not the buckets used.
type fifo struct {
	head, tail *chunk
	r, w       int
	min        time.Duration // the earliest time in it
}

const chunkLen = 64

type chunk struct {
	ev   [chunkLen]event
	next *chunk
}

func (f *fifo) empty() bool { return f.head == nil }

func (q *queue) put(f *fifo, ev event) {
	switch {
	case f.empty():
		c := q.chunk()
		*f = fifo{head: c, tail: c, min: ev.at}
	case f.w == chunkLen:
		c := q.chunk()
		f.tail.next, f.tail, f.w = c, c, 0
	}
	f.tail.ev[f.w] = ev
	f.w++
	f.min = min(f.min, ev.at)
}

// take removes and returns f's first event; f must not be empty.
func (q *queue) take(f *fifo) event {
	c := f.head
	ev := c.ev[f.r]
	c.ev[f.r] = event{} // no reference to a closure that has run
	f.r++
	switch {
	case c == f.tail && f.r == f.w:
		*f = fifo{}
		q.free(c)
	case f.r == chunkLen:
		f.head, f.r = c.next, 0
		q.free(c)
	}
	return ev
}

func (q *queue) chunk() *chunk {
	c := q.spare
	if c == nil {
		return new(chunk)
	}
	q.spare, c.next = c.next, nil
	return c
}

func (q *queue) free(c *chunk) {
	c.next, q.spare = q.spare, c
}
