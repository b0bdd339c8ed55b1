package playground_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator/playground"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func run(t *testing.T, name, policy string) *playground.Result {
	t.Helper()
	s, err := playground.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := playground.Run(s, policy)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tasks(r *playground.Result) map[string]int {
	m := map[string]int{}
	for _, f := range r.Frameworks {
		m[f.Name] = f.Tasks
	}
	return m
}

func TestBundledScenarios(t *testing.T) {
	for _, tc := range []struct {
		scenario, policy string
		want             map[string]int
	}{
		{"drf-paper", "", map[string]int{"A": 3, "B": 2}},
		{"drf-paper", "asset", map[string]int{"A": 3, "B": 2}},
		{"weights", "", map[string]int{"L": 2, "H": 4}},
		{"hierarchy", "", map[string]int{"ml": 2, "web": 2, "ops": 4}},
		{"hierarchy", "drf", map[string]int{"ml": 3, "web": 3, "ops": 2}},
		// 3 hosts of 8 CPUs each: hadoop 12 tasks of 2 CPUs, spark 6 of 4
		// CPUs (memory-bound at 16 GB a host: 2 a host), rails its 4.
		{"static-vs-shared", "", map[string]int{"hadoop": 12, "spark": 6, "rails": 4}},
		// prod gets its guarantee (4 tasks) first, dev stops at its limit, and
		// prod and batch then split the rest at equal dominant share 12/32.
		{"quota", "", map[string]int{"prod": 6, "dev": 4, "batch": 6, "analytics": 2}},
	} {
		t.Run(tc.scenario+"/"+tc.policy, func(t *testing.T) {
			got := tasks(run(t, tc.scenario, tc.policy))
			for name, n := range tc.want {
				if got[name] != n {
					t.Errorf("%s: %d tasks; want %d (all: %v)", name, got[name], n, got)
				}
			}
		})
	}
}

