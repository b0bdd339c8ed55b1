package faultsim

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/runtime/api"
	mcore "github.com/apronlab/apron/runtime/master/core"
	"github.com/apronlab/apron/runtime/master/replica"
	pb "go.etcd.io/raft/v3/raftpb"
)

// masterNode runs a master as its shell would: alone with no memory (the
// issue-14 master), or as one replica of a raft log with a disk that
// survives its crashes, running the core only while it leads.
type masterNode struct {
	w       *world
	id      uint64 // 1..n
	c       *mcore.Core
	up      bool
	epoch   int // bumps at every start; events of an older master are dropped
	streams map[string]*stream
	n       int
	tick    ticker

	// Replicated masters only.
	node     *replica.Node
	disk     *replica.MemDisk
	held     []heldReady
	heard    time.Time     // the last message from the leader: elections are the world's, by seed
	electIn  time.Duration // silence before this master campaigns
	isolated bool          // partitioned from the other masters
}

type heldReady struct {
	prop  replica.Proposal
	waits bool
	msgs  []mcore.Message
}

// raftTick is raft's clock in the simulation.
const raftTick = 100 * time.Millisecond

func (m *masterNode) replicated() bool { return m.w.opts.Masters > 1 || m.w.opts.Persist }

func (m *masterNode) config() mcore.Config {
	o := m.w.opts
	id := fmt.Sprintf("m%d", m.epoch)
	if m.replicated() {
		id = fmt.Sprintf("m%d.e%d", m.id, m.epoch)
	}
	return mcore.Config{Policy: o.Policy, ID: id, AgentTimeout: o.AgentTimeout,
		UnreachableTimeout: o.UnreachableTimeout, ReregisterTimeout: time.Minute, Heartbeat: 2 * time.Second, Sample: time.Minute,
		Authorizer: m.w.acls, IDKey: []byte("faultsim")}
}

// start starts the master: a lone one with no memory, or a replica on its
// disk (it leads only once elected).
func (m *masterNode) start() {
	w := m.w
	if m.up {
		return
	}
	m.epoch++
	m.up, m.streams, m.c, m.held = true, map[string]*stream{}, nil, nil
	if !m.replicated() {
		c, err := mcore.New(m.config(), w.now)
		if err != nil {
			w.fail("master: %v", err)
			return
		}
		m.c = c
		w.logf("master %d up", m.epoch)
		m.flush()
		return
	}
	var peers []uint64
	for i := range w.masters {
		peers = append(peers, uint64(i+1))
	}
	node, err := replica.Open(replica.Config{ID: m.id, Peers: peers, ManualElections: true, SnapshotEvery: 200}, m.disk)
	if err != nil {
		w.fail("master %d: %v", m.id, err)
		return
	}
	m.node, m.heard, m.electIn = node, w.now, w.between(time.Second, 2*time.Second)
	w.logf("master %d up (replica)", m.id)
	m.process()
	m.raftTicks(m.epoch)
}

// raftTicks ticks the replica every raftTick while this run lasts; a
// follower that heard nothing from a leader for its election timeout
// campaigns (raft draws that timeout from crypto/rand; the world, from
// its seed).
func (m *masterNode) raftTicks(epoch int) {
	w := m.w
	w.after(raftTick, func() {
		if !m.up || m.epoch != epoch {
			return
		}
		m.node.Tick()
		if st := m.node.Status(); st.Role != "leader" && w.now.Sub(m.heard) >= m.electIn {
			m.node.Campaign()
			m.heard, m.electIn = w.now, w.between(time.Second, 2*time.Second)
		}
		m.process()
		m.raftTicks(epoch)
	})
}

// crash kills the master: every stream breaks; a replica keeps its disk.
func (m *masterNode) crash() {
	if !m.up {
		return
	}
	m.w.logf("master %d crashes", m.id)
	m.up = false
	m.tick.stop()
	m.stopCore("the master died")
	m.node = nil
}

// stopCore ends the core: its streams break (clients find the leader), its
// held messages are dropped.
func (m *masterNode) stopCore(why string) {
	for _, id := range sortedKeys(m.streams) {
		m.w.cutStream(m.streams[id], why)
	}
	m.streams, m.c, m.held = map[string]*stream{}, nil, nil
}

// process carries out the replica's Readies: write to disk, send to the
// peers, release what was committed, start or stop the core.
func (m *masterNode) process() {
	w := m.w
	for m.up {
		rd, ok := m.node.Ready()
		if !ok {
			return
		}
		if err := m.disk.Save(&rd, true); err != nil {
			w.fail("master %d disk: %v", m.id, err)
			return
		}
		for _, msg := range rd.Messages {
			m.sendRaft(msg)
		}
		for _, p := range rd.Committed {
			m.release(p)
		}
		m.release(replica.Proposal{})
		if errs := m.node.Errors(); len(errs) > 0 {
			w.fail("master %d replica: %v", m.id, errs)
			return
		}
		if rd.Changed {
			m.leadership()
		}
	}
}

// leadership starts the core on a copy of the committed registry when the
// replica leads, and stops it when it does not.
func (m *masterNode) leadership() {
	w := m.w
	switch {
	case m.node.Leading() && m.c == nil:
		reg, err := mcore.LoadRegistry(m.node.Registry().Snapshot(), mcore.Limits{})
		if err != nil {
			w.fail("master %d: %v", m.id, err)
			return
		}
		cfg := m.config()
		cfg.ID = fmt.Sprintf("m%d.t%d", m.id, m.node.Status().Term) // offer ids unique to this leadership
		c, err := mcore.Recover(cfg, reg, w.now)
		if err != nil {
			w.fail("master %d: %v", m.id, err)
			return
		}
		w.logf("master %d leads (term %d)", m.id, m.node.Status().Term)
		w.faults["leader elected"]++
		m.c = c
		m.flush()
	case !m.node.Leading() && m.c != nil:
		w.logf("master %d no longer leads", m.id)
		m.stopCore("the master stopped leading")
	}
}

