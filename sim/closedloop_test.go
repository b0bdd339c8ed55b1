package sim_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/sim"
)

// jobTimes are a job's times from jobs.csv, in seconds, and its status.
// A job dropped as unschedulable ends when it is submitted.
type jobTimes struct {
	submit, start, end float64
	status             string
}

func readJobs(t *testing.T, dir string) map[string]jobTimes {
	t.Helper()
	out := map[string]jobTimes{}
	for _, r := range testutil.ReadCSV(t, filepath.Join(dir, "jobs.csv"))[1:] {
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		j := jobTimes{f(r[2]), f(r[3]), f(r[4]), r[10]}
		if j.status == "unschedulable" {
			j.end = j.submit
		}
		out[r[1]] = j
	}
	return out
}

func parse(t *testing.T, yaml string) *sim.Config {
	t.Helper()
	cfg, err := sim.ParseConfig("closed.yaml", strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const closedCluster = "cluster:\n  - {name: n, count: 2, resources: \"cpus:4;mem:8192\"}\n"

// A closed-loop job is submitted its think time after the job it follows
// ends: a chain runs its jobs one after another, after follows the last
// job of an earlier entry, and a job without a predecessor keeps its
// submit time.
func TestClosedLoopSubmitTimes(t *testing.T) {
	for _, tc := range []struct {
		name, jobs string
		follows    map[string]string // job -> the job it follows
		think      float64           // seconds; -1: drawn, so only at least the end
		open       map[string]float64
	}{
		{"chain back to back", "{count: 3, chain: true, tasks: 6, task: \"cpus:1;mem:1024\", duration: 20s}",
			map[string]string{"f-0-1": "f-0-0", "f-0-2": "f-0-1"}, 0, map[string]float64{"f-0-0": 0}},
		{"chain with a think time", "{count: 3, submit: 10s, chain: true, think: 2m, tasks: 2, task: \"cpus:1;mem:1024\", duration: 20s, exponential: true}",
			map[string]string{"f-0-1": "f-0-0", "f-0-2": "f-0-1"}, 120, map[string]float64{"f-0-0": 10}},
		{"after an earlier entry", "{count: 2, every: 5s, tasks: 4, task: \"cpus:1;mem:1024\", duration: 30s}\n      - {after: 0, think: 7s, tasks: 1, task: \"cpus:1;mem:1024\", duration: 5s}",
			map[string]string{"f-1-0": "f-0-1"}, 7, map[string]float64{"f-0-0": 0, "f-0-1": 5}},
		{"after and chain", "{tasks: 4, task: \"cpus:1;mem:1024\", duration: 30s}\n      - {after: 0, chain: true, count: 2, think: 1s, tasks: 1, task: \"cpus:1;mem:1024\", duration: 5s}",
			map[string]string{"f-1-0": "f-0-0", "f-1-1": "f-1-0"}, 1, map[string]float64{"f-0-0": 0}},
		{"drawn think times", "{count: 4, chain: true, think_dist: {kind: exp, mean: 60}, tasks: 2, task: \"cpus:1;mem:1024\", duration: 10s}",
			map[string]string{"f-0-1": "f-0-0", "f-0-2": "f-0-1", "f-0-3": "f-0-2"}, -1, map[string]float64{"f-0-0": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, sum := run(t, parse(t, closedCluster+"frameworks:\n  - name: f\n    role: r\n    kind: batch\n    jobs:\n      - "+tc.jobs+"\n"))
			jobs := readJobs(t, dir)
			if f := fwSummary(sum, "f"); f.Completed != len(jobs) || len(jobs) != len(tc.follows)+len(tc.open) {
				t.Fatalf("%d jobs in jobs.csv, %d completed; want %d", len(jobs), f.Completed, len(tc.follows)+len(tc.open))
			}
			for id, at := range tc.open {
				if jobs[id].submit != at {
					t.Errorf("%s submitted at %vs; want %vs", id, jobs[id].submit, at)
				}
			}
			for id, prev := range tc.follows {
				j, p := jobs[id], jobs[prev]
				switch {
				case tc.think < 0 && j.submit < p.end:
					t.Errorf("%s submitted at %vs, before %s ended at %vs", id, j.submit, prev, p.end)
				case tc.think >= 0 && math.Abs(j.submit-(p.end+tc.think)) > 1e-6:
					t.Errorf("%s submitted at %vs; want %s's end %vs + %vs", id, j.submit, prev, p.end, tc.think)
				}
			}
		})
	}
}

// A closed-loop workload gives the same files for the same seed.
func TestClosedLoopDeterministic(t *testing.T) {
	yaml := closedCluster + `frameworks:
  - {name: f, role: r, kind: batch, jobs: [{count: 5, chain: true, think_dist: {kind: exp, mean: 30}, tasks: 6, task: "cpus:1;mem:1024", duration: 20s, exponential: true}]}
  - {name: g, role: g, kind: gang, jobs: [{count: 3, every: 40s, tasks: 4, task: "cpus:1;mem:1024", duration: 50s}, {after: 0, think: 10s, tasks: 8, task: "cpus:1;mem:1024", duration: 30s}]}
workload: {custom: {jobs: 12, chain: 4, interarrival: {kind: exp, mean: 20}, think: {kind: exp, mean: 15}, tasks: {kind: const, mean: 3}, duration: {kind: exp, mean: 20}, cpus: {mean: 1}, mem: {mean: 512}}, role: w}
`
	var first []byte
	for range 2 {
		dir, _ := run(t, parse(t, yaml))
		data, err := os.ReadFile(filepath.Join(dir, "jobs.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if first != nil && !bytes.Equal(first, data) {
			t.Fatal("jobs.csv differs between two runs of the same seed")
		}
		first = data
	}
}

// A generated closed-loop workload: chains of jobs, each job after the
// first of its chain submitted its think time after the previous one ends.
func TestGeneratedChains(t *testing.T) {
	dir, sum := run(t, parse(t, closedCluster+`workload:
  custom: {jobs: 7, chain: 3, interarrival: {kind: const, mean: 100}, think: {kind: const, mean: 4}, tasks: {kind: const, mean: 2}, duration: {kind: const, mean: 10}, cpus: {mean: 1}, mem: {mean: 512}}
`))
	jobs := readJobs(t, dir)
	if f := fwSummary(sum, "trace"); f.Completed != 7 {
		t.Fatalf("%d of 7 jobs completed", f.Completed)
	}
	for k := 1; k <= 7; k++ {
		j, p := jobs[fmt.Sprintf("j%d", k)], jobs[fmt.Sprintf("j%d", k-1)]
		want := 100 * float64((k-1)/3) // chain starts: j1, j4, j7, 100 s apart
		if (k-1)%3 != 0 {
			want = p.end + 4
		}
		if math.Abs(j.submit-want) > 1e-6 {
			t.Errorf("j%d submitted at %vs; want %vs", k, j.submit, want)
		}
	}
}

// A closed-loop job never starts before the job it follows has ended and
// its think time passed, whatever the frameworks, chains and cluster; and
// every job of a finished run completes.
func TestClosedLoopNeverStartsEarly(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		type entry struct {
			count, after int // after: -1 for none
			chain        bool
			think        int // seconds
		}
		var b strings.Builder
		fmt.Fprintf(&b, "seed: %d\ncluster:\n  - {name: n, count: %d, resources: \"cpus:4;mem:8192\"}\nframeworks:\n",
			rapid.Uint64Range(1, 1000).Draw(rt, "seed"), rapid.IntRange(1, 3).Draw(rt, "agents"))
		follows := map[string]string{}
		thinks := map[string]float64{}
		for f := range rapid.IntRange(1, 2).Draw(rt, "frameworks") {
			kind := rapid.SampledFrom([]string{"batch", "gang"}).Draw(rt, "kind")
			fmt.Fprintf(&b, "  - name: f%d\n    role: r%d\n    kind: %s\n    jobs:\n", f, f, kind)
			var entries []entry
			for i := range rapid.IntRange(1, 3).Draw(rt, "entries") {
				e := entry{count: rapid.IntRange(1, 4).Draw(rt, "count"), after: -1, chain: rapid.Bool().Draw(rt, "chain"), think: rapid.IntRange(0, 60).Draw(rt, "think")}
				if i > 0 && rapid.Bool().Draw(rt, "follows") {
					e.after = rapid.IntRange(0, i-1).Draw(rt, "after")
				}
				entries = append(entries, e)
				fmt.Fprintf(&b, "      - {count: %d, tasks: %d, task: \"cpus:1;mem:1024\", duration: %ds, exponential: true",
					e.count, rapid.IntRange(1, 6).Draw(rt, "tasks"), rapid.IntRange(1, 90).Draw(rt, "duration"))
				if e.chain || e.after >= 0 {
					fmt.Fprintf(&b, ", think: %ds", e.think)
				}
				switch {
				case e.chain:
					b.WriteString(", chain: true")
				case e.after < 0:
					fmt.Fprintf(&b, ", every: %ds", rapid.IntRange(0, 60).Draw(rt, "every"))
				}
				if e.after >= 0 {
					fmt.Fprintf(&b, ", after: %d", e.after)
				}
				b.WriteString("}\n")
				for k := range e.count {
					id, prev := fmt.Sprintf("f%d-%d-%d", f, i, k), ""
					switch {
					case e.chain && k > 0:
						prev = fmt.Sprintf("f%d-%d-%d", f, i, k-1)
					case e.after >= 0:
						prev = fmt.Sprintf("f%d-%d-%d", f, e.after, entries[e.after].count-1)
					}
					if prev != "" {
						follows[id], thinks[id] = prev, float64(e.think)
					}
				}
			}
		}
		cfg, err := sim.ParseConfig("prop.yaml", strings.NewReader(b.String()))
		if err != nil {
			rt.Fatalf("%v\n%s", err, b.String())
		}
		dir, _ := run(t, cfg)
		jobs := readJobs(t, dir)
		// waits says whether a job's predecessor, or one before it, never
		// ended (a gang deadlocked behind another framework's held offers
		// and the run stalled): then the job never arrives.
		var waits func(id string) bool
		waits = func(id string) bool {
			prev, ok := follows[id]
			p, pok := jobs[prev]
			return ok && (pok && p.status == "incomplete" || !pok && waits(prev))
		}
		for id, prev := range follows {
			j, ok := jobs[id]
			p := jobs[prev]
			switch {
			case !ok && !waits(id):
				rt.Fatalf("%s missing from jobs.csv, though %s ended\n%s", id, prev, b.String())
			case !ok || p.status == "incomplete":
				continue
			case j.submit < p.end+thinks[id]-1e-9 || j.status == "completed" && j.start < j.submit:
				rt.Fatalf("%s submitted at %vs, started at %vs; %s ended at %vs, think %vs\n%s", id, j.submit, j.start, prev, p.end, thinks[id], b.String())
			}
		}
	})
}

// Wrong closed-loop keys are errors at their file, line and key.
func TestClosedLoopBadConfigs(t *testing.T) {
	for _, tc := range []struct{ name, jobs, want string }{
		{"chain with every", "{count: 2, chain: true, every: 10s, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].every: 10s with chain or after"},
		{"after itself", "{after: 0, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].after: 0 in the first entry of jobs"},
		{"after and submit", "{tasks: 1, task: \"cpus:1\"}\n      - {after: 0, submit: 5s, tasks: 1, task: \"cpus:1\"}", "closed.yaml:9: frameworks[0].jobs[1].submit: 5s with after"},
		{"think alone", "{think: 5s, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].think: without chain or after"},
		{"two think times", "{chain: true, think: 5s, think_dist: {kind: exp, mean: 3}, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].think_dist: given with think"},
		{"bad distribution", "{chain: true, think_dist: {kind: exp}, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].think_dist: exp: mean 0; want a positive mean"},
		{"unknown key", "{chain: true, thnik: 5s, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].thnik: unknown key; want one of"},
		{"chain in words", "{chain: yes please, tasks: 1, task: \"cpus:1\"}", "closed.yaml:8: frameworks[0].jobs[0].chain:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sim.ParseConfig("closed.yaml", strings.NewReader(closedCluster+"frameworks:\n  - name: f\n    role: r\n    kind: batch\n    jobs:\n      - "+tc.jobs+"\n"))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant    %s...", err, tc.want)
			}
		})
	}
}

