package master

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/apronlab/apron/runtime/master/core"
	"github.com/apronlab/apron/runtime/master/replica"
	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/raft/v3/raftpb"
)

// ReplicaOptions make a master one of a replicated cluster.
type ReplicaOptions struct {
	ID      uint64   // this master: 1..len(Peers)
	Peers   []string // every master's base URL (http://host:port), in id order; a single master: its own
	DataDir string   // where the log and its snapshots are kept (raft.db)
	// Tick is raft's clock (default 100 ms). A follower that hears nothing
	// from a leader for 10 to 20 ticks starts an election; the leader
	// heartbeats every tick.
	Tick          time.Duration
	SnapshotEvery uint64 // entries between snapshots (default 10000)
}

// replication is a master's raft node and what the shell does with it:
// write its Ready to disk, send its messages to the peers, hold the core's
// messages until the commands they follow are committed, and start or
// stop the core as the node comes to lead or stops.
type replication struct {
	m     *Master
	opts  ReplicaOptions
	node  *replica.Node
	disk  *replica.BoltDisk
	peers map[uint64]*peer
	kick  chan struct{}
	held  []held // the core's messages waiting for commits, in order
	// inflight: a Ready is being written to disk; what it releases goes
	// out after it, so a message of the core's that waits for nothing
	// waits for it too, to keep each stream in order.
	inflight bool
	stats    replStats
	err      error // the disk failed: the master stopped leading for good
}

// held is one Ready of the core: its messages go once its proposal (if
// any) and every proposal before it are committed.
type held struct {
	prop  replica.Proposal
	waits bool // it proposed commands
	msgs  []core.Message
	at    time.Time
}

type replStats struct {
	leaderChanges, becameLeader, proposals, commits uint64
	commitSum                                       time.Duration
	commitBuckets                                   []uint64
	snapshots                                       uint64
}

func openReplication(m *Master, o ReplicaOptions) (*replication, error) {
	if o.ID == 0 || int(o.ID) > len(o.Peers) {
		return nil, fmt.Errorf("replica id %d: want 1 to %d, the number of peers", o.ID, len(o.Peers))
	}
	if o.DataDir == "" {
		return nil, errors.New("a replicated master needs a data dir for its log")
	}
	if o.Tick <= 0 {
		o.Tick = 100 * time.Millisecond
	}
	ids := make([]uint64, len(o.Peers))
	for i, p := range o.Peers {
		ids[i] = uint64(i + 1)
		if _, err := url.Parse(p); err != nil || !strings.HasPrefix(p, "http") {
			return nil, fmt.Errorf("peer %d: %q is not a URL", i+1, p)
		}
	}
	disk, err := replica.OpenBolt(o.DataDir)
	if err != nil {
		return nil, err
	}
	node, err := replica.Open(replica.Config{ID: o.ID, Peers: ids, SnapshotEvery: o.SnapshotEvery, Limits: m.opts.Limits}, disk)
	if err != nil {
		disk.Close()
		return nil, err
	}
	r := &replication{m: m, opts: o, node: node, disk: disk, peers: map[uint64]*peer{}, kick: make(chan struct{}, 1),
		stats: replStats{commitBuckets: make([]uint64, len(commitBuckets))}}
	for i, p := range o.Peers {
		if id := uint64(i + 1); id != o.ID {
			r.peers[id] = newPeer(r, id, p)
		}
	}
	return r, nil
}

// run drives the node until ctx ends: its clock, and its Ready whenever
// it moved.
func (r *replication) run(ctx context.Context) {
	for _, p := range r.peers {
		go p.run(ctx)
	}
	tick := time.NewTicker(r.opts.Tick)
	defer tick.Stop()
	defer r.disk.Close()
	if len(r.opts.Peers) == 1 {
		r.process() // the bootstrap's entries, before a campaign
		r.m.mu.Lock()
		r.node.Campaign()
		r.m.mu.Unlock()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.m.mu.Lock()
			r.node.Tick()
			if r.m.core != nil {
				r.m.core.SetCluster(r.m.clusterView()) // peers come and go
			}
			r.m.mu.Unlock()
		case <-r.kick:
		}
		if !r.process() {
			return
		}
	}
}

