package playground_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
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

func TestBadScenarios(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "agents:\n  - name: a\n    resources: cpus:1\n    colour: red\n", "line 4: field colour not found"},
		{"bad resources", "agents:\n  - name: a\n    resources: cpus:x\n", `line 3: resources "cpus:x": token 1 "cpus:x"`},
		{"bad tasks", "agents:\n  - name: a\n    resources: cpus:1\nframeworks:\n  - name: f\n    role: r\n    task: cpus:1\n    tasks: lots\n", `line 8: tasks "lots": want a whole number`},
		{"no agents", "frameworks: []\n", "agents: none given"},
		{"no task", "agents:\n  - name: a\n    resources: cpus:1\nframeworks:\n  - name: f\n    role: r\n", "line 5: framework f: no task"},
		{"wrong type", "agents: 3\n", "cannot unmarshal"},
		{"reservation too big", "agents:\n  - name: a\n    resources: cpus:1\nreservations:\n  - agent: a\n    role: r\n    resources: cpus:2\nframeworks:\n  - name: f\n    role: r\n    task: cpus:1\n", "line 5: reservation: agent a has cpus:1 unreserved, less than cpus:2"},
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
