package master

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/loadgen"
)

// replicated is a cluster of masters in this process, each with its own
// listener, data dir and lifetime, so one can be killed: its server
// closed with every connection, its loops stopped, as kill -9 leaves its
// peers and clients.
type replicated struct {
	tb      testing.TB
	urls    []string
	dirs    []string
	opts    Options
	masters []*Master
	servers []*http.Server
	stops   []context.CancelFunc
}

func startReplicated(tb testing.TB, n int, opts Options) *replicated {
	r := &replicated{tb: tb, opts: opts, masters: make([]*Master, n), servers: make([]*http.Server, n), stops: make([]context.CancelFunc, n)}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		r.urls = append(r.urls, "http://"+ln.Addr().String())
		r.dirs = append(r.dirs, tb.TempDir())
		ln.Close()
	}
	for i := range n {
		r.start(i)
	}
	tb.Cleanup(func() {
		for i := range r.masters {
			r.kill(i)
		}
	})
	return r
}

// start starts master i on its address and data dir.
func (r *replicated) start(i int) {
	opts := r.opts
	opts.Replica = &ReplicaOptions{ID: uint64(i + 1), Peers: r.urls, DataDir: r.dirs[i]} // the default raft tick, 100 ms
	m, err := New(opts)
	if err != nil {
		r.tb.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", strings.TrimPrefix(r.urls[i], "http://")); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		r.tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go m.Run(ctx)
	srv := NewServer(m.Handler())
	go func() { _ = srv.Serve(ln) }()
	r.masters[i], r.servers[i], r.stops[i] = m, srv, cancel
}

// kill stops master i as kill -9 would for the others.
func (r *replicated) kill(i int) {
	if r.stops[i] == nil {
		return
	}
	_ = r.servers[i].Close()
	r.stops[i]()
	r.stops[i] = nil
	r.masters[i].waitStopped()
}

// leader is the index of the master that leads, -1 if none.
func (r *replicated) leader() int {
	for i, m := range r.masters {
		if r.stops[i] != nil && m.leading() {
			return i
		}
	}
	return -1
}

func (r *replicated) waitLeader(tb testing.TB) int {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if l := r.leader(); l >= 0 {
			return l
		}
		if time.Now().After(deadline) {
			tb.Fatal("no leader within 30 s")
		}
	}
}

// BenchmarkFailover kills the leader of three replicated masters while
// 1,000 simulated agents run 1,000 tasks of a framework, and times, from
// the kill, the new leader, its first offer, and every agent registered
// with it again (custom metrics, seconds; the Mesos paper measured 4-8 s
// to a failover). The killed master restarts from its data dir as a
// follower before the next kill.
func BenchmarkFailover(b *testing.B) {
	const agents = 1000
	r := startReplicated(b, 3, Options{Policy: allocator.Config{Policy: "drf", AllocationInterval: 100 * time.Millisecond},
		AgentTimeout: time.Hour, ReregisterTimeout: time.Hour})
	r.waitLeader(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	list := strings.Join(r.urls, ",")
	fleet, err := loadgen.StartAgents(ctx, mustMasters(b, list), agents, allocator.MustParseResources("cpus:4;mem:4096"), "sim")
	if err != nil {
		b.Fatal(err)
	}
	var lastOffer atomic.Int64
	fill := loadgen.Fill(ctx, 1, agents, allocator.MustParseResources("cpus:1;mem:512"))
	if _, _, err := loadgen.StartFrameworks(ctx, mustMasters(b, list), 1, "fw", "*", func(f *loadgen.Framework, offers []api.Offer) {
		lastOffer.Store(time.Now().UnixNano())
		fill(f, offers)
	}); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); fleet.Launched.Load() < agents; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d tasks launched after 2 minutes", fleet.Launched.Load(), agents)
		}
	}
	var toLeader, toOffer, toAgents time.Duration
	b.ResetTimer()
	for range b.N {
		lead := r.waitLeader(b)
		regs := fleet.Registrations.Load()
		kill := time.Now()
		r.kill(lead)
		r.waitLeader(b)
		toLeader += time.Since(kill)
		for lastOffer.Load() < kill.UnixNano() {
			time.Sleep(time.Millisecond)
		}
		toOffer += time.Duration(lastOffer.Load() - kill.UnixNano())
		for fleet.Registrations.Load() < regs+agents {
			time.Sleep(time.Millisecond)
		}
		toAgents += time.Since(kill)
		b.StopTimer()
		r.start(lead)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(toLeader.Seconds()/n, "s-to-leader")
	b.ReportMetric(toOffer.Seconds()/n, "s-to-first-offer")
	b.ReportMetric(toAgents.Seconds()/n, "s-to-all-agents")
}

// BenchmarkLaunchReplicated is the throughput cost of replication: tasks
// launched per second by one framework on 200 simulated agents, with one
// master in memory, one that keeps its log on disk, and three replicating
// it. Every task's launch and its TASK_RUNNING are commands the log must
// commit before the master answers with their messages.
func BenchmarkLaunchReplicated(b *testing.B) {
	for _, tc := range []struct {
		name    string
		masters int
		disk    bool
	}{{"masters=1/memory", 1, false}, {"masters=1/data-dir", 1, true}, {"masters=3", 3, true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := Options{Policy: allocator.Config{Policy: "drf", AllocationInterval: 10 * time.Millisecond}, AgentTimeout: time.Hour, Fresh: true}
			var list string
			if tc.disk {
				r := startReplicated(b, tc.masters, opts)
				r.waitLeader(b)
				list = strings.Join(r.urls, ",")
			} else {
				m, err := New(opts)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go m.Run(ctx)
				ln, _ := net.Listen("tcp", "127.0.0.1:0")
				srv := NewServer(m.Handler())
				go func() { _ = srv.Serve(ln) }()
				defer srv.Close()
				list = "http://" + ln.Addr().String()
			}
			launchThroughput(b, list)
		})
	}
}

func launchThroughput(b *testing.B, list string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const agents = 200
	fleet, err := loadgen.StartAgents(ctx, mustMasters(b, list), agents, allocator.MustParseResources("cpus:1000;mem:1000000"), "sim")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, _, err := loadgen.StartFrameworks(ctx, mustMasters(b, list), 1, "fw", "*", launchAll(ctx, b.N)); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Minute); fleet.Launched.Load() < int64(b.N); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d tasks launched", fleet.Launched.Load(), b.N)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// launchAll launches up to 50 tasks on every offer, each accept leaving
// the rest unfiltered so the next cycle offers it again, until total.
func launchAll(ctx context.Context, total int) func(*loadgen.Framework, []api.Offer) {
	next := 0
	zero := 0.0
	res := api.FromResources(allocator.MustParseResources("cpus:0.1;mem:10"))
	return func(f *loadgen.Framework, offers []api.Offer) {
		for _, o := range offers {
			var infos []api.TaskInfo
			for k := 0; k < 50 && next < total; k++ {
				next++
				infos = append(infos, api.TaskInfo{Name: "t", TaskID: api.ID{Value: fmt.Sprintf("t%d", next)}, AgentID: o.AgentID,
					Command: &api.CommandInfo{Value: "true"}, Resources: res})
			}
			_ = f.Call(ctx, api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID},
				Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}, Filters: &api.Filters{RefuseSeconds: &zero}}})
		}
	}
}
