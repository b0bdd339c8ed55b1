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

// liveCluster is a real local cluster (master and two agents named
// host-1, host-2, real task processes) for a test.
func liveCluster(t *testing.T) *local.Cluster { return liveClusterOf(t, "cpus:1;mem:1024") }

// liveClusterOf is liveCluster with agents of res.
func liveClusterOf(t *testing.T, res string) *local.Cluster {
	c, err := local.Start(context.Background(), local.Config{Master: master.Options{Policy: allocator.Config{Policy: "drf"}, ParsePolicy: sim.ParsePolicy},
		MasterAddr: "127.0.0.1:0", Agents: 2, Prefix: "host", Resources: allocator.MustParseResources(res), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// runLive runs a study file's text with its live runs on c; tasks sleep
// for their time instead of running apron burn (this binary is a test).
func runLive(t *testing.T, c *local.Cluster, text string) Report {
	study := filepath.Join(t.TempDir(), "study.yaml")
	if err := os.WriteFile(study, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(study, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sleep := func(_ framework.Task, wall time.Duration) string {
		return fmt.Sprintf("sleep %.3f", max(wall, 0).Seconds())
	}
	rep, err := Execute(ctx, s, Options{Dir: t.TempDir(), Live: &Live{Master: c.URL, Credential: c.Client, Compress: 4, Command: sleep}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkRun checks a run folder has every result file and every job done.
func checkRun(t *testing.T, dir string, frameworks int) {
	t.Helper()
	for _, f := range []string{"timeseries.csv", "jobs.csv", "frameworks.csv", "summary.json", "manifest.json", "run.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	var sum sim.Summary
	data, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Frameworks) != frameworks {
		t.Errorf("%s: %d frameworks, want %d", dir, len(sum.Frameworks), frameworks)
	}
	for _, f := range sum.Frameworks {
		if f.Completed != f.Jobs || f.Jobs == 0 {
			t.Errorf("%s: framework %s completed %d of %d jobs", dir, f.Name, f.Completed, f.Jobs)
		}
	}
}

// A study with backends [sim, live] runs its live runs on the cluster and
// writes the same files the simulated runs write.
func TestLiveBackendWritesTheSameFiles(t *testing.T) {
	rep := runLive(t, liveCluster(t), `
name: tiny-live
policies: [static, drf]
backends: [sim, live]
sim:
  sample_interval: 1s
  cluster: [{name: host, count: 2, resources: "cpus:1;mem:1024"}]
  frameworks:
    - {name: a, role: a, kind: batch, jobs: [{submit: 0s, count: 2, every: 2s, tasks: 3, task: "cpus:0.25;mem:64", duration: 2s}]}
    - {name: b, role: b, kind: batch, jobs: [{submit: 1s, count: 1, tasks: 4, task: "cpus:0.25;mem:64", duration: 3s}]}
`)
	if !rep.Aggregated || rep.Total != 4 {
		t.Fatalf("report %+v; want 4 runs aggregated", rep)
	}
	for _, run := range []string{"drf/seed-1", "live/drf/seed-1", "live/static/seed-1"} {
		checkRun(t, filepath.Join(rep.Dir, run), 2)
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

// Frameworks that place their tasks with a placement run live on agents
// of GPU devices as in the simulator: halves of GPUs placed by FGD, whole
// ones by best fit, every job done.
func TestLivePlacementOnGPUDevices(t *testing.T) {
	res := "cpus:1;mem:1024;gpus[T4]:2"
	rep := runLive(t, liveClusterOf(t, res), `
name: gpu-live
policies: [drf]
backends: [sim, live]
sim:
  sample_interval: 1s
  cluster: [{name: host, count: 2, resources: "`+res+`"}]
  frameworks:
    - {name: a, role: a, kind: batch, placement: fgd, jobs: [{submit: 0s, count: 2, every: 1s, tasks: 4, task: "cpus:0.1;mem:32;gpus[*]:0.5", duration: 2s}]}
    - {name: b, role: b, kind: batch, placement: best-fit, jobs: [{submit: 0s, tasks: 3, task: "cpus:0.1;mem:32;gpus[*]:1", duration: 2s}]}
`)
	for _, run := range []string{"drf/seed-1", "live/drf/seed-1"} {
		checkRun(t, filepath.Join(rep.Dir, run), 2)
	}
}

// A trace workload replays live through the same trace-driven frameworks:
// one per user, each created when its user's first job arrives.
func TestLiveBackendReplaysATrace(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "jobs.csv")
	rows := []string{"j1,0,alice,q,0,0,0.25,64,0,0,2,false,2", "j2,1,bob,q,0,0,0.25,64,0,0,1.5,false,3", "j3,3,alice,q,0,0,0.5,128,0,0,1,false,1"}
	if err := os.WriteFile(trace, []byte("job,submit_s,user,group,priority,task,cpus,mem_mib,disk_mib,gpus,duration_s,censored,count\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := runLive(t, liveCluster(t), fmt.Sprintf(`
name: trace-live
policies: [drf]
backends: [live]
sim:
  sample_interval: 1s
  cluster: [{name: host, count: 2, resources: "cpus:1;mem:1024"}]
  workload: {trace: [%q], group_by: user}
`, trace))
	checkRun(t, filepath.Join(rep.Dir, "live/drf/seed-1"), 2)
	jobs, _ := os.ReadFile(filepath.Join(rep.Dir, "live/drf/seed-1/jobs.csv"))
	for _, want := range []string{"alice,j1", "bob,j2", "alice,j3"} {
		if !strings.Contains(string(jobs), want) {
			t.Errorf("jobs.csv lacks %s:\n%s", want, jobs)
		}
	}
}
