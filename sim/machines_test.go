package sim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/sim"
)

// The cluster can come from a trace's machine table: the machines of time
// 0 start the run, and later adds and removes change it, their tasks lost
// and run again.
func TestClusterFromMachineTable(t *testing.T) {
	// Google 2011 machine_events: time (µs, 600 s before the window),
	// machine, event (0 add, 1 remove, 2 update), platform, cpus, memory
	// (fractions of the largest machine: 8 cores, 8192 MiB here).
	table := filepath.Join(t.TempDir(), "machine_events.csv")
	rows := "0,1,0,p,0.5,0.5\n0,2,0,p,0.5,0.5\n0,3,0,p,0,0\n630000000,1,1,,,\n660000000,4,0,p,1,1\n"
	if err := os.WriteFile(table, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := sim.ParseConfig("machines.yaml", strings.NewReader(`
machines:
  trace: [`+table+`]
  format: google2011
  machine_cpus: 8
  machine_mem: 8192
frameworks:
  - name: f
    role: r
    kind: batch
    jobs:
      - {tasks: 8, task: "cpus:1;mem:1024", duration: 100s}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Cluster) != 2 || len(cfg.MachineEvents) != 2 {
		t.Fatalf("cluster %+v, events %+v; want machines 1 and 2 (3 has no capacity) and two events", cfg.Cluster, cfg.MachineEvents)
	}
	_, sum := run(t, cfg)
	f := fwSummary(sum, "f")
	if f.Completed != 1 || f.Tasks != 12 {
		t.Fatalf("completed %d jobs with %d task launches; want 1 job, 8 tasks plus 4 lost with machine 1", f.Completed, f.Tasks)
	}
	if sum.Cluster.Agents != 2 || sum.Cluster.MachineEventErrors != 0 {
		t.Fatalf("cluster %+v; want machines 2 and 4 at the end, no errors", sum.Cluster)
	}
}

// The complete openb node list is a cluster of 1,523 agents; a sim config
// reads the shipped sample through its $TRACES/ name.
func TestClusterFromOpenbNodes(t *testing.T) {
	t.Setenv("APRON_TRACES", "") // the shipped samples, whatever the environment says
	cfg, err := sim.ParseConfig("openb.yaml", strings.NewReader(`
machines: {trace: [$TRACES/alibaba-gpu-v2023/openb_node_list_all_node.csv]}
frameworks:
  - {name: f, role: r, kind: batch, jobs: [{tasks: 4, task: "cpus:8;mem:8192;gpus:1", duration: 10s}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, sum := run(t, cfg)
	if sum.Cluster.Agents != 1523 || fwSummary(sum, "f").Completed != 1 {
		t.Fatalf("%d agents, %+v; want 1523 and the job done", sum.Cluster.Agents, fwSummary(sum, "f"))
	}
}

// A machine table that is not there is an error naming the file.
func TestMachineTableMissing(t *testing.T) {
	_, err := sim.ParseConfig("m.yaml", strings.NewReader(`
machines: {trace: [no/such/machines.csv]}
frameworks: [{name: f, role: r, kind: batch, jobs: [{tasks: 1, task: "cpus:1", duration: 1s}]}]
`))
	if err == nil || !strings.Contains(err.Error(), "no/such/machines.csv") || !strings.Contains(err.Error(), "machines.trace") {
		t.Fatalf("err = %v; want one naming machines.trace and the file", err)
	}
}

// Two rigid frameworks that each hold half the cluster, waiting for more,
// wait for ever: the run stops once nothing has started for stall_after,
// reports when, and reports the jobs incomplete.
func TestStalledRunEnds(t *testing.T) {
	cfg, err := sim.ParseConfig("stall.yaml", strings.NewReader(`
stall_after: 10m
cluster:
  - {name: node, count: 2, resources: "cpus:2;mem:2048"}
frameworks:
  - {name: a, role: a, kind: gang, jobs: [{tasks: 3, task: "cpus:1;mem:512", duration: 60s}]}
  - {name: b, role: b, kind: gang, jobs: [{tasks: 3, task: "cpus:1;mem:512", duration: 60s}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir, sum := run(t, cfg)
	if sum.StalledAt < 600 || sum.StalledAt > 700 {
		t.Fatalf("stalled at %vs; want about 600 s (stall_after) after the start", sum.StalledAt)
	}
	if fwSummary(sum, "a").Completed+fwSummary(sum, "b").Completed != 0 {
		t.Fatalf("a job completed: %+v", sum.Frameworks)
	}
	if jobs := testutil.ReadCSV(t, filepath.Join(dir, "jobs.csv")); len(jobs) != 3 || jobs[1][10] != "incomplete" {
		t.Fatalf("jobs.csv %v; want both jobs incomplete", jobs)
	}
}