// sendRaft carries a raft message to a peer: lost, duplicated or delayed
// during the faults, never across a partition.
func (m *masterNode) sendRaft(msg *pb.Message) {
	w := m.w
	to := w.masters[msg.GetTo()-1]
	if m.isolated || to.isolated || !w.healed && w.chance(w.opts.Net.Drop) {
		return
	}
	copies := 1
	if !w.healed && w.chance(w.opts.Net.Duplicate) {
		copies = 2
	}
	for range copies {
		w.after(w.netDelay(), func() {
			if !to.up || m.isolated || to.isolated {
				return
			}
			if msg.GetFrom() == to.node.Status().Leader || msg.GetType() == pb.MsgApp || msg.GetType() == pb.MsgHeartbeat || msg.GetType() == pb.MsgSnap {
				to.heard = w.now
			}
			_ = to.node.Step(msg)
			to.process()
		})
	}
}

// release sends the held messages up to the committed proposal p and
// those behind them that wait for nothing.
func (m *masterNode) release(p replica.Proposal) {
	for len(m.held) > 0 {
		h := m.held[0]
		if h.waits && (h.prop.Node != p.Node || h.prop.Term != p.Term || h.prop.Seq > p.Seq) {
			return
		}
		m.held = m.held[1:]
		m.send(h.msgs)
	}
}

func (m *masterNode) newStream() *stream {
	m.n++
	s := &stream{id: fmt.Sprintf("m%d.%d-s%d", m.id, m.epoch, m.n), owner: m}
	m.streams[s.id] = s
	return s
}

// streamGone tells the core a stream ended.
func (m *masterNode) streamGone(s *stream) {
	if m.streams[s.id] != s || m.c == nil {
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
	if !m.up || m.c == nil {
		return
	}
	m.c.Tick(m.w.now)
	m.flush()
}

// flush carries out the core's Ready, checks its books and arms its
// timer. A replica proposes the commands and holds the messages until
// they commit.
func (m *masterNode) flush() {
	w := m.w
	for m.c != nil {
		rd := m.c.Ready()
		if len(rd.Commands) == 0 && len(rd.Messages) == 0 {
			break
		}
		if !m.replicated() {
			m.send(rd.Messages)
			continue
		}
		h := heldReady{msgs: rd.Messages}
		if len(rd.Commands) > 0 {
			p, err := m.node.Propose(rd.Commands)
			if err != nil {
				continue // no longer the leader: the core is going
			}
			h.prop, h.waits = p, true
		}
		if !h.waits && len(m.held) == 0 {
			m.send(h.msgs)
			continue
		}
		m.held = append(m.held, h)
	}
	if m.c == nil {
		return
	}
	if err := m.c.CheckBooks(); err != nil {
		w.fail("master books: %v", err)
	}
	m.tick.arm(w, m.c.Deadline(), m.onTick)
	if m.replicated() {
		m.process()
	}
}

// send puts the core's messages on their streams.
func (m *masterNode) send(msgs []mcore.Message) {
	w := m.w
	for _, msg := range msgs {
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
			gen, e := s.gen, *msg.AgentEvent
			w.deliver(s, func() { s.toAgent(w, func(a *agentNode) { a.c.Event(w.now, gen, e) }) })
		}
		if msg.Close {
			delete(m.streams, s.id)
			w.deliver(s, func() {
				s.cut = true
				if s.agent != nil {
					gen := s.gen
					s.agent.inputAt(s.epoch, func() { s.agent.c.StreamClosed(w.now, gen, "the master closed the stream") })
				} else {
					s.fw.streamClosed(s.conn)
				}
			})
		}
	}
}

// agentSubscribe takes an agent's SUBSCRIBE at the leader: a stream
// opens, or the agent learns it failed.
func (m *masterNode) agentSubscribe(a *agentNode, epoch int, gen uint64, sub *api.AgentSubscribe) {
	w := m.w
	s := m.newStream()
	s.agent, s.epoch, s.gen = a, epoch, gen
	if ref := m.c.AgentSubscribe(w.now, s.id, a.name, sub); ref != nil {
		delete(m.streams, s.id)
		w.after(w.netDelay(), func() { a.inputAt(epoch, func() { a.c.StreamClosed(w.now, gen, "subscribe refused: "+ref.Message) }) })
		m.flush()
		return
	}
	w.deliver(s, func() { s.toAgent(w, func(a *agentNode) { a.c.StreamOpened(w.now, gen) }) })
	m.flush()
}

// fwSubscribe takes a framework's SUBSCRIBE at the leader.
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

// debugHook, when set (tests), sees every message a master sends.
var debugHook func(w *world, what string)

func describeMsg(m mcore.Message) string {
	switch {
	case m.Event != nil && m.Event.Update != nil:
		st := m.Event.Update.Status
		return fmt.Sprintf("UPDATE %s %s %s", st.TaskID.Value, st.State, st.UUID)
	case m.Event != nil:
		return m.Event.Type
	case m.AgentEvent != nil && m.AgentEvent.Ack != nil:
		return "ACK " + m.AgentEvent.Ack.TaskID + " " + m.AgentEvent.Ack.UUID.String()
	case m.AgentEvent != nil && m.AgentEvent.Kill != nil:
		return "KILL " + m.AgentEvent.Kill.TaskID
	case m.AgentEvent != nil:
		return m.AgentEvent.Type
	}
	return "close"
}
