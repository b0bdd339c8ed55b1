package faultsim

import "time"

// stream is one event stream from the master to an agent or a framework.
// It is ordered, as the TCP connection it stands for; cut (a fault, a
// crash), it delivers nothing more and both ends learn of it after a
// delay. An orderly close is delivered after the events before it.
type stream struct {
	id    string
	owner *masterNode
	cut   bool
	last  time.Time // when the last delivery was queued for, to keep order
	agent *agentNode
	epoch int    // the agent process that subscribed
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

// toAgent hands an agent stream's delivery to the process that opened
// it. A process that died since is a dead connection: the master's write
// fails and the stream breaks, as an HTTP response to a closed socket
// does; nothing reaches the agent's next process.
func (s *stream) toAgent(w *world, fn func(a *agentNode)) {
	a := s.agent
	if !a.up || a.epoch != s.epoch {
		w.cutStream(s, "the agent process that subscribed is gone")
		return
	}
	a.inputAt(s.epoch, func() { fn(a) })
}

// cutStream breaks a stream: what is in flight is lost; the master and the
// stream's other end each learn of it after a delay.
func (w *world) cutStream(s *stream, why string) {
	if s.cut {
		return
	}
	s.cut = true
	w.logf("stream %s cut: %s", s.id, why)
	m := s.owner
	epoch := m.epoch
	w.after(w.netDelay(), func() {
		if m.up && m.epoch == epoch {
			m.streamGone(s)
		}
	})
	switch {
	case s.agent != nil:
		a, ep, gen := s.agent, s.epoch, s.gen
		w.after(w.netDelay(), func() { a.inputAt(ep, func() { a.c.StreamClosed(w.now, gen, "the stream broke: "+why) }) })
	case s.fw != nil:
		f, conn := s.fw, s.conn
		w.after(w.netDelay(), func() { f.streamClosed(conn) })
	}
}

// post carries one call to the leading master, from the master the
// client talks to (*target: a standby redirects it, one more hop, and the
// client talks to the leader from then on; a master that is down refuses
// it, and the client tries the next), and its answer back. handle runs the
// call at the leader and returns the HTTP status; answer gets it, or 0
// when no answer came (the request or the answer was lost, no master
// leads). During the faults a request may be lost or delivered twice,
// and an answer lost.
func (w *world) post(target *int, handle func(m *masterNode) int, answer func(code int)) {
	net := w.opts.Net
	if !w.healed && w.chance(net.Drop) {
		w.after(postTimeout, func() { answer(0) })
		return
	}
	w.route(target, func(m *masterNode) {
		if m == nil {
			w.after(w.netDelay(), func() { answer(0) })
			return
		}
		code := handle(m)
		if !w.healed && w.chance(net.Duplicate) {
			w.faults["duplicate call"]++
			w.after(w.netDelay()+w.netDelay(), func() {
				if m.up && m.c != nil {
					handle(m)
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

// route delivers a request to the leading master, starting at *target:
// reached calls at the leader, or with nil when the request found none
// (the master was down, or knew no leader). A standby's redirect costs a
// hop and moves the client to the leader; a master that is down moves it
// to the next.
func (w *world) route(target *int, reached func(m *masterNode)) {
	var hop func(left int)
	hop = func(left int) {
		w.after(w.netDelay(), func() {
			m := w.masters[*target]
			switch {
			case !m.up:
				*target = (*target + 1) % len(w.masters)
				reached(nil)
			case m.c != nil:
				reached(m)
			case left > 0 && m.node != nil && m.node.Status().Leader != 0 && m.node.Status().Leader != m.id:
				*target = int(m.node.Status().Leader) - 1
				hop(left - 1)
			default:
				reached(nil) // 503: no leader known yet
			}
		})
	}
	hop(2)
}

// postTimeout is how long a client waits for an answer that does not come.
const postTimeout = 2 * time.Second
