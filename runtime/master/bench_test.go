package master

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/benchutil"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/loadgen"
	"github.com/apronlab/apron/runtime/masters"
)

// loaded is a master with simulated agents and frameworks, built once per
// size for every round of a benchmark.
type loaded struct {
	m   *Master
	srv *httptest.Server
}

var (
	loadedMu sync.Mutex
	loadedBy = map[string]*loaded{}
)

func newLoaded(b *testing.B, key string, setup func(ctx context.Context, l *loaded) error) *loaded {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if l := loadedBy[key]; l != nil {
		return l
	}
	m, err := New(Options{Policy: allocator.Config{Policy: "drf", AllocationInterval: time.Hour}, AgentTimeout: time.Hour, Heartbeat: time.Hour, Retain: 10})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(m.Handler())
	srv.Config = NewServer(m.Handler())
	srv.Start()
	l := &loaded{m: m, srv: srv}
	t0 := time.Now()
	if err := setup(context.Background(), l); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: set up in %v", key, time.Since(t0).Round(time.Millisecond))
	loadedBy[key] = l
	return l
}

// waitOffers waits until no offer is outstanding (the frameworks declined
// them all).
func (l *loaded) waitOffers(b *testing.B) {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		l.m.mu.Lock()
		n := l.m.core.Offers()
		l.m.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d offers still outstanding after a minute", n)
		}
	}
}

// offersMade is how many offers the master has made.
func (l *loaded) offersMade() uint64 {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.m.core.Stats().Offers
}

// BenchmarkAllocationCycle times one allocation cycle of the master with
// simulated agents registered over the agent protocol and 200 frameworks
// (the cycle includes queueing the OFFERS events; the declines are waited
// for between cycles, untimed). In agents=N/frameworks=200 the frameworks
// decline every offer with no filter, so every cycle offers every agent
// again. In filtered/agents=N/frameworks=200 they decline with a filter
// that never expires, as in the allocator's BenchmarkAllocateDeclineOffers:
// run it for 400 cycles (-benchtime 400x) to cover the 200 rounds in which
// frameworks are still being offered and the steady state in which every
// framework has filtered every agent; it reports the p50, p99 and maximum
// of the cycles that made offers.
func BenchmarkAllocationCycle(b *testing.B) {
	for _, agents := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("agents=%d/frameworks=200", agents), func(b *testing.B) {
			benchCycles(b, fmt.Sprintf("cycle-%d", agents), agents, loadgen.DeclineAll)
		})
	}
	for _, agents := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("filtered/agents=%d/frameworks=200", agents), func(b *testing.B) {
			forever := func(ctx context.Context) func(*loadgen.Framework, []api.Offer) {
				return loadgen.DeclineFiltered(ctx, 365*24*time.Hour)
			}
			benchCycles(b, fmt.Sprintf("cycle-filtered-%d", agents), agents, forever)
		})
	}
}

func benchCycles(b *testing.B, key string, agents int, act func(context.Context) func(*loadgen.Framework, []api.Offer)) {
	l := newLoaded(b, key, func(ctx context.Context, l *loaded) error {
		if _, err := loadgen.StartAgents(ctx, mustMasters(b, l.srv.URL), agents, allocator.MustParseResources("cpus:16;mem:65536"), "sim"); err != nil {
			return err
		}
		_, _, err := loadgen.StartFrameworks(ctx, mustMasters(b, l.srv.URL), 200, "fw", "*", act(ctx))
		return err
	})
	l.waitOffers(b)
	var offering []time.Duration
	b.ResetTimer()
	for range b.N {
		before := l.offersMade()
		start := time.Now()
		b.StartTimer()
		l.m.allocate()
		b.StopTimer()
		if l.offersMade() != before {
			offering = append(offering, time.Since(start))
		}
		l.waitOffers(b)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/cycle")
	benchutil.ReportCycles(b, "", offering)
}

// BenchmarkState times GET /state, read whole, with 10,000 agents and
// 100,000 running tasks.
func BenchmarkState(b *testing.B) {
	const agents, tasks = 10000, 100000
	l := newLoaded(b, "state", func(ctx context.Context, l *loaded) error {
		fleet, err := loadgen.StartAgents(ctx, mustMasters(b, l.srv.URL), agents, allocator.MustParseResources("cpus:16;mem:65536"), "sim")
		if err != nil {
			return err
		}
		fill := loadgen.Fill(ctx, tasks/agents, tasks, allocator.MustParseResources("cpus:1;mem:1024"))
		if _, _, err := loadgen.StartFrameworks(ctx, mustMasters(b, l.srv.URL), 1, "filler", "*", fill); err != nil {
			return err
		}
		l.m.allocate()
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
			running := l.m.Summary().TaskCounts["TASK_RUNNING"]
			if running == tasks {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d tasks running (%d launched) after 5 minutes", running, tasks, fleet.Launched.Load())
			}
		}
	})
	b.ResetTimer()
	var size int64
	for range b.N {
		resp, err := http.Get(l.srv.URL + "/state")
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(size)/1e6, "MB/response")
}

// mustMasters is the list s of masters, with no credential: the
// benchmarks' masters run insecure, as they were measured.
func mustMasters(b *testing.B, s string) *masters.List {
	ms, err := masters.Parse(s)
	if err != nil {
		b.Fatal(err)
	}
	return ms
}