// The golden files hold the exact text and JSON output of the bundled DRF
// example; go test ./allocator/playground -update rewrites them.
func TestGoldenOutput(t *testing.T) {
	r := run(t, "drf-paper", "")
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "drf-paper.txt", text.Bytes())
	golden(t, "drf-paper.json", js.Bytes())
	var decoded struct {
		Frameworks []struct {
			Name          string             `json:"name"`
			Tasks         int                `json:"tasks"`
			Allocated     map[string]float64 `json:"allocated"`
			DominantShare float64            `json:"dominant_share"`
		} `json:"frameworks"`
		Picks []string `json:"picks"`
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	if a := decoded.Frameworks[0]; a.Name != "A" || a.Tasks != 3 || a.Allocated["cpus"] != 3 || a.Allocated["mem"] != 12288 {
		t.Errorf("JSON A = %+v", a)
	}
	if got := strings.Join(decoded.Picks, ""); got != "ABABA" {
		t.Errorf("picks %s; want ABABA", got)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

const oneAgent = "agents:\n  - name: a\n    resources: cpus:1\n"
const oneFramework = "frameworks:\n  - name: f\n    role: r\n    task: cpus:1\n    tasks: 1\n"

// Decoding is strict: every mistake names the file, the line, the key as
// written and what is allowed.
func TestBadScenarios(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "agents:\n  - name: a\n    resources: cpus:1\n    colour: red\n", "bad.yaml:4: agents[0].colour: unknown key; want one of name, count, resources"},
		{"unknown top key", oneAgent + oneFramework + "polcy: drf\n", "bad.yaml:9: polcy: unknown key; want one of policy, seed, agents, roles, frameworks, reservations, partitions, events"},
		{"bad resources", "agents:\n  - name: a\n    resources: cpus:x\n", `bad.yaml:3: agents[0].resources: "cpus:x" is not a list of resources (resources "cpus:x": token 1 "cpus:x"`},
		{"bad tasks", oneAgent + "frameworks:\n  - name: f\n    role: r\n    task: cpus:1\n    tasks: lots\n", `bad.yaml:8: frameworks[0].tasks: "lots" is not a number of tasks; want a whole number of 0 or more, or unlimited`},
		{"no agents", "frameworks: []\n", "bad.yaml: agents: none given; a scenario needs at least one agent"},
		{"no task", oneAgent + "frameworks:\n  - name: f\n    role: r\n", "bad.yaml:5: frameworks[0]: framework f: no task"},
		{"wrong type", "agents: 3\n", "bad.yaml:1: agents: 3 is not a list"},
		{"syntax", "agents: [\n", "bad.yaml:2:1: did not find expected node content"},
		{"reservation too big", oneAgent + "reservations:\n  - agent: a\n    role: r\n    resources: cpus:2\n" + oneFramework, "line 5: reservation: agent a has cpus:1 unreserved, less than cpus:2"},
		{"unknown event key", oneAgent + oneFramework + "events:\n  - {at: 1s, end_tsk: f}\n", "bad.yaml:10: events[0].end_tsk: unknown key; want one of at, end_task, count, end_framework, add_agent, remove_agent, set_weight"},
		{"two kinds", oneAgent + oneFramework + "events:\n  - {at: 1s, end_task: f, remove_agent: a}\n", "bad.yaml:10: events[0]: 2 kinds of event; want exactly one of end_task, end_framework, add_agent, remove_agent or set_weight"},
		{"no kind", oneAgent + oneFramework + "events:\n  - {at: 1s}\n", "bad.yaml:10: events[0]: 0 kinds of event"},
		{"negative time", oneAgent + oneFramework + "events:\n  - {at: -1s, end_task: f}\n", `bad.yaml:10: events[0].at: "-1s" is not a duration; want a non-negative one`},
		{"unknown framework", oneAgent + oneFramework + "events:\n  - {at: 1s, end_task: g}\n", `bad.yaml:10: events[0].end_task: "g" is no framework of the scenario`},
		{"count without end_task", oneAgent + oneFramework + "events:\n  - {at: 1s, end_framework: f, count: 2}\n", "bad.yaml:10: events[0].count: 2; want 1 or more tasks ending, with end_task"},
		{"bad weight", oneAgent + oneFramework + "events:\n  - {at: 1s, set_weight: {role: r, weight: 0}}\n", "bad.yaml:10: events[0].set_weight.weight: 0; want a positive number"},
		{"agent without resources", oneAgent + oneFramework + "events:\n  - {at: 1s, add_agent: {name: b}}\n", "bad.yaml:10: events[0].add_agent.resources: missing"},
		{"too many tasks end", oneAgent + oneFramework + "events:\n  - {at: 1s, end_task: f, count: 2}\n", "line 10: at 1s: framework f runs 1 task; 2 cannot end"},
		{"unknown agent", oneAgent + oneFramework + "events:\n  - {at: 1s, remove_agent: b}\n", `line 10: at 1s: no agent or agent group "b" is in the cluster`},
		{"ended twice", oneAgent + oneFramework + "events:\n  - {at: 1s, end_framework: f}\n  - {at: 2s, end_framework: f}\n", "line 11: at 2s: framework f has ended already"},
		{"agent added twice", oneAgent + oneFramework + "events:\n  - {at: 1s, add_agent: {name: a, resources: cpus:1}}\n", `line 10: at 1s: add agent "a": already added`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := playground.Parse("bad.yaml", strings.NewReader(tc.yaml))
			if err == nil {
				_, err = playground.Run(s, "")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestUnknownPolicy(t *testing.T) {
	s, err := playground.Load("drf-paper")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := playground.Run(s, "fair"); err == nil || !strings.Contains(err.Error(), "known policies: asset, ceei, drf, hdrf, hdrf-naive, random, static") {
		t.Fatalf("err = %v", err)
	}
}

// The H-DRF paper's starvation example (scenarios/hdrf-starvation.yaml):
// after the first filling (n11 10 tasks, n12 20, n21 20), one of n11's
// tasks ends every second. Naive H-DRF gives the freed GB to n21 and the
// freed CPU to n12 every time, and n11 starves; H-DRF gives n11 its task
// back every time. The text and JSON outputs are golden files, and two
// runs write the same bytes.
func TestHDRFStarvationGolden(t *testing.T) {
	for _, tc := range []struct {
		policy        string
		n11, n12, n21 int
		after         string // the picks after each task end
	}{
		{"hdrf", 10, 20, 20, "n11"},
		{"hdrf-naive", 0, 30, 30, "n21 n12"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			r := run(t, "hdrf-starvation", tc.policy)
			if got := tasks(r); got["n11"] != tc.n11 || got["n12"] != tc.n12 || got["n21"] != tc.n21 {
				t.Errorf("tasks at the end %v; want n11 %d, n12 %d, n21 %d", got, tc.n11, tc.n12, tc.n21)
			}
			if len(r.Timeline) != 10 {
				t.Fatalf("%d times with events; want 10", len(r.Timeline))
			}
			for _, s := range r.Timeline {
				if got := strings.Join(s.Picks, " "); got != tc.after || s.Events[0] != "n11 ends 1 task" {
					t.Errorf("at %s: %v, picks %s; want n11 ends 1 task, picks %s", s.At, s.Events, got, tc.after)
				}
			}
			text, js := outputs(t, r)
			golden(t, "hdrf-starvation-"+tc.policy+".txt", text)
			golden(t, "hdrf-starvation-"+tc.policy+".json", js)
			again, againJS := outputs(t, run(t, "hdrf-starvation", tc.policy))
			if !bytes.Equal(text, again) || !bytes.Equal(js, againJS) {
				t.Error("two runs wrote different outputs")
			}
		})
	}
}

func outputs(t *testing.T, r *playground.Result) (text, js []byte) {
	t.Helper()
	var tb, jb bytes.Buffer
	if err := r.WriteText(&tb); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	return tb.Bytes(), jb.Bytes()
}

// Every kind of event, on the weights example (6 agents of 4 CPUs; light
// of weight 1, heavy of weight 2; H wants 5 tasks). The first filling:
// H (tie at 0, then the smaller name), L, H, L (tie at 1/6, L has fewer
// allocations), H, H. At 1s heavy's weight becomes 1: nothing is free, no
// pick. At 2s H's two oldest tasks end (node-1, node-3): L and H tie at
// 2/6 and L has fewer allocations: L on node-1, then H its fifth and last
// task on node-3. At 3s two agents join: only L wants more and takes both.
// At 4s node-1 and node-2 leave with a task of L's each; L wants them
// again but nothing is free. At 5s L ends; H wants nothing more. H ends
// with 3 tasks on the 6 agents left.
func TestEvents(t *testing.T) {
	const yaml = `policy: drf
agents:
  - {name: node, count: 6, resources: "cpus:4;mem:4096"}
roles:
  - {name: light, weight: 1}
  - {name: heavy, weight: 2}
frameworks:
  - {name: L, role: light, task: "cpus:4;mem:4096", tasks: unlimited}
  - {name: H, role: heavy, task: "cpus:4;mem:4096", tasks: 5}
events:
  - {at: 4s, remove_agent: node-1}
  - {at: 1s, set_weight: {role: heavy, weight: 1}}
  - {at: 2s, end_task: H, count: 2}
  - {at: 3s, add_agent: {name: big, count: 2, resources: "cpus:4;mem:4096"}}
  - {at: 4s, remove_agent: node-2}
  - {at: 5s, end_framework: L}
`
	s, err := playground.Parse("events.yaml", strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := playground.Run(s, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, step := range r.Timeline {
		got = append(got, step.At+": "+strings.Join(step.Events, "; ")+" -> "+strings.Join(step.Picks, " "))
	}
	want := []string{
		"1s: role heavy's weight becomes 1 -> ",
		"2s: H ends 2 tasks -> L H",
		"3s: agents big-1 big-2 added with cpus:4;mem:4096 -> L L",
		"4s: agent node-1 removed, 1 task lost; agent node-2 removed, 1 task lost -> ",
		"5s: L ends -> ",
	}
	if strings.Join(r.Picks, "") != "HLHLHH" || !slices.Equal(got, want) {
		t.Errorf("picks %v, timeline\n%s\nwant HLHLHH and\n%s", r.Picks, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := tasks(r); n["L"] != 0 || n["H"] != 3 || r.Agents != 6 || r.Total["cpus"] != 24 {
		t.Errorf("at the end: tasks %v, %d agents, total %v; want L 0, H 3 on 6 agents of 24 CPUs", n, r.Agents, r.Total)
	}
}

// The scenario documented in docs/playground.md is valid and runs: its
// trainer's first task takes the 2 CPUs reserved for eng on node-1 (eng's
// reservation reaches eng/ml), four more the 8 unreserved CPUs eng/ml's
// limit allows; the task that ends at 1s (the first, with the reserved
// CPUs) is placed again.
func TestDocumentedScenario(t *testing.T) {
	doc, err := os.ReadFile("../../docs/playground.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	text, _, found := strings.Cut(rest, "```")
	if !found {
		t.Fatal("docs/playground.md has no yaml block")
	}
	s, err := playground.Parse("playground.md", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	r, err := playground.Run(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Picks) != 5 || len(r.Timeline) != 1 || strings.Join(r.Timeline[0].Picks, " ") != "trainer" || r.Frameworks[0].Allocated["cpus"] != 10 {
		t.Errorf("picks %v, timeline %+v, holding %v; want 5 picks, then trainer once at 1s, 10 CPUs", r.Picks, r.Timeline, r.Frameworks[0].Allocated)
	}
}
