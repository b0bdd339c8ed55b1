package replica

import (
	"encoding/json"
	"fmt"

	"github.com/apronlab/apron/runtime/master/core"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Ready is what the shell must do after the node moved, in order: write
// the durable part to disk (synced when MustSync), then send Messages.
// Committed lists the proposals whose commands the node applied, in
// order: the messages a leader held behind them may go. Changed says the
// node's leader, role or term changed.
type Ready struct {
	HardState *pb.HardState
	Entries   []*pb.Entry
	Snapshot  *pb.Snapshot // from the leader: it replaces the log
	MustSync  bool
	// Compact is a snapshot the node made of its registry: the disk keeps
	// it and drops the log up to CompactIndex.
	Compact      *pb.Snapshot
	CompactIndex uint64
	Messages     []*pb.Message
	Committed    []Proposal
	Changed      bool
}

// Ready returns what the node asks of its shell since the last call, and
// whether there is anything. The node has already taken it into its own
// memory: the shell must write it to disk before it sends the messages,
// and stop if it cannot.
func (n *Node) Ready() (Ready, bool) {
	if !n.rn.HasReady() {
		return Ready{}, false
	}
	rd := n.rn.Ready()
	out := Ready{HardState: rd.HardState, Entries: rd.Entries, MustSync: rd.MustSync, Messages: rd.Messages}
	if ss := rd.SoftState; ss != nil && (ss.Lead != n.lead || ss.RaftState != n.state) {
		if ss.RaftState != n.state {
			n.termApply = false
			clear(n.mine) // what it proposed as leader is decoded like the rest, if it commits
		}
		n.lead, n.state, out.Changed = ss.Lead, ss.RaftState, true
	}
	if hs := rd.HardState; hs != nil {
		if hs.GetTerm() != n.term {
			n.term, n.termApply, out.Changed = hs.GetTerm(), false, true
		}
		if err := n.ms.SetHardState(hs); err != nil {
			n.errs = append(n.errs, err)
		}
	}
	if s := rd.Snapshot; s != nil && !raft.IsEmptySnap(s) {
		n.installSnapshot(s, &out)
	}
	if err := n.ms.Append(rd.Entries); err != nil {
		n.errs = append(n.errs, err)
	}
	wasLeading := n.Leading()
	for _, e := range rd.CommittedEntries {
		n.apply(e, &out)
	}
	out.Changed = out.Changed || n.Leading() != wasLeading
	n.rn.Advance(rd)
	n.maybeSnapshot(&out)
	return out, true
}

// installSnapshot takes a snapshot the leader sent: the registry it holds
// replaces this node's.
func (n *Node) installSnapshot(s *pb.Snapshot, out *Ready) {
	reg, err := core.LoadRegistry(s.GetData(), n.cfg.Limits)
	if err != nil {
		n.errs = append(n.errs, err)
		return
	}
	if err := n.ms.ApplySnapshot(s); err != nil {
		n.errs = append(n.errs, err)
		return
	}
	n.reg, n.conf = reg, *s.GetMetadata().GetConfState()
	n.applied, n.snapIndex = s.GetMetadata().GetIndex(), s.GetMetadata().GetIndex()
	out.Snapshot = s
}

// apply applies one committed entry: a configuration change to raft, the
// commands of a proposal to the registry.
func (n *Node) apply(e *pb.Entry, out *Ready) {
	if e.GetIndex() <= n.applied {
		return
	}
	switch e.GetType() {
	case pb.EntryConfChange:
		var cc pb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			n.errs = append(n.errs, fmt.Errorf("replica: entry %d: %w", e.GetIndex(), err))
			break
		}
		n.conf = *n.rn.ApplyConfChange(&cc)
	case pb.EntryConfChangeV2:
		var cc pb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			n.errs = append(n.errs, fmt.Errorf("replica: entry %d: %w", e.GetIndex(), err))
			break
		}
		n.conf = *n.rn.ApplyConfChange(&cc)
	case pb.EntryNormal:
		if len(e.GetData()) == 0 {
			break // a new leader's empty entry
		}
		ent, err := n.entry(e)
		if err != nil {
			n.errs = append(n.errs, fmt.Errorf("replica: entry %d: %w", e.GetIndex(), err))
			break
		}
		for _, c := range ent.Commands {
			if err := n.reg.Apply(c); err != nil {
				n.errs = append(n.errs, fmt.Errorf("replica: entry %d: %w", e.GetIndex(), err))
			}
		}
		out.Committed = append(out.Committed, ent.Proposal)
	}
	n.applied = e.GetIndex()
	if e.GetTerm() == n.term {
		n.termApply = true
	}
}

// maybeSnapshot snapshots the registry every SnapshotEvery entries, so
// the log can be dropped up to a little before it.
func (n *Node) maybeSnapshot(out *Ready) {
	if n.applied-n.snapIndex < n.cfg.SnapshotEvery {
		return
	}
	snap, err := n.ms.CreateSnapshot(n.applied, &n.conf, n.reg.Snapshot())
	if err != nil {
		n.errs = append(n.errs, err)
		return
	}
	n.snapIndex = n.applied
	out.Compact = snap
	keep := min(keepAfterSnapshot, n.cfg.SnapshotEvery/2)
	if n.applied > keep {
		out.CompactIndex = n.applied - keep
		if first, _ := n.ms.FirstIndex(); out.CompactIndex >= first {
			if err := n.ms.Compact(out.CompactIndex); err != nil {
				n.errs = append(n.errs, err)
			}
		}
	}
}

// entry decodes a committed entry; this node's own proposals it has
// already, as they were proposed.
func (n *Node) entry(e *pb.Entry) (Entry, error) {
	p, err := proposalOf(e.GetData())
	if err != nil {
		return Entry{}, err
	}
	if cmds, ok := n.mine[p]; ok {
		delete(n.mine, p)
		return Entry{Proposal: p, Commands: cmds}, nil
	}
	ent := Entry{Proposal: p}
	err = json.Unmarshal(e.GetData()[proposalBytes:], &ent.Commands)
	return ent, err
}
