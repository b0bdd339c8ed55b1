package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/apronlab/apron/runtime/master/core"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Config configures a Node. Zero values take the defaults beside them.
type Config struct {
	ID    uint64   // this node, one of Peers
	Peers []uint64 // every voter of the cluster (a cluster of one: [ID])
	// ElectionTick and HeartbeatTick are in ticks of the shell's clock
	// (default 10 and 1: with a 100 ms tick, a leader is suspected after
	// one to two seconds of silence).
	ElectionTick, HeartbeatTick int
	// SnapshotEvery is how many entries a node applies between the
	// snapshots of its registry that let it drop its log (default 10000).
	SnapshotEvery uint64
	// Limits are the registry's (what it keeps of completed tasks).
	Limits core.Limits
	// ManualElections leaves elections to the caller: a follower's ticks
	// only count toward its leader's lease, and the caller calls Campaign
	// when it decides a leader is gone. raft draws election timeouts from
	// crypto/rand; the fault-injection suite draws them from its seed.
	ManualElections bool
}

func (c *Config) defaults() error {
	if c.ID == 0 || len(c.Peers) == 0 {
		return errors.New("replica: a node needs an id (1 or more) and its peers")
	}
	found := false
	for _, p := range c.Peers {
		found = found || p == c.ID
	}
	if !found {
		return fmt.Errorf("replica: node %d is not among the peers %v", c.ID, c.Peers)
	}
	if c.ElectionTick == 0 {
		c.ElectionTick = 10
	}
	if c.HeartbeatTick == 0 {
		c.HeartbeatTick = 1
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 10000
	}
	return nil
}

// keepAfterSnapshot is how many entries a node keeps before its snapshot
// (at most half the snapshot interval), so a follower a little behind
// catches up from the log, not a snapshot.
const keepAfterSnapshot = 1000

// Node is one replica of the registry.
type Node struct {
	cfg       Config
	rn        *raft.RawNode
	ms        *raft.MemoryStorage
	reg       *core.Registry
	conf      pb.ConfState
	applied   uint64
	snapIndex uint64
	lead      uint64
	state     raft.StateType
	term      uint64
	termApply bool // an entry of the current term was applied: a leader knows every committed entry
	proposals uint64
	mine      map[Proposal][]core.Command // this node's proposals not yet applied: no need to decode them
	errs      []error
}

// Entry is what one log entry holds: the commands of one step of the
// leader's core, with the proposal's id. Its data is the proposal in 24
// bytes (node, term, number, big-endian) and the commands in JSON.
type Entry struct {
	Proposal Proposal
	Commands []core.Command
}

const proposalBytes = 24

func (e Entry) marshal() ([]byte, error) {
	data, err := json.Marshal(e.Commands)
	if err != nil {
		return nil, err
	}
	var head [proposalBytes]byte
	binary.BigEndian.PutUint64(head[0:], e.Proposal.Node)
	binary.BigEndian.PutUint64(head[8:], e.Proposal.Term)
	binary.BigEndian.PutUint64(head[16:], e.Proposal.Seq)
	return append(head[:], data...), nil
}

func proposalOf(data []byte) (Proposal, error) {
	if len(data) < proposalBytes {
		return Proposal{}, fmt.Errorf("an entry of %d bytes has no proposal", len(data))
	}
	return Proposal{Node: binary.BigEndian.Uint64(data[0:]), Term: binary.BigEndian.Uint64(data[8:]), Seq: binary.BigEndian.Uint64(data[16:])}, nil
}

// Proposal names a proposal: the node and term that made it and its
// number there.
type Proposal struct {
	Node uint64 `json:"node"`
	Term uint64 `json:"term"`
	Seq  uint64 `json:"seq"`
}

