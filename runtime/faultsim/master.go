package faultsim

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/runtime/api"
	mcore "github.com/apronlab/apron/runtime/master/core"
)

// masterNode runs the master's core as its shell would.
type masterNode struct {
	w       *world
	c       *mcore.Core
	up      bool
	epoch   int // bumps at every start; events of an older master are dropped
	streams map[string]*stream
	n       int
	tick    ticker
}

func (m *masterNode) config() mcore.Config {
	o := m.w.opts
	return mcore.Config{Policy: o.Policy, ID: fmt.Sprintf("m%d", m.epoch), AgentTimeout: o.AgentTimeout,
		UnreachableTimeout: o.UnreachableTimeout, ReregisterTimeout: time.Minute, Heartbeat: 2 * time.Second, Sample: time.Minute}
}

// start starts a master with no memory (a restart loses everything until
// the registry is replicated).
func (m *masterNode) start() {
	if m.up {
		return
	}
	m.epoch++
	c, err := mcore.New(m.config(), m.w.now)
	if err != nil {
		m.w.fail("master: %v", err)
		return
	}
	m.c, m.up, m.streams = c, true, map[string]*stream{}
	m.w.logf("master %d up", m.epoch)
	m.flush()
}

// crash kills the master: every stream breaks.
func (m *masterNode) crash() {
	if !m.up {
		return
	}
	m.w.logf("master %d crashes", m.epoch)
	m.up = false
	m.tick.stop()
	for _, id := range sortedKeys(m.streams) {
		s := m.streams[id]
		m.w.cutStream(s, "the master died")
	}
	m.streams = nil
}

func (m *masterNode) newStream() *stream {
	m.n++
	s := &stream{id: fmt.Sprintf("m%d-s%d", m.epoch, m.n)}
	m.streams[s.id] = s
	return s
}

// streamGone tells the core a stream ended.
func (m *masterNode) streamGone(s *stream) {
	if m.streams[s.id] != s {
		return
	}
	delete(m.streams, s.id)
	if s.agent != nil {
		m.c.AgentGone(m.w.now, s.id)
	} else {
		m.c.FrameworkGone(m.w.now, s.id)
	}
	m.flush()
}

func (m *masterNode) onTick() {
	if !m.up {
		return
	}
	m.c.Tick(m.w.now)
	m.flush()
}

// flush carries out the core's Ready, checks its books and arms its
// timer.
func (m *masterNode) flush() {
	w := m.w
	rd := m.c.Ready()
	for _, cmd := range rd.Commands {
		if cmd.Op == mcore.OpAddTask {
			w.accepted(cmd.Task.FrameworkID, cmd.Task.Info.TaskID.Value)
		}
	}
	for _, msg := range rd.Messages {
		s := m.streams[msg.Stream]
		if s == nil {
			continue
		}
		if debugHook != nil {
			debugHook(w, fmt.Sprintf("master -> %s: %s", s.id, describeMsg(msg)))
		}
		switch {
		case msg.Event != nil:
			f, conn, e := s.fw, s.conn, *msg.Event
			w.deliver(s, func() { f.event(conn, e) })
		case msg.AgentEvent != nil:
			a, gen, e := s.agent, s.gen, *msg.AgentEvent
			w.deliver(s, func() { a.input(func() { a.c.Event(w.now, gen, e) }) })
		}
		if msg.Close {
			delete(m.streams, s.id)
			w.deliver(s, func() {
				s.cut = true
				if s.agent != nil {
					a, gen := s.agent, s.gen
					a.input(func() { a.c.StreamClosed(w.now, gen, "the master closed the stream") })
				} else {
					s.fw.streamClosed(s.conn)
				}
			})
		}
	}
	if err := m.c.CheckBooks(); err != nil {
		w.fail("master books: %v", err)
	}
	m.tick.arm(w, m.c.Deadline(), m.onTick)
}

// agentSubscribe takes an agent's SUBSCRIBE: a stream opens, or the
// agent learns it failed.
func (m *masterNode) agentSubscribe(a *agentNode, gen uint64, sub *api.AgentSubscribe) {
	w := m.w
	s := m.newStream()
	s.agent, s.gen = a, gen
	if ref := m.c.AgentSubscribe(w.now, s.id, sub); ref != nil {
		delete(m.streams, s.id)
		w.after(w.netDelay(), func() { a.input(func() { a.c.StreamClosed(w.now, gen, "subscribe refused: "+ref.Message) }) })
		m.flush()
		return
	}
	w.deliver(s, func() { a.input(func() { a.c.StreamOpened(w.now, gen) }) })
	m.flush()
}

// fwSubscribe takes a framework's SUBSCRIBE.
func (m *masterNode) fwSubscribe(f *fwNode, conn int, info api.FrameworkInfo) {
	w := m.w
	s := m.newStream()
	s.fw, s.conn = f, conn
	if _, ref := m.c.Subscribe(w.now, s.id, info); ref != nil {
		delete(m.streams, s.id)
		w.after(w.netDelay(), func() { f.refused(conn, ref) })
		m.flush()
		return
	}
	sid := s.id
	w.deliver(s, func() { f.opened(conn, s, sid) })
	m.flush()
}

// debugHook, when set (tests), sees every message the master sends.
var debugHook func(w *world, what string)

func describeMsg(m mcore.Message) string {
	switch {
	case m.Event != nil && m.Event.Update != nil:
		st := m.Event.Update.Status
		return fmt.Sprintf("UPDATE %s %s %s", st.TaskID.Value, st.State, st.UUID)
	case m.Event != nil:
		return m.Event.Type
	case m.AgentEvent != nil && m.AgentEvent.Ack != nil:
		return "ACK " + m.AgentEvent.Ack.TaskID + " " + m.AgentEvent.Ack.UUID
	case m.AgentEvent != nil && m.AgentEvent.Kill != nil:
		return "KILL " + m.AgentEvent.Kill.TaskID
	case m.AgentEvent != nil:
		return m.AgentEvent.Type
	}
	return "close"
}
