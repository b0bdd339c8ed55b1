package webui

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
	"github.com/apronlab/apron/runtime/loadgen"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/masters"
)

var (
	bigOnce sync.Once
	bigURL  string
	bigErr  error
)

// bigCluster is a master with 1,000 simulated agents and 10,000 running
// tasks, served with the web UI.
func bigCluster(b *testing.B) string {
	bigOnce.Do(func() {
		const agents, tasks = 1000, 10000
		m, err := master.New(master.Options{Policy: allocator.Config{Policy: "drf", AllocationInterval: time.Hour}, AgentTimeout: time.Hour, Heartbeat: time.Hour})
		if err != nil {
			bigErr = err
			return
		}
		srv := httptest.NewUnstartedServer(nil)
		srv.Config = master.NewServer(Handler(m))
		srv.Start()
		ctx := context.Background()
		go m.Run(ctx)
		ms, _ := masters.Parse(srv.URL) // the benchmarks' master runs insecure, as it was measured
		if _, bigErr = loadgen.StartAgents(ctx, ms, agents, allocator.MustParseResources("cpus:16;mem:65536"), "sim"); bigErr != nil {
			return
		}
		fill := loadgen.Fill(ctx, tasks/agents, tasks, allocator.MustParseResources("cpus:1;mem:1024"))
		if _, _, bigErr = loadgen.StartFrameworks(ctx, ms, 1, "filler", "*", fill); bigErr != nil {
			return
		}
		for deadline := time.Now().Add(2 * time.Minute); m.State().TaskCounts["TASK_RUNNING"] < tasks; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				bigErr = fmt.Errorf("the tasks did not all start within 2 minutes")
				return
			}
		}
		bigURL = srv.URL
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigURL
}

// BenchmarkPages times rendering each page (whole, as a browser first
// loads it, and the partial the page refreshes with every 2 s) with 1,000
// agents and 10,000 running tasks.
func BenchmarkPages(b *testing.B) {
	for _, path := range []string{"/", "/?partial=1", "/agents", "/agents/sim-7", "/frameworks"} {
		b.Run(path, func(b *testing.B) {
			url := bigCluster(b)
			b.ResetTimer()
			for range b.N {
				resp, err := http.Get(url + path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("GET %s: %s", path, resp.Status)
				}
			}
		})
	}
}
