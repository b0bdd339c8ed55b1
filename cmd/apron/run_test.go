package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's main command, on a temporary results root: the study runs,
// writes its aggregate and figures, and a second run skips every run.
func TestRunStaticVsShared(t *testing.T) {
	out := t.TempDir()
	got, err := runApron(t, "run", "../../experiments/static-vs-shared.yaml", "--out", out, "--set", "seeds=2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "4 runs (4 run now, 0 already done)") || !strings.Contains(got, "aggregate:") {
		t.Fatalf("output:\n%s", got)
	}
	for _, f := range []string{"aggregate.csv", "speedup.csv", "figures/utilization.png", "figures/speedup.svg", "drf/seed-2/summary.json"} {
		if _, err := os.Stat(filepath.Join(out, "static-vs-shared", f)); err != nil {
			t.Error(err)
		}
	}
	got, err = runApron(t, "run", "static-vs-shared", "--out", out, "--set", "seeds=2")
	if err != nil || !strings.Contains(got, "(0 run now, 4 already done)") {
		t.Fatalf("second run: %v\n%s", err, got)
	}
	if got, err := runApron(t, "plot", filepath.Join(out, "static-vs-shared")); err != nil || !strings.Contains(got, "figures:") {
		t.Fatalf("plot: %v\n%s", err, got)
	}
}

func TestRunDryRunAndErrors(t *testing.T) {
	got, err := runApron(t, "run", "--dry-run", "mesos-macrobenchmark")
	if err != nil || !strings.Contains(got, "6 runs (2 policies x 1 sweep points x 3 seeds)") || !strings.Contains(got, "shared/seed-3") {
		t.Fatalf("dry run: %v\n%s", err, got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "no-such-study"}, "no such file or built-in study"},
		{[]string{"run", "static-vs-shared", "--shard", "3/2"}, "want i/n"},
		{[]string{"run", "static-vs-shared", "--set", "seeds"}, "want key=value"},
		{[]string{"plot", t.TempDir()}, "no study.json"},
	} {
		if _, err := runApron(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v; want %q", c.args, err, c.want)
		}
	}
}

func TestRunEmitSlurm(t *testing.T) {
	p := filepath.Join(t.TempDir(), "study.slurm")
	if _, err := runApron(t, "run", "drf-paper", "--emit-slurm", p, "--shards", "3", "--out", "/scratch/r"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=0-2", `--shard "$SLURM_ARRAY_TASK_ID"/3`, "apron merge /scratch/r/drf-paper /scratch/r/shard-0/drf-paper /scratch/r/shard-1/drf-paper /scratch/r/shard-2/drf-paper"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("script lacks %q:\n%s", want, data)
		}
	}
}
