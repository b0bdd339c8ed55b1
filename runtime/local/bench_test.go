package local

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/scheduler"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
)

// BenchmarkLiveTaskThroughput runs b.N trivial tasks (/bin/true) end to
// end, submit to TASK_FINISHED, through a local master and two agents with
// cgroup isolation when the machine allows it, driven by the simulator's
// elastic batch framework. It reports tasks per second. The agents' work
// dirs (sandboxes, checkpoints) go under $APRON_BENCH_WORKDIR when set (a
// tmpfs, say), else in the test's temporary directory.
func BenchmarkLiveTaskThroughput(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if d := os.Getenv("APRON_BENCH_WORKDIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "apron-bench"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	c, err := Start(ctx, Config{Master: master.Options{Policy: allocator.Config{Policy: "drf", AllocationInterval: 100 * time.Millisecond}},
		MasterAddr: "127.0.0.1:0", Agents: 2, Resources: allocator.MustParseResources("cpus:32;mem:65536"), WorkDir: dir, Isolation: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Stop()
	iso := c.Master.State().Agents[0].Isolation
	if c.Warning != nil {
		b.Logf("no isolation: %v", c.Warning)
	}
	job := &traces.Job{ID: "bench"}
	job.Tasks = []traces.Task{{Resources: traces.Resources{CPUs: 0.1, MemMiB: 32}, Duration: 0, Count: b.N}}
	batch := framework.NewBatch(framework.BatchConfig{}, traces.Jobs{job}.Source())
	finished := 0
	obs := &counter{finished: &finished}
	b.ResetTimer()
	err = scheduler.Run(ctx, scheduler.Options{Master: c.URL, Credential: c.Client, Name: "bench", Observe: obs, Done: func() bool { return finished == b.N }}, batch)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	b.Logf("isolation %s", iso)
}

type counter struct {
	scheduler.NopObserver
	finished *int
}

func (c *counter) Updated(_ string, s framework.Status, _ time.Duration) {
	if s.State == framework.TaskFinished {
		*c.finished++
	} else if s.State.Terminal() {
		panic(fmt.Sprintf("task %s: %s %s", s.Task, s.State, s.Message))
	}
}