// process carries out the node's Readies, one at a time, on the
// replication's goroutine: the durable part to disk first (without the
// master's lock: inputs go on meanwhile), then the messages to the peers;
// then what was committed releases the core's held messages, and a change
// of leader starts or stops the core. Nothing the node decides leaves
// before it is on disk. It reports false once the disk failed.
func (r *replication) process() bool {
	m := r.m
	for {
		m.mu.Lock()
		if r.err != nil {
			m.mu.Unlock()
			return false
		}
		rd, ok := r.node.Ready()
		r.inflight = ok
		m.mu.Unlock()
		if !ok {
			return true
		}
		err := r.disk.Save(&rd, rd.MustSync)
		m.mu.Lock()
		r.inflight = false
		switch {
		case err != nil:
			r.fail(err)
		case len(r.node.Errors()) > 0:
			r.fail(fmt.Errorf("committed commands did not fit the registry: %v", r.node.Errors()))
		default:
			r.applied(rd)
		}
		m.mu.Unlock()
	}
}

// applied acts on a Ready now on disk. Called with the master's lock held.
func (r *replication) applied(rd replica.Ready) {
	for _, msg := range rd.Messages {
		if p := r.peers[msg.GetTo()]; p != nil {
			p.send(msg)
		}
	}
	if rd.Compact != nil {
		r.stats.snapshots++
	}
	for _, p := range rd.Committed {
		r.release(p)
	}
	r.release(replica.Proposal{}) // what waits for nothing but this Ready
	if rd.Changed {
		r.leadership()
	}
}

// fail stops the master from leading for good: its disk failed, and a
// master that cannot persist must not decide anything.
func (r *replication) fail(err error) {
	r.err = err
	r.m.opts.Log.Error("replication stopped; this master will not lead again until restarted", "err", err)
	r.stepDown()
}

