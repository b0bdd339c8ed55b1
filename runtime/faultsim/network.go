package faultsim

import "time"

// stream is one event stream from the master to an agent or a framework.
// It is ordered, as the TCP connection it stands for; cut (a fault, a
// crash), it delivers nothing more and both ends learn of it after a
// delay. An orderly close is delivered after the events before it.
type stream struct {
	id    string
	cut   bool
	last  time.Time // when the last delivery was queued for, to keep order
	agent *agentNode
	gen   uint64 // the agent's subscription generation
	fw    *fwNode
	conn  int // the framework's connection number
}

// netDelay is one message's time on the network: a few milliseconds, and
// during the faults now and then seconds (which reorders posts).
func (w *world) netDelay() time.Duration {
	if !w.healed && w.chance(w.opts.Net.Slow) {
		return w.between(200*time.Millisecond, 2*time.Second)
	}
	return w.between(time.Millisecond, 20*time.Millisecond)
}

// deliver runs fn at the stream's far end, after its earlier deliveries,
// unless the stream is cut by then.
func (w *world) deliver(s *stream, fn func()) {
	at := w.now.Add(w.netDelay())
	if at.Before(s.last) {
		at = s.last
	}
	s.last = at
	w.at(at, func() {
		if !s.cut {
			fn()
		}
	})
}

// cutStream breaks a stream: what is in flight is lost; the master and the
// stream's other end each learn of it after a delay.
func (w *world) cutStream(s *stream, why string) {
	if s.cut {
		return
	}
	s.cut = true
	w.logf("stream %s cut: %s", s.id, why)
	m := w.master
	epoch := m.epoch
	w.after(w.netDelay(), func() {
		if m.up && m.epoch == epoch {
			m.streamGone(s)
		}
	})
	switch {
	case s.agent != nil:
		a, gen := s.agent, s.gen
		w.after(w.netDelay(), func() { a.input(func() { a.c.StreamClosed(w.now, gen, "the stream broke: "+why) }) })
	case s.fw != nil:
		f, conn := s.fw, s.conn
		w.after(w.netDelay(), func() { f.streamClosed(conn) })
	}
}

// post carries one call to the master and its answer back. handle runs
// the call at the master and returns the HTTP status; answer gets it, or
// 0 when no answer came (the request or the answer was lost, or the
// master was down). During the faults a request may be lost or delivered
// twice, and an answer lost.
func (w *world) post(handle func() int, answer func(code int)) {
	m := w.master
	net := w.opts.Net
	if !w.healed && w.chance(net.Drop) {
		w.after(postTimeout, func() { answer(0) })
		return
	}
	w.after(w.netDelay(), func() {
		if !m.up {
			w.after(w.netDelay(), func() { answer(0) })
			return
		}
		code := handle()
		if !w.healed && w.chance(net.Duplicate) {
			w.faults["duplicate call"]++
			w.after(w.netDelay()+w.netDelay(), func() {
				if m.up {
					handle()
				}
			})
		}
		if !w.healed && w.chance(net.Drop) {
			w.after(postTimeout, func() { answer(0) })
			return
		}
		w.after(w.netDelay(), func() { answer(code) })
	})
}

// postTimeout is how long a client waits for an answer that does not come.
const postTimeout = 2 * time.Second
