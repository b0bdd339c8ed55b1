package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runApron(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestAllocDefaultIsDRFPaper(t *testing.T) {
	out, err := runApron(t, "alloc")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scenario drf-paper", "A          user-a  3      cpus:3;mem:12288", "B          user-b  2      cpus:6;mem:2048", "picks (5): A B A B A"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAllocJSONAndPolicyFlag(t *testing.T) {
	out, err := runApron(t, "alloc", "../../allocator/playground/scenarios/hierarchy.yaml", "--policy", "drf", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Policy     string `json:"policy"`
		Frameworks []struct {
			Name  string `json:"name"`
			Tasks int    `json:"tasks"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if r.Policy != "drf" || len(r.Frameworks) != 3 || r.Frameworks[2].Name != "ops" || r.Frameworks[2].Tasks != 2 {
		t.Fatalf("got %+v", r)
	}
}

func TestAllocPolicyFromEnvironment(t *testing.T) {
	t.Setenv("APRON_POLICY", "asset")
	out, err := runApron(t, "alloc", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"policy": "asset"`) {
		t.Fatalf("APRON_POLICY=asset ignored:\n%s", out)
	}
}

func TestAllocErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"alloc", "no-such-scenario"}, "no such file, nor a bundled one (bundled: drf-paper, hdrf-starvation, hierarchy, quota, static-vs-shared, weights)"},
		{[]string{"alloc", "--policy", "fifo"}, `unknown policy "fifo"; known policies: asset, ceei, drf, hdrf, hdrf-naive, random, static`},
		{[]string{"alloc", "a", "b"}, "accepts at most 1 arg"},
	} {
		if _, err := runApron(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v; want %q", tc.args, err, tc.want)
		}
	}
}

func TestSimWritesTheRunDirectory(t *testing.T) {
	dir := t.TempDir()
	out, err := runApron(t, "sim", "--policy", "static", "--seed", "7", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "complete") {
		t.Errorf("output: %s", out)
	}
	for _, f := range []string{"timeseries.csv", "jobs.csv", "frameworks.csv", "summary.json", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if !strings.Contains(string(data), `"policy": "static"`) || !strings.Contains(string(data), `"seed": 7`) {
		t.Errorf("manifest lacks the flags' policy and seed:\n%s", data)
	}
}

// apron sim --config decodes as studies do: the file, the line, the key as
// written and what is allowed.
func TestSimBadConfig(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"cluster: []\nfrobnicate: 1\n", "bad.yaml:2: frobnicate: unknown key; want one of name, seed,"},
		{"cluster:\n  - name: host\n    resources: \"cpus:8\"\n    count: two\n", `bad.yaml:4: cluster[0].count: "two" is not a whole number`},
		{"seed: 1\ncluster:\n  - {name: a, resources: \"cpus:1\"}\nallocator:\n  policy: drf\n frameworks: []\n", "bad.yaml:6:2: did not find expected key"},
	} {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(bad, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := runApron(t, "sim", "--config", bad)
		if err == nil || !strings.HasPrefix(err.Error(), filepath.Dir(bad)+"/"+c.want) {
			t.Errorf("err = %v; want %s...", err, c.want)
		}
	}
}

func TestTraceGenConvertSlice(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "fb.csv")
	if _, err := runApron(t, "trace", "gen", "facebook-hadoop", "--seed", "3", "--out", gen); err != nil {
		t.Fatal(err)
	}
	out, err := runApron(t, "trace", "info", gen)
	if err != nil || !strings.Contains(out, "format   apron-csv") || !strings.Contains(out, "jobs     100") {
		t.Fatalf("info of the generated trace: %v\n%s", err, out)
	}
	sliced := filepath.Join(dir, "half.csv")
	if _, err := runApron(t, "trace", "slice", gen, "--to", "10m", "--out", sliced); err != nil {
		t.Fatal(err)
	}
	out, err = runApron(t, "trace", "info", sliced)
	if err != nil || strings.Contains(out, "jobs     100\n") || !strings.Contains(out, "jobs") {
		t.Fatalf("info of the sliced trace: %v\n%s", err, out)
	}
}

// Without --out, apron sim writes to results/sim/<config>-<policy>, not
// where apron run puts the static-vs-shared study's runs.
func TestSimDefaultOut(t *testing.T) {
	t.Chdir(t.TempDir())
	out, err := runApron(t, "sim", "--policy", "static")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join("results", "sim", "static-vs-shared-static")
	if !strings.HasPrefix(out, want+": ") {
		t.Errorf("output %q, want it to name %s", out, want)
	}
	if _, err := os.Stat(filepath.Join(want, "summary.json")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join("results", "static-vs-shared")); err == nil {
		t.Error("apron sim wrote to results/static-vs-shared, the study's directory")
	}
	for _, tt := range []struct{ config, policy, want string }{
		{"google-scale", "drf", "results/sim/google-scale-drf"},
		{"/some/where/my.yaml", "hdrf", "results/sim/my-hdrf"},
		{"conf/other.yml", "static", "results/sim/other-static"},
	} {
		if got := simOut(tt.config, tt.policy); got != tt.want {
			t.Errorf("simOut(%q, %q) = %q, want %q", tt.config, tt.policy, got, tt.want)
		}
	}
}