// hold takes one Ready of the core: its commands are proposed, and its
// messages wait for them, and for what was proposed before, to commit. A
// Ready with no commands behind none waiting goes out at once.
func (r *replication) hold(rd core.Ready) {
	h := held{msgs: rd.Messages, at: time.Now()}
	if len(rd.Commands) > 0 {
		p, err := r.node.Propose(rd.Commands)
		if err != nil {
			return // not the leader any more: the core is going
		}
		h.prop, h.waits = p, true
		r.stats.proposals++
	}
	if !h.waits && len(r.held) == 0 && !r.inflight {
		r.m.deliver(h.msgs)
		return
	}
	r.held = append(r.held, h)
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// release sends the held messages up to the committed proposal p (none:
// the zero Proposal) and those behind them that wait for nothing.
func (r *replication) release(p replica.Proposal) {
	for len(r.held) > 0 {
		h := r.held[0]
		if h.waits && (h.prop.Node != p.Node || h.prop.Term != p.Term || h.prop.Seq > p.Seq) {
			return
		}
		if h.waits {
			r.observeCommit(time.Since(h.at))
		}
		r.m.deliver(h.msgs)
		r.held = r.held[1:]
	}
}

// leadership starts the core when the node leads with every committed
// entry applied, and stops it when the node no longer leads.
func (r *replication) leadership() {
	r.stats.leaderChanges++
	st := r.node.Status()
	switch {
	case r.node.Leading() && r.m.core == nil && r.err == nil:
		r.lead(st)
	case !r.node.Leading() && r.m.core != nil:
		r.stepDown()
	}
	if r.m.core != nil {
		r.m.core.SetCluster(r.m.clusterView())
	}
}

// lead starts a core on a copy of the committed registry.
func (r *replication) lead(st replica.Status) {
	m := r.m
	reg, err := core.LoadRegistry(r.node.Registry().Snapshot(), m.opts.Limits)
	if err == nil {
		var c *core.Core
		now := m.opts.Now()
		if c, err = core.Recover(m.coreConfig(fmt.Sprintf("m%d.t%d", st.ID, st.Term)), reg, now); err == nil {
			m.core = c
			m.start = now
			r.stats.becameLeader++
			m.opts.Log.Info("leading", "master", st.ID, "term", st.Term, "applied", st.Applied)
			m.flush()
			return
		}
	}
	m.opts.Log.Error("cannot lead", "err", err)
}

// stepDown stops the core: every stream closes (clients find the new
// leader), and the held messages are dropped (their commands may never
// commit; clients reconcile).
func (r *replication) stepDown() {
	m := r.m
	if m.core == nil {
		return
	}
	m.opts.Log.Info("no longer leading", "master", r.opts.ID)
	m.core, r.held = nil, nil
	for id, o := range m.streams {
		o.close()
		delete(m.streams, id)
	}
}

// leaderURL is the URL of the master this one believes leads, "" if none.
func (r *replication) leaderURL() string {
	lead := r.node.Status().Leader
	if lead == 0 || int(lead) > len(r.opts.Peers) {
		return ""
	}
	return r.opts.Peers[lead-1]
}

// step feeds the node messages from a peer.
func (r *replication) step(msgs []*pb.Message) {
	r.m.mu.Lock()
	for _, msg := range msgs {
		_ = r.node.Step(msg)
	}
	r.m.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// commitBuckets are the commit latency histogram's upper bounds, seconds.
var commitBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

func (r *replication) observeCommit(d time.Duration) {
	r.stats.commits++
	r.stats.commitSum += d
	for i, b := range commitBuckets {
		if d.Seconds() <= b {
			r.stats.commitBuckets[i]++
		}
	}
}

var (
	descLeader    = prometheus.NewDesc("apron_master_leader", "1 on the leading master, 0 on the others.", nil, nil)
	descTerm      = prometheus.NewDesc("apron_master_raft_term", "The raft term this master is in.", nil, nil)
	descChanges   = prometheus.NewDesc("apron_master_raft_leader_changes_total", "Changes of leader, role or term this master saw.", nil, nil)
	descElected   = prometheus.NewDesc("apron_master_raft_elected_total", "Times this master came to lead.", nil, nil)
	descLog       = prometheus.NewDesc("apron_master_raft_log_entries", "Entries in the log after the last snapshot.", nil, nil)
	descLogBytes  = prometheus.NewDesc("apron_master_raft_log_bytes", "Size of the log's file (raft.db).", nil, nil)
	descSnapshots = prometheus.NewDesc("apron_master_raft_snapshots_total", "Snapshots of the registry this master made.", nil, nil)
	descApplied   = prometheus.NewDesc("apron_master_raft_applied_index", "The last log index this master applied.", nil, nil)
	descCommit    = prometheus.NewDesc("apron_master_raft_commit_seconds", "Time from proposing a step's commands to their commit, on the leader.", nil, nil)
)

// collect exports the replication's figures. Called with the lock held.
func (r *replication) collect(ch chan<- prometheus.Metric) {
	st := r.node.Status()
	lead := 0.0
	if r.m.core != nil {
		lead = 1
	}
	ch <- prometheus.MustNewConstMetric(descLeader, prometheus.GaugeValue, lead)
	ch <- prometheus.MustNewConstMetric(descTerm, prometheus.GaugeValue, float64(st.Term))
	ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(r.stats.leaderChanges))
	ch <- prometheus.MustNewConstMetric(descElected, prometheus.CounterValue, float64(r.stats.becameLeader))
	ch <- prometheus.MustNewConstMetric(descLog, prometheus.GaugeValue, float64(st.LastIndex-st.FirstIndex+1))
	ch <- prometheus.MustNewConstMetric(descLogBytes, prometheus.GaugeValue, float64(r.disk.Size()))
	ch <- prometheus.MustNewConstMetric(descSnapshots, prometheus.CounterValue, float64(r.stats.snapshots))
	ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(st.Applied))
	buckets := map[float64]uint64{}
	for i, b := range commitBuckets {
		buckets[b] = r.stats.commitBuckets[i]
	}
	ch <- prometheus.MustNewConstHistogram(descCommit, r.stats.commits, r.stats.commitSum.Seconds(), buckets)
}
