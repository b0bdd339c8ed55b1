package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/local"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/sim"
	"github.com/apronlab/apron/sim/framework"
)

// A study with backends [sim, live] runs its live runs on a real local
// cluster (real processes, apron's own test binary standing in for the
// burn command) and writes the same files the simulated runs write.
func TestLiveBackendWritesTheSameFiles(t *testing.T) {
	c, err := local.Start(context.Background(), local.Config{Master: master.Options{Policy: allocator.Config{Policy: "drf"}, ParsePolicy: sim.ParsePolicy},
		MasterAddr: "127.0.0.1:0", Agents: 2, Prefix: "host", Resources: allocator.MustParseResources("cpus:1;mem:1024"), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	study := filepath.Join(t.TempDir(), "tiny-live.yaml")
	text := `
name: tiny-live
policies: [static, drf]
backends: [sim, live]
sim:
  sample_interval: 1s
  cluster: [{name: host, count: 2, resources: "cpus:1;mem:1024"}]
  frameworks:
    - {name: a, role: a, kind: batch, jobs: [{submit: 0s, count: 2, every: 2s, tasks: 3, task: "cpus:0.25;mem:64", duration: 2s}]}
    - {name: b, role: b, kind: batch, jobs: [{submit: 1s, count: 1, tasks: 4, task: "cpus:0.25;mem:64", duration: 3s}]}
`
	if err := os.WriteFile(study, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(study, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sleep := func(_ framework.Task, wall time.Duration) string {
		return fmt.Sprintf("sleep %.3f", max(wall, 0).Seconds())
	}
	rep, err := Execute(ctx, s, Options{Dir: out, Live: &Live{Master: c.URL, Compress: 4, Command: sleep}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Aggregated || rep.Total != 4 {
		t.Fatalf("report %+v; want 4 runs aggregated", rep)
	}
	for _, run := range []string{"drf/seed-1", "live/drf/seed-1", "live/static/seed-1"} {
		dir := filepath.Join(rep.Dir, run)
		for _, f := range []string{"timeseries.csv", "jobs.csv", "frameworks.csv", "summary.json", "manifest.json", "run.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", run, err)
			}
		}
		var sum sim.Summary
		data, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		for _, f := range sum.Frameworks {
			if f.Completed != f.Jobs || f.Jobs == 0 {
				t.Errorf("%s: framework %s completed %d of %d jobs", run, f.Name, f.Completed, f.Jobs)
			}
		}
	}
	var man struct {
		Backend   string `json:"backend"`
		Allocator struct{ Policy string }
	}
	data, _ := os.ReadFile(filepath.Join(rep.Dir, "live/drf/seed-1/manifest.json"))
	if err := json.Unmarshal(data, &man); err != nil || man.Backend != "live" || man.Allocator.Policy != "drf" {
		t.Errorf("live manifest: backend %q policy %q (%v)", man.Backend, man.Allocator.Policy, err)
	}
	agg, _ := os.ReadFile(filepath.Join(rep.Dir, "aggregate.csv"))
	if !strings.Contains(string(agg), "drf (live)") || !strings.Contains(string(agg), "static (live)") {
		t.Errorf("aggregate.csv lacks the live variants:\n%s", agg)
	}
}