// Open starts a node on what its disk holds: its snapshot, hard state and
// log, or, on an empty disk, a new cluster of Peers.
func Open(cfg Config, disk Disk) (*Node, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	snap, hs, ents, err := disk.Load()
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, ms: raft.NewMemoryStorage(), reg: core.NewRegistry(cfg.Limits), mine: map[Proposal][]core.Command{}}
	if snap != nil {
		if err := n.ms.ApplySnapshot(snap); err != nil {
			return nil, fmt.Errorf("replica: snapshot: %w", err)
		}
		if n.reg, err = core.LoadRegistry(snap.GetData(), cfg.Limits); err != nil {
			return nil, err
		}
		n.conf = *snap.GetMetadata().GetConfState()
		n.applied, n.snapIndex = snap.GetMetadata().GetIndex(), snap.GetMetadata().GetIndex()
	}
	if hs != nil {
		if err := n.ms.SetHardState(hs); err != nil {
			return nil, err
		}
	}
	if err := n.ms.Append(ents); err != nil {
		return nil, fmt.Errorf("replica: log: %w", err)
	}
	rc := &raft.Config{ID: cfg.ID, ElectionTick: cfg.ElectionTick, HeartbeatTick: cfg.HeartbeatTick, Storage: n.ms, Applied: n.applied,
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, MaxUncommittedEntriesSize: 1 << 30, CheckQuorum: true, PreVote: true,
		DisableProposalForwarding: true, Logger: quiet}
	if n.rn, err = raft.NewRawNode(rc); err != nil {
		return nil, err
	}
	if last, _ := n.ms.LastIndex(); last == 0 && snap == nil {
		peers := make([]raft.Peer, len(cfg.Peers))
		for i, p := range cfg.Peers {
			peers[i] = raft.Peer{ID: p}
		}
		if err := n.rn.Bootstrap(peers); err != nil {
			return nil, err
		}
	}
	return n, nil
}

var quiet = &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}

// Tick advances the node's clock by one tick. Under ManualElections a
// follower only counts it toward its leader's lease.
func (n *Node) Tick() {
	if n.cfg.ManualElections && n.state != raft.StateLeader {
		n.rn.TickQuiesced()
		return
	}
	n.rn.Tick()
}

// Campaign starts an election (ManualElections).
func (n *Node) Campaign() { _ = n.rn.Campaign() }

// Step feeds the node a message from a peer.
func (n *Node) Step(m *pb.Message) error { return n.rn.Step(m) }

// ReportUnreachable says a message to peer could not be sent.
func (n *Node) ReportUnreachable(peer uint64) { n.rn.ReportUnreachable(peer) }

// ReportSnapshot says whether a snapshot sent to peer arrived.
func (n *Node) ReportSnapshot(peer uint64, ok bool) {
	st := raft.SnapshotFinish
	if !ok {
		st = raft.SnapshotFailure
	}
	n.rn.ReportSnapshot(peer, st)
}

// Propose appends the commands of one step of the leader's core to the
// log; the Proposal comes back in Ready.Committed once they are
// committed. Only a leader proposes.
func (n *Node) Propose(cmds []core.Command) (Proposal, error) {
	if n.state != raft.StateLeader {
		return Proposal{}, errors.New("replica: not the leader")
	}
	n.proposals++
	p := Proposal{Node: n.cfg.ID, Term: n.term, Seq: n.proposals}
	data, err := Entry{Proposal: p, Commands: cmds}.marshal()
	if err != nil {
		return p, err
	}
	if err := n.rn.Propose(data); err != nil {
		return p, err
	}
	n.mine[p] = cmds
	return p, nil
}

// Registry is the registry at the node's applied index: the committed
// state. It must not be changed.
func (n *Node) Registry() *core.Registry { return n.reg }

// Leading says whether the node leads and has applied every committed
// entry (one of its own term): its registry is the whole committed state,
// so it can start a core on it.
func (n *Node) Leading() bool { return n.state == raft.StateLeader && n.termApply }

// Status is the node's view of the cluster.
type Status struct {
	ID, Leader, Term uint64
	Role             string // leader, follower, candidate, pre-candidate
	Applied, Commit  uint64
	LastIndex        uint64 // the log's
	FirstIndex       uint64 // the log's first entry after the snapshot
	// Active, on a leader, says which peers it heard from lately.
	Active map[uint64]bool
}

// Status returns the node's view of the cluster.
func (n *Node) Status() Status {
	first, _ := n.ms.FirstIndex()
	last, _ := n.ms.LastIndex()
	st := n.rn.BasicStatus()
	role := map[raft.StateType]string{raft.StateLeader: "leader", raft.StateFollower: "follower",
		raft.StateCandidate: "candidate", raft.StatePreCandidate: "pre-candidate"}[st.RaftState]
	out := Status{ID: n.cfg.ID, Leader: st.Lead, Term: st.GetTerm(), Role: role, Applied: n.applied, Commit: st.GetCommit(), LastIndex: last, FirstIndex: first}
	if st.RaftState == raft.StateLeader {
		out.Active = map[uint64]bool{}
		for id, pr := range n.rn.Status().Progress {
			out.Active[id] = pr.RecentActive || id == n.cfg.ID
		}
	}
	return out
}

// Errors are the committed commands that did not fit the registry: a
// bug, which tests check never happens.
func (n *Node) Errors() []error { return n.errs }
