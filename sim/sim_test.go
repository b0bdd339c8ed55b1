package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/sim"
)

func run(t *testing.T, cfg *sim.Config) (string, sim.Summary) {
	t.Helper()
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := s.Run(context.Background(), sim.Options{Dir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete {
		t.Fatal("run incomplete")
	}
	var sum sim.Summary
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

func load(t *testing.T, name string, policy string) *sim.Config {
	t.Helper()
	cfg, err := sim.LoadConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		cfg.Allocator.Policy = policy
	}
	return cfg
}

func fwSummary(s sim.Summary, name string) sim.FrameworkSummary {
	for _, f := range s.Frameworks {
		if f.Name == name {
			return f
		}
	}
	return sim.FrameworkSummary{}
}

// Static vs shared, the seed story: on 9 hosts and three applications, one
// shared pool uses the cluster better than 3 hosts each, and both batch
// frameworks finish their jobs sooner.
func TestStaticVsShared(t *testing.T) {
	_, shared := run(t, load(t, "static-vs-shared", "drf"))
	_, static := run(t, load(t, "static-vs-shared", "static"))
	for _, res := range []string{"cpus", "mem"} {
		if shared.Cluster.Utilization[res] <= static.Cluster.Utilization[res] {
			t.Errorf("%s utilization: shared %.3f, static %.3f; want shared higher", res, shared.Cluster.Utilization[res], static.Cluster.Utilization[res])
		}
	}
	for _, fw := range []string{"hadoop", "spark"} {
		sh, st := fwSummary(shared, fw), fwSummary(static, fw)
		if sh.Completed != sh.Jobs || st.Completed != st.Jobs {
			t.Fatalf("%s: not every job completed: shared %d/%d, static %d/%d", fw, sh.Completed, sh.Jobs, st.Completed, st.Jobs)
		}
		if sh.Completion.Mean >= st.Completion.Mean {
			t.Errorf("%s mean completion: shared %.1fs, static %.1fs; want shared lower", fw, sh.Completion.Mean, st.Completion.Mean)
		}
		t.Logf("%s: mean completion shared %.1fs, static %.1fs", fw, sh.Completion.Mean, st.Completion.Mean)
	}
	t.Logf("cpu utilization: shared %.3f, static %.3f", shared.Cluster.Utilization["cpus"], static.Cluster.Utilization["cpus"])
}

// DRF under offers converges: frameworks with short tasks of <1 CPU, 4 GB>
// and <3 CPUs, 1 GB> on 9 CPUs and 18 GB hold 3 and 2 tasks on average
// once warm (dominant share 2/3 each). Tasks last 60 s on average, long
// next to the 1 s allocation interval, so a freed slot seldom idles; the
// average counts tasks running, sampled every 5 s after the first 1000 s.
func TestDRFConvergesUnderOffers(t *testing.T) {
	task := func(s string) sim.Resources { return sim.Resources{Resources: allocator.MustParseResources(s)} }
	zero := &sim.Decision{}
	cfg := &sim.Config{
		Seed:           3,
		Duration:       sim.Duration(20000 * time.Second),
		SampleInterval: sim.Duration(5 * time.Second),
		Allocator:      sim.AllocConfig{Policy: "drf"},
		Cluster:        []sim.Group{{Name: "node", Resources: task("cpus:9;mem:18432")}},
		Frameworks: []sim.FwConfig{
			{Name: "A", Role: "a", Kind: "batch", Decision: zero, Jobs: []sim.JobSpec{{Tasks: 5000, Task: task("cpus:1;mem:4096"), Duration: sim.Duration(60 * time.Second), Exponential: true}}},
			{Name: "B", Role: "b", Kind: "batch", Decision: zero, Jobs: []sim.JobSpec{{Tasks: 5000, Task: task("cpus:3;mem:1024"), Duration: sim.Duration(60 * time.Second), Exponential: true}}},
		},
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	dir, _ := run(t, cfg)
	sums, n := map[string]float64{}, 0.0
	for _, r := range testutil.ReadCSV(t, filepath.Join(dir, "timeseries.csv"))[1:] {
		ts, _ := strconv.ParseFloat(r[0], 64)
		if r[1] != "framework_used_share" || ts < 1000 {
			continue
		}
		v, _ := strconv.ParseFloat(r[3], 64)
		sums[r[2]] += v
		if r[2] == "A" {
			n++
		}
	}
	tasksA, tasksB := sums["A"]/n*18432/4096, sums["B"]/n*9/3
	if tasksA < 2.75 || tasksA > 3.25 || tasksB < 1.75 || tasksB > 2.25 {
		t.Fatalf("average tasks once warm: A %.2f, B %.2f; want 3 and 2", tasksA, tasksB)
	}
	t.Logf("average tasks once warm: A %.2f, B %.2f", tasksA, tasksB)
}

// The same config and seed give byte-identical result files, whatever
// GOMAXPROCS; the manifest differs only in its wall-clock fields.
func TestDeterministicOutputs(t *testing.T) {
	var dirs []string
	for _, procs := range []int{1, 2, 1} {
		prev := runtime.GOMAXPROCS(procs)
		dir, _ := run(t, load(t, "static-vs-shared", ""))
		runtime.GOMAXPROCS(prev)
		dirs = append(dirs, dir)
	}
	for _, f := range []string{"timeseries.csv", "jobs.csv", "frameworks.csv", "summary.json"} {
		first, _ := os.ReadFile(filepath.Join(dirs[0], f))
		if len(first) == 0 {
			t.Fatalf("%s is empty", f)
		}
		for _, d := range dirs[1:] {
			if other, _ := os.ReadFile(filepath.Join(d, f)); !bytes.Equal(first, other) {
				t.Errorf("%s differs between runs", f)
			}
		}
	}
	strip := func(dir string) map[string]any {
		var m map[string]any
		data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"wall_s", "events_per_wall_s", "simulated_s_per_wall_s"} {
			delete(m, k)
		}
		out, _ := json.Marshal(m)
		return map[string]any{"m": string(out)}
	}
	if a, b := strip(dirs[0]), strip(dirs[1]); a["m"] != b["m"] {
		t.Errorf("manifests differ beyond wall-clock fields:\n%s\n%s", a["m"], b["m"])
	}
}

func TestUnschedulableJobIsReportedAndRunEnds(t *testing.T) {
	cfg, err := sim.ParseConfig("big.yaml", strings.NewReader(`
cluster:
  - {name: node, count: 2, resources: "cpus:4;mem:4096"}
frameworks:
  - name: f
    role: r
    kind: batch
    jobs:
      - {tasks: 1, task: "cpus:8;mem:1024", duration: 10s}
      - {submit: 5s, tasks: 2, task: "cpus:1;mem:1024", duration: 10s}
  - name: g
    role: r2
    kind: gang
    jobs:
      - {tasks: 3, task: "cpus:4;mem:1024", duration: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir, sum := run(t, cfg)
	f, g := fwSummary(sum, "f"), fwSummary(sum, "g")
	if f.Jobs != 2 || f.Unschedulable != 1 || f.Completed != 1 || g.Unschedulable != 1 {
		t.Fatalf("f %+v, g %+v", f, g)
	}
	jobs, _ := os.ReadFile(filepath.Join(dir, "jobs.csv"))
	if !strings.Contains(string(jobs), "unschedulable") {
		t.Fatalf("jobs.csv does not mark the unschedulable jobs:\n%s", jobs)
	}
}

func TestEmptyWorkloadGivesEmptyValidResult(t *testing.T) {
	cfg, err := sim.ParseConfig("empty.yaml", strings.NewReader("cluster:\n  - {name: n, resources: \"cpus:1\"}\nframeworks:\n  - {name: f, role: r, kind: batch}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, sum := run(t, cfg)
	if f := fwSummary(sum, "f"); f.Jobs != 0 || f.Tasks != 0 || !sum.Complete {
		t.Fatalf("summary %+v", sum)
	}
}

// A bad config is an error naming the file, the line, the key as written
// and what is allowed, in the user's words: no Go type names.
func TestBadConfigs(t *testing.T) {
	const one = "cluster:\n  - {name: n, resources: \"cpus:1\"}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "cluster: []\ncolour: red\n", "bad.yaml:2: colour: unknown key; want one of name, seed, duration, sample_interval, task_failure, stall_after, allocator, master, cluster, machines, machine_events, frameworks, workload"},
		{"unknown nested key", "allocator:\n  policy: drf\n  polcy: drf\n", "bad.yaml:3: allocator.polcy: unknown key; want one of policy, allocation_interval, offer_timeout, default_refuse, roles, partitions, min_allocatable, reservations"},
		{"wrong type", "seed: many\n", `bad.yaml:1: seed: "many" is not a whole number of 0 or more`},
		{"count in words", "name: x\ncluster:\n  - name: host\n    resources: \"cpus:8\"\n    count: two\n", `bad.yaml:5: cluster[0].count: "two" is not a whole number`},
		{"bad duration", "duration: soon\n", `bad.yaml:1: duration: "soon" is not a duration; want a non-negative one such as 1s, 100ms or 2h`},
		{"nested duration", one + "frameworks:\n  - name: f\n    role: r\n    kind: batch\n    refuse: 5q\n", `bad.yaml:7: frameworks[0].refuse: "5q" is not a duration`},
		{"bad resources", "cluster:\n  - {name: n, resources: \"cpus:-1\"}\n", `bad.yaml:2: cluster[0].resources: "cpus:-1" is not a list of resources`},
		{"list for resources", "cluster:\n  - {name: n, resources: [cpus]}\n", `bad.yaml:2: cluster[0].resources: want a value such as resources such as "cpus:1;mem:1024", not a list`},
		{"map for a list", "cluster: {name: n}\n", `bad.yaml:1: cluster: a map is not a list; want a list such as [a map, ...]`},
		{"no cluster", "frameworks: []\n", "bad.yaml: cluster: no agents"},
		{"group without resources", "cluster:\n  - name: n\n    count: 2\n", "bad.yaml:2: cluster[0].resources: missing; want resources such as"},
		{"bad kind", one + "frameworks:\n  - {name: f, role: r, kind: mpi}\n", `bad.yaml:4: frameworks[0].kind: "mpi"; want batch, gang or service`},
		{"bad job", one + "frameworks:\n  - name: f\n    role: r\n    kind: batch\n    jobs:\n      - {tasks: 0, task: \"cpus:1\"}\n", `bad.yaml:8: frameworks[0].jobs[0].tasks: 0; want 1 or more`},
		{"bad policy", "allocator: {policy: fifo}\n" + one, `bad.yaml:1: allocator.policy: "fifo" is not a policy; want one of asset, ceei, drf, hdrf, hdrf-naive, random, static`},
		{"bad role weight", "allocator:\n  roles:\n    - {name: a, weight: -1}\n" + one, `bad.yaml:3: allocator.roles[0]: role "a": weight -1; want a positive number`},
		{"bad partition agent", "allocator:\n  policy: static\n  partitions:\n    - role: a\n      agents: [n, m]\n" + one, `bad.yaml:5: allocator.partitions[0].agents[1]: no agent or group named "m"`},
		{"bad backfill", one + "frameworks:\n  - {name: f, role: r, kind: gang, backfill: lifo}\n", `bad.yaml:4: frameworks[0].backfill: "lifo"; want none, easy or conservative`},
		{"backfill elastic", one + "frameworks:\n  - {name: f, role: r, kind: batch, backfill: easy}\n", `bad.yaml:4: frameworks[0].backfill: easy on a batch framework; backfilling orders rigid jobs: want kind gang`},
		{"workload backfill", one + "workload:\n  generator: facebook-hadoop\n  backfill: easy\n", `bad.yaml:5: workload.backfill: easy on a batch framework`},
		{"bad failure", "task_failure: 2\n" + one, "bad.yaml:1: task_failure: 2 is not a probability; want one from 0 to 1"},
		{"syntax error line", "name: x\nseed: 1\nduration: 1h\nsample_interval: 10s\nallocator: {policy: drf]\n", "bad.yaml:5:24: did not find expected ',' or '}'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sim.ParseConfig("bad.yaml", strings.NewReader(tc.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant    %s...", err, tc.want)
			}
			for _, goName := range []string{"sim.", "[]", "interface", "unmarshal", "!!"} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("err %q names Go's or YAML's types (%s)", err, goName)
				}
			}
		})
	}
}

func TestInterruptedRunIsMarkedIncomplete(t *testing.T) {
	s, err := sim.New(load(t, "static-vs-shared", ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	calls := 0
	res, err := s.Run(ctx, sim.Options{Dir: dir, Progress: func(sim.Progress) {
		if calls++; calls == 100 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Complete bool    `json:"complete"`
		Sim      float64 `json:"simulated_s"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if res.Complete || m.Complete || m.Sim < 99 || m.Sim > 102 {
		t.Fatalf("result %+v, manifest %+v; want incomplete at about 100s", res, m)
	}
}

// An agent that leaves loses its tasks: they are reported lost and the
// batch framework runs them again elsewhere, so every job still completes.
func TestAgentLeavesTasksLostAndRerun(t *testing.T) {
	cfg, err := sim.ParseConfig("churn.yaml", strings.NewReader(`
cluster:
  - {name: node, count: 3, resources: "cpus:4;mem:4096"}
machine_events:
  - {at: 30s, kind: remove, name: node-1}
  - {at: 60s, kind: add, name: spare, resources: "cpus:8;mem:8192"}
  - {at: 70s, kind: remove, name: ghost}
frameworks:
  - name: f
    role: r
    kind: batch
    jobs:
      - {tasks: 12, task: "cpus:1;mem:1024", duration: 100s}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir, sum := run(t, cfg)
	f := fwSummary(sum, "f")
	if f.Completed != 1 || f.Tasks != 16 {
		t.Fatalf("completed %d jobs with %d task launches; want 1 job, 12 tasks plus 4 re-run", f.Completed, f.Tasks)
	}
	if sum.Cluster.Agents != 3 || sum.Cluster.MachineEventErrors != 1 {
		t.Fatalf("cluster %+v; want 3 agents at the end and the removal of an unknown agent counted", sum.Cluster)
	}
	jobs := testutil.ReadCSV(t, filepath.Join(dir, "jobs.csv"))
	if end, _ := strconv.ParseFloat(jobs[1][4], 64); end < 130 {
		t.Fatalf("job ended at %vs; the lost tasks restart after 30s and run 100s", end)
	}
}

// Delay scheduling waits for an agent holding a task's data. The cluster is
// about 80% busy and each task's data is on one of 9 agents, so a slot freed
// by chance seldom holds the data of the next job's 3 tasks; waiting up to
// 5 s for one raises locality well above what taking any slot gets.
func TestDelaySchedulingRaisesLocality(t *testing.T) {
	rate := func(delay string) float64 {
		cfg, err := sim.ParseConfig("delay.yaml", strings.NewReader(`
seed: 5
cluster:
  - {name: node, count: 9, resources: "cpus:4;mem:8192"}
frameworks:
  - name: hadoop
    role: r
    kind: batch
    delay: `+delay+`
    replicas: 1
    jobs:
      - {count: 200, every: 2s, tasks: 3, task: "cpus:1;mem:1024", duration: 20s, exponential: true}
`))
		if err != nil {
			t.Fatal(err)
		}
		_, sum := run(t, cfg)
		f := fwSummary(sum, "hadoop")
		if f.LocalityTotal != 600 {
			t.Fatalf("delay %s: %d launches counted; want 600", delay, f.LocalityTotal)
		}
		return float64(f.LocalityHits) / float64(f.LocalityTotal)
	}
	with, without := rate("5s"), rate("1ns")
	if with < without+0.15 {
		t.Fatalf("locality %.2f with a 5s wait, %.2f with none; want the wait to raise it", with, without)
	}
	t.Logf("locality: %.2f with a 5s wait, %.2f with none", with, without)
}

// A generated workload grouped by user becomes one framework per user,
// each in its own sub-role of trace, created as its first job arrives.
func TestWorkloadGroupedByUser(t *testing.T) {
	cfg, err := sim.ParseConfig("gen.yaml", strings.NewReader(`
cluster:
  - {name: node, count: 20, resources: "cpus:16;mem:65536"}
workload:
  seed: 2
  group_by: user
  custom:
    jobs: 300
    interarrival: {kind: exp, mean: 2}
    tasks: {kind: lognormal, mu: 1, sigma: 1}
    duration: {kind: lognormal, mu: 3, sigma: 1}
    cpus: {kind: empirical, values: [0.5, 1, 2], weights: [1, 1, 1]}
    mem: {kind: const, mean: 512}
    users: 8
`))
	if err != nil {
		t.Fatal(err)
	}
	_, sum := run(t, cfg)
	jobs, completed := 0, 0
	for _, f := range sum.Frameworks {
		if !strings.HasPrefix(f.Role, "trace/u") || f.Name != f.Role[len("trace/"):] {
			t.Errorf("framework %s in role %s; want one per user in trace/<user>", f.Name, f.Role)
		}
		jobs += f.Jobs
		completed += f.Completed
	}
	if len(sum.Frameworks) < 3 || jobs != 300 || completed != 300 {
		t.Fatalf("%d frameworks, %d jobs, %d completed; want several users and all 300 jobs done", len(sum.Frameworks), jobs, completed)
	}
}

// The config in docs/simulation.md documents every key; it must parse and
// build.
func TestDocumentedConfigParses(t *testing.T) {
	doc, err := os.ReadFile("../docs/simulation.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "```yaml\n")
	end := strings.Index(text[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in docs/simulation.md")
	}
	cfg, err := sim.ParseConfig("docs/simulation.md", strings.NewReader(text[start+8:start+8+end]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.New(cfg); err != nil {
		t.Fatal(err)
	}
}

// A real trace replayed: 5% of the NASA iPSC/860 SWF log (gzipped), its
// jobs rigid (all processors at once) on the machine's 128 nodes, grouped
// into one framework per user.
func TestReplaySWFTrace(t *testing.T) {
	trace := testutil.Sample(t, "swf/NASA-iPSC-1993-3.1-cln.swf.gz")
	cfg, err := sim.ParseConfig("nasa.yaml", strings.NewReader(`
seed: 4
sample_interval: 1h
cluster:
  - {name: node, count: 128, resources: "cpus:1;mem:1024"}
workload:
  trace: [`+trace+`]
  scale: 0.05
  seed: 4
  kind: gang
  group_by: user
`))
	if err != nil {
		t.Fatal(err)
	}
	dir, sum := run(t, cfg)
	jobs := 0
	for _, f := range sum.Frameworks {
		jobs += f.Jobs
		if f.Completed+f.Unschedulable != f.Jobs {
			t.Errorf("%s: %d of %d jobs completed, %d unschedulable", f.Name, f.Completed, f.Jobs, f.Unschedulable)
		}
	}
	// 5% of the 18,066 usable jobs, give or take the sample's luck.
	if jobs < 800 || jobs > 1000 || len(sum.Frameworks) < 2 {
		t.Fatalf("%d jobs in %d frameworks; want about 900 in one per user", jobs, len(sum.Frameworks))
	}
	var m struct {
		Skipped int64 `json:"trace_skipped_lines"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err := json.Unmarshal(data, &m); err != nil || m.Skipped != 0 {
		t.Fatalf("manifest skipped lines %d (%v)", m.Skipped, err)
	}
}

// The last job of a workload arriving when its framework is idle runs: the
// allocation cycle at the same time, between its arrival and its hand-over
// to the framework, does not end the run.
func TestWorkloadLastJobArrivesAtIdleFramework(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log.swf")
	if err := os.WriteFile(log, []byte("; MaxProcs: 2\n1 0 -1 10 1 -1 -1 1 10 -1 1 1 1 -1 -1 -1 -1 -1\n2 100 -1 10 1 -1 -1 1 10 -1 1 1 1 -1 -1 -1 -1 -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"batch", "gang"} {
		cfg, err := sim.ParseConfig("idle.yaml", strings.NewReader("machines: {trace: ["+log+"]}\nworkload: {trace: ["+log+"], kind: "+kind+"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, sum := run(t, cfg)
		if f := sum.Frameworks[0]; f.Jobs != 2 || f.Completed != 2 {
			t.Errorf("%s: %d jobs, %d completed; want both", kind, f.Jobs, f.Completed)
		}
	}
}
