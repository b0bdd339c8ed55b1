package replica

import (
	"fmt"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/master/core"
	pb "go.etcd.io/raft/v3/raftpb"
)

// cluster is n nodes on memory disks, connected by a network the test
// drives: messages are delivered in rounds, and a node can be down.
type cluster struct {
	t     *testing.T
	nodes map[uint64]*Node
	disks map[uint64]*MemDisk
	down  map[uint64]bool
	cfg   Config
	inbox []*pb.Message
	done  map[uint64][]Proposal
}

func newCluster(t *testing.T, n int, snapshotEvery uint64) *cluster {
	c := &cluster{t: t, nodes: map[uint64]*Node{}, disks: map[uint64]*MemDisk{}, down: map[uint64]bool{}, done: map[uint64][]Proposal{}}
	var peers []uint64
	for i := range n {
		peers = append(peers, uint64(i+1))
	}
	c.cfg = Config{Peers: peers, SnapshotEvery: snapshotEvery, ManualElections: true}
	for _, id := range peers {
		c.disks[id] = &MemDisk{}
		c.start(id)
	}
	return c
}

func (c *cluster) start(id uint64) {
	cfg := c.cfg
	cfg.ID = id
	n, err := Open(cfg, c.disks[id])
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[id], c.down[id] = n, false
}

// run moves every node for rounds of one tick and delivery each.
func (c *cluster) run(rounds int) {
	for range rounds {
		for _, id := range c.cfg.Peers {
			if !c.down[id] {
				c.nodes[id].Tick()
			}
		}
		c.flush()
	}
}

func (c *cluster) flush() {
	for range 20 {
		moved := false
		for _, id := range c.cfg.Peers {
			if c.down[id] {
				continue
			}
			n := c.nodes[id]
			rd, ok := n.Ready()
			if !ok {
				continue
			}
			moved = true
			if err := c.disks[id].Save(&rd, rd.MustSync); err != nil {
				c.t.Fatal(err)
			}
			c.inbox = append(c.inbox, rd.Messages...)
			c.done[id] = append(c.done[id], rd.Committed...)
			if errs := n.Errors(); len(errs) > 0 {
				c.t.Fatalf("node %d: %v", id, errs)
			}
		}
		msgs := c.inbox
		c.inbox = nil
		for _, m := range msgs {
			if !c.down[m.GetTo()] {
				_ = c.nodes[m.GetTo()].Step(m)
				moved = true
			}
		}
		if !moved {
			return
		}
	}
}

func (c *cluster) leader() *Node {
	for _, id := range c.cfg.Peers {
		if !c.down[id] && c.nodes[id].Leading() {
			return c.nodes[id]
		}
	}
	return nil
}

func (c *cluster) elect(id uint64) *Node {
	c.t.Helper()
	c.flush()
	c.nodes[id].Campaign()
	c.run(5)
	if l := c.leader(); l != c.nodes[id] {
		c.t.Fatalf("node %d campaigned but the leader is %v", id, l)
	}
	return c.nodes[id]
}

func addAgent(name string) []core.Command {
	return []core.Command{{Op: core.OpAddAgent, At: time.Unix(1, 0).UTC(), Agent: &core.AgentRecord{ID: name, Resources: "cpus:1", State: core.AgentActive}}}
}

// Proposals of the leader are committed on every node; a node that was
// down catches up, from the log or, past a snapshot, from the snapshot;
// a new leader has every committed command.
func TestReplication(t *testing.T) {
	c := newCluster(t, 3, 20)
	l := c.elect(1)
	for i := range 10 {
		if _, err := l.Propose(addAgent(fmt.Sprintf("a%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	c.run(3)
	for _, id := range c.cfg.Peers {
		if got := len(c.done[id]); got != 10 {
			t.Errorf("node %d applied %d proposals, want 10", id, got)
		}
	}
	c.down[3] = true
	for i := 10; i < 60; i++ {
		if _, err := l.Propose(addAgent(fmt.Sprintf("a%d", i))); err != nil {
			t.Fatal(err)
		}
		c.run(1)
	}
	c.down[1] = true // the leader goes; 3 restarts from its disk
	c.start(3)
	l = c.elect(2)
	c.run(10)
	want := string(c.nodes[2].Registry().Snapshot())
	if got := string(c.nodes[3].Registry().Snapshot()); got != want {
		t.Errorf("node 3 after restart and catch-up:\n%s\nthe leader's:\n%s", got, want)
	}
	if st := c.nodes[2].Status(); st.FirstIndex < 2 {
		t.Errorf("the leader's log starts at %d after 60 entries with snapshots every 20", st.FirstIndex)
	}
	if _, err := c.nodes[3].Propose(addAgent("x")); err == nil {
		t.Error("a follower proposed")
	}
	if l != c.nodes[2] {
		t.Fatal("leader changed")
	}
}

// A node restarted from a bbolt file keeps its log and snapshot.
func TestBoltDisk(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Open(Config{ID: 1, Peers: []uint64{1}, SnapshotEvery: 5}, d)
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		for {
			rd, ok := n.Ready()
			if !ok {
				return
			}
			if err := d.Save(&rd, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	step()
	n.Campaign()
	step()
	for i := range 12 {
		if _, err := n.Propose(addAgent(fmt.Sprintf("a%d", i))); err != nil {
			t.Fatal(err)
		}
		step()
	}
	want := string(n.Registry().Snapshot())
	if _, err := OpenBolt(dir); err == nil {
		t.Error("a second master opened the same data dir")
	}
	d.Close()
	if d, err = OpenBolt(dir); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, err = Open(Config{ID: 1, Peers: []uint64{1}, SnapshotEvery: 5}, d); err != nil {
		t.Fatal(err)
	}
	step()
	n.Campaign()
	step()
	if got := string(n.Registry().Snapshot()); got != want {
		t.Errorf("after a restart:\n%s\nbefore:\n%s", got, want)
	}
}
