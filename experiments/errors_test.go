package experiments_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/experiments"
)

// loadErr loads a study written to dir/name and expands its runs; the
// error, with dir taken off the file's name.
func loadErr(t *testing.T, name, text string, sets ...string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"base.yaml": badBase, "bad-syntax.yaml": "cluster: []\nseed: 1: 2\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := experiments.Load(p, sets)
	if err == nil {
		_, err = s.Runs()
	}
	if err == nil {
		t.Fatalf("%s loaded and expanded without an error", name)
	}
	return strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
}

const badBase = `cluster:
  - {name: host, count: 2, resources: "cpus:4;mem:8192"}
frameworks:
  - name: f
    role: f
    kind: bach
`

// Every mistake in a study is reported at the file and line where it is
// written (for sim: keys, the study's line, not the generated config's),
// with the key as written, the value and what is allowed; never Go's type
// names or mapstructure's or YAML's internals.
func TestStudyErrorsSayFileLineKeyAndWhatIsAllowed(t *testing.T) {
	const head = "name: kth\nbase: static-vs-shared\n"
	for _, c := range []struct {
		name, file, text string
		sets             []string
		want             string
	}{
		{"syntax error on line 5", "kth.yaml", head + "policies: [drf]\nseeds: 2\nsim: {seed: [1, 2}\n", nil,
			"kth.yaml:5:18: did not find expected ',' or ']'"},
		{"tab on line 5", "kth.yaml", head + "policies: [drf]\nseeds: 2\n\tsim: {}\n", nil,
			"kth.yaml:5:1: found a tab character that violates indentation (while scanning a plain scalar on line 4)"},
		{"type of a sim key", "kth.yaml", head + "sim:\n  cluster:\n    - name: host\n      resources: \"cpus:8\"\n      count: two\n", nil,
			`kth.yaml:7: sim.cluster[0].count: "two" is not a whole number`},
		{"unknown sim key", "kth.yaml", head + "sim:\n  allocator:\n    polcy: drf\n", nil,
			"kth.yaml:5: sim.allocator.polcy: unknown key; want one of policy, allocation_interval, offer_timeout, default_refuse, roles, partitions, min_allocatable, reservations"},
		{"sim duration", "kth.yaml", head + "sim:\n  frameworks:\n    - {name: a, role: a, kind: batch}\n    - name: b\n      role: b\n      kind: batch\n      refuse: 5q\n", nil,
			`kth.yaml:9: sim.frameworks[1].refuse: "5q" is not a duration; want a non-negative one such as 1s, 100ms or 2h`},
		{"missing sim key", "kth.yaml", head + "sim:\n  frameworks:\n    - name: a\n      kind: batch\n", nil,
			"kth.yaml:5: sim.frameworks[0].role: missing; a framework needs a name and a role"},
		{"bad sim value", "kth.yaml", head + "sim: {allocator: {policy: nosuch}}\n", nil,
			`kth.yaml:3: sim.allocator.policy: "nosuch" is not a policy; want one of asset, ceei, drf, hdrf, hdrf-naive, random, static`},
		{"error in the base file", "kth.yaml", "name: kth\nbase: base.yaml\n", nil,
			`base.yaml:6: frameworks[0].kind: "bach"; want batch, gang or service`},
		{"syntax error in the base file", "kth.yaml", "name: kth\nbase: bad-syntax.yaml\n", nil, "bad-syntax.yaml:2:8: mapping values are not allowed in this context"},
		{"base file overridden", "kth.yaml", "name: kth\nbase: base.yaml\nsim:\n  frameworks:\n    - {name: g, role: g, kind: gang, delay: never}\n", nil,
			`kth.yaml:5: sim.frameworks[0].delay: "never" is not a duration; want a non-negative one such as 1s, 100ms or 2h`},
		{"sweep value", "kth.yaml", head + "sweep:\n  allocator.allocation_interval: [1s, 5x]\n", nil,
			`kth.yaml:4: sweep.allocator.allocation_interval: "5x" is not a duration; want a non-negative one such as 1s, 100ms or 2h`},
		{"sweep names no element", "kth.yaml", head + "sweep: {frameworks.nosuch.refuse: [1s]}\n", nil,
			`kth.yaml:3: sweep.frameworks.nosuch.refuse: no element named "nosuch"; have [hadoop spark rails]`},
		{"sweep not a list", "kth.yaml", head + "sweep:\n  seed: 3\n", nil, "kth.yaml:4: sweep.seed: 3 is not a list; want a list of values such as [1s, 5s]"},
		{"policy by name", "kth.yaml", head + "policies:\n  - drf\n  - fifo\n", nil,
			`kth.yaml:5: policies[1]: "fifo" is not a policy; want one of asset, ceei, drf, hdrf, hdrf-naive, random, static`},
		{"policy set", "kth.yaml", head + "policies:\n  - name: quick\n    set:\n      allocator.offer_timeout: soon\n", nil,
			`kth.yaml:6: policies[0].set.allocator.offer_timeout: "soon" is not a duration; want a non-negative one such as 1s, 100ms or 2h`},
		{"unknown policy key", "kth.yaml", head + "policies:\n  - {nam: x}\n", nil, "kth.yaml:4: policies[0].nam: unknown key; want one of name, set"},
		{"unknown study key", "kth.yaml", head + "frobnicate: 1\n", nil,
			"kth.yaml:3: frobnicate: unknown key; want one of name, description, base, sim, policies, baseline, sweep, seeds, backends, figures, formats, paper"},
		{"seed in words", "kth.yaml", head + "seeds: [1, two]\n", nil, `kth.yaml:3: seeds[1]: "two" is not a whole number of 0 or more`},
		{"no seeds", "kth.yaml", head + "seeds: 0\n", nil, "kth.yaml:3: seeds: 0; want a count from 1 to 1000000, or a list of seeds"},
		{"name a list", "kth.yaml", "name: [a]\nbase: static-vs-shared\n", nil, "kth.yaml:1: name: want a text, not a list"},
		{"no name", "kth.yaml", "base: static-vs-shared\n", nil, "kth.yaml: name: empty; want the study's name (its results go to results/<name>)"},
		{"bad figure", "kth.yaml", head + "figures: [utilization, pie]\n", nil, `kth.yaml:3: figures[1]: "pie"; want some of utilization, completion-cdf, wait-cdf, shares, speedup, paper`},
		{"paper metric", "kth.yaml", head + "policies: [static, drf]\npaper:\n  rows:\n    - {name: a, metric: speed, framework: hadoop, value: 1, within: 30%}\n", nil,
			`kth.yaml:6: paper.rows[0].metric: "speed"; want speedup or utilization_gain`},
		{"paper tolerance", "kth.yaml", head + "policies: [static, drf]\npaper:\n  rows:\n    - {name: a, metric: speedup, framework: hadoop, value: 1, within: lots}\n", nil,
			`kth.yaml:6: paper.rows[0].within: "lots" is not a tolerance; want a percentage of the paper's figure such as 30%, or a difference such as 0.1`},
		{"paper two targets", "kth.yaml", head + "policies: [static, drf]\npaper:\n  rows:\n    - name: a\n      metric: speedup\n      framework: hadoop\n      value: 1\n      within: 30%\n      above: 1\n", nil,
			`kth.yaml:10: paper.rows[0].within: 2 targets; want one: within (30% or 0.1), above or below`},
		{"paper speedup without framework", "kth.yaml", head + "policies: [static, drf]\npaper:\n  rows:\n    - {name: a, metric: speedup, value: 1, below: 1}\n", nil,
			`kth.yaml:6: paper.rows[0].framework: missing; a speedup is a framework's`},
		{"paper variant", "kth.yaml", head + "policies: [static, drf]\npaper:\n  variant: static\n", nil,
			`kth.yaml:5: paper.variant: "static"; want a policy other than the baseline static: one of static, drf`},
		{"paper unknown key", "kth.yaml", head + "policies: [static, drf]\npaper:\n  rows:\n    - {name: a, metric: speedup, framework: hadoop, value: 1, below: 1, tolerance: 3}\n", nil,
			`kth.yaml:6: paper.rows[0].tolerance: unknown key; want one of name, metric, framework, jobs, resource, value, within, above, below`},
		{"bad baseline", "kth.yaml", head + "baseline: asset\n", nil, `kth.yaml:3: baseline: "asset" is not one of the policies; want one of drf`},
		{"no base", "kth.yaml", "name: x\nbase: nosuch-scenario\n", nil, "kth.yaml:2: base: nosuch-scenario: no such file, nor a bundled one"},
		{"missing trace", "kth.yaml", head + "sim: {workload: {trace: [$TRACES/none.swf]}}\n", nil, "none.swf"},
		{"--set", "kth.yaml", head, []string{"seeds=x"}, `--set seeds=x: seeds: "x" is not a count; want a count from 1 to 1000000, or a list of seeds`},
		{"--set of a sim key", "kth.yaml", head, []string{"sim.allocator.policy=fifo"}, `--set sim.allocator.policy=fifo: sim.allocator.policy: "fifo" is not a policy`},
		{"JSON", "kth.json", "{\n  \"name\": \"kth\",\n  \"base\": \"static-vs-shared\",\n  \"sim\": {\"cluster\": [\n    {\"name\": \"h\", \"resources\": \"cpus:1\", \"count\": \"two\"}]}\n}\n", nil,
			`kth.json:5: sim.cluster[0].count: "two" is not a whole number`},
		{"JSON syntax", "kth.json", "{\n  \"name\": \"kth\",\n  \"base\": \"static-vs-shared\"\n  \"seeds\": 2\n}\n", nil, "kth.json:4:3: did not find expected ',' or '}'"},
		{"TOML", "kth.toml", "name = \"kth\"\nbase = \"static-vs-shared\"\n\n[[sim.cluster]]\nname = \"h\"\nresources = \"cpus:1\"\ncount = \"two\"\n", nil,
			`kth.toml:7: sim.cluster[0].count: "two" is not a whole number`},
		{"TOML syntax", "kth.toml", "name = \"kth\"\nbase = \"static-vs-shared\"\nseeds = \n", nil, "kth.toml:3:9: incomplete number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := loadErr(t, c.file, c.text, c.sets...)
			if !strings.HasPrefix(got, c.want) && !(c.name == "missing trace" && strings.Contains(got, c.want)) {
				t.Errorf("err = %s\nwant    %s", got, c.want)
			}
			for _, internal := range []string{"sim.Config", "FwConfig", "interface {}", "[]", "decoding failed", "mapstructure", "unmarshal", "!!", "While parsing"} {
				if strings.Contains(got, internal) && !strings.Contains(c.want, internal) {
					t.Errorf("err %q shows %q", got, internal)
				}
			}
		})
	}
}

// A study key from the environment is reported as from there.
func TestStudyErrorNamesTheEnvironment(t *testing.T) {
	t.Setenv("APRON_SEEDS", "many")
	got := loadErr(t, "kth.yaml", "name: kth\nbase: static-vs-shared\n")
	if want := `APRON_SEEDS: seeds: "many" is not a count`; !strings.HasPrefix(got, want) {
		t.Fatalf("err = %s\nwant    %s", got, want)
	}
}