// A framework's setup delays every job's first task by that long after
// its arrival, and counts in its wait and completion; chained jobs follow
// the end of the previous one, setup included.
func TestJobSetup(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		setup      float64
	}{{"batch without setup", "batch", 0}, {"batch", "batch", 19.2}, {"gang", "gang", 7}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := run(t, parse(t, closedCluster+fmt.Sprintf(`frameworks:
  - name: f
    role: r
    kind: %s
    setup: %vs
    decision: {job: 0s, task: 0s}
    jobs: [{count: 3, chain: true, think: 5s, tasks: 4, task: "cpus:1;mem:1024", duration: 10s}]
`, tc.kind, tc.setup)))
			jobs := readJobs(t, dir)
			for k := range 3 {
				j := jobs[fmt.Sprintf("f-0-%d", k)]
				if j.start < j.submit+tc.setup || j.start > j.submit+tc.setup+1 {
					t.Errorf("job %d submitted at %vs started at %vs; want after its %vs setup, within the 1s cycle", k, j.submit, j.start, tc.setup)
				}
				if k > 0 && math.Abs(j.submit-(jobs[fmt.Sprintf("f-0-%d", k-1)].end+5)) > 1e-6 {
					t.Errorf("job %d submitted at %vs; want 5s after the previous one's end", k, j.submit)
				}
			}
		})
	}
}
