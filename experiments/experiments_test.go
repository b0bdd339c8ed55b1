package experiments_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apronlab/apron/experiments"
	"github.com/apronlab/apron/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// small is a study small enough for tests: the static-vs-shared scenario
// cut to a few jobs, two policies, two seeds.
const small = `
name: small
base: static-vs-shared
sim:
  sample_interval: 30s
  frameworks:
    - {name: hadoop, role: hadoop, kind: batch, jobs: [{count: 4, every: 30s, tasks: 20, task: "cpus:1;mem:2048", duration: 40s, exponential: true}]}
    - {name: spark, role: spark, kind: batch, jobs: [{submit: 60s, count: 3, every: 40s, tasks: 8, task: "cpus:2;mem:4096", duration: 60s, exponential: true}]}
policies: [static, drf]
seeds: 2
`

// withPaper is small with a paper section: figures to compare with, one
// of each kind of target.
const withPaper = small + `paper:
  source: a test
  rows:
    - {name: hadoop, metric: speedup, framework: hadoop, value: 1.5, within: 1000%}
    - {name: first hadoop jobs, metric: speedup, framework: hadoop, jobs: hadoop-0-, value: 1.5, above: 100}
    - {name: spark, metric: speedup, framework: spark, value: 1.2, below: 100}
    - {name: CPU gain, metric: utilization_gain, resource: cpus, value: 0.1, within: 0.0001}
`

func writeStudy(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "study.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func execute(t *testing.T, study string, opts experiments.Options) experiments.Report {
	t.Helper()
	s, err := experiments.Load(study, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := experiments.Execute(context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// outputs reads the aggregate and the figures of a study's results.
func outputs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range []string{"aggregate.csv", "speedup.csv", "paper.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) && name == "paper.csv" {
			continue // a study without a paper section
		}
		if err != nil {
			t.Fatal(err)
		}
		out[name] = data
	}
	figs, _ := filepath.Glob(filepath.Join(dir, "figures", "*"))
	for _, f := range figs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out["figures/"+filepath.Base(f)] = data
	}
	return out
}

func TestStudyRunsAggregatesAndResumes(t *testing.T) {
	study := writeStudy(t, small)
	root := t.TempDir()
	rep := execute(t, study, experiments.Options{Dir: root})
	if rep.Total != 4 || rep.Ran != 4 || !rep.Aggregated {
		t.Fatalf("report %+v; want 4 runs run and aggregated", rep)
	}
	first := outputs(t, rep.Dir)
	if len(first) != 2+5*2 {
		t.Fatalf("outputs %d files; want aggregate, speedup and 5 figures in 2 formats", len(first))
	}
	agg := string(first["aggregate.csv"])
	for _, want := range []string{"variant,policy,point,metric,key,n,mean,ci95", "static,static,,job_time_sum_s,hadoop,2,", "drf,drf,,utilization,cpus,2,"} {
		if !strings.Contains(agg, want) {
			t.Errorf("aggregate.csv lacks %q:\n%s", want, agg)
		}
	}
	if sp := string(first["speedup.csv"]); !strings.Contains(sp, "drf,drf,,hadoop,2,") {
		t.Errorf("speedup.csv:\n%s", sp)
	}
	// Again: every run is found done, and the outputs are the same bytes.
	rep = execute(t, study, experiments.Options{Dir: root})
	if rep.Ran != 0 || rep.Skipped != 4 {
		t.Fatalf("second run %+v; want all 4 skipped", rep)
	}
	for name, data := range outputs(t, rep.Dir) {
		if !bytes.Equal(data, first[name]) {
			t.Errorf("%s differs between runs", name)
		}
	}
	// A changed key re-runs only what it changes.
	rep = execute(t, writeStudy(t, small+"baseline: static\nsweep: {allocator.allocation_interval: [1s]}\n"), experiments.Options{Dir: root})
	if rep.Ran != 4 {
		t.Fatalf("after a sweep was added: %+v; want the 4 runs (new folders) run", rep)
	}
}

// Shards merged equal one unsharded run, byte for byte.
func TestShardsMergeExactly(t *testing.T) {
	study := writeStudy(t, withPaper)
	whole := execute(t, study, experiments.Options{Dir: t.TempDir(), Workers: 1})
	root := t.TempDir()
	var dirs []string
	for i := range 3 {
		rep := execute(t, study, experiments.Options{Dir: filepath.Join(root, "shard", string(rune('0'+i))), Shard: i, Shards: 3})
		if rep.Aggregated {
			t.Fatalf("shard %d aggregated alone", i)
		}
		dirs = append(dirs, rep.Dir)
	}
	dest := filepath.Join(root, "merged")
	if err := experiments.Merge(dest, dirs...); err != nil {
		t.Fatal(err)
	}
	want := outputs(t, whole.Dir)
	got := outputs(t, dest)
	if len(got) != len(want) {
		t.Fatalf("merged %d files; want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s: merged differs from the unsharded run", name)
		}
	}
	if err := experiments.Merge(filepath.Join(root, "partial"), dirs[:2]...); err == nil || !strings.Contains(err.Error(), "finished in no shard") {
		t.Errorf("merge of 2 of 3 shards: %v; want an error naming the missing runs", err)
	}
}

// Figures are golden files: go test ./experiments -run Golden -update
// rewrites them.
func TestFiguresGolden(t *testing.T) {
	rep := execute(t, writeStudy(t, withPaper), experiments.Options{Dir: t.TempDir()})
	for name, data := range outputs(t, rep.Dir) {
		checkGolden(t, name, data)
	}
}

// checkGolden compares a result file with its golden file, or with
// -update writes it.
func checkGolden(t *testing.T, name string, data []byte) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", strings.ReplaceAll(name, "/", "_"))
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./experiments -run Golden -update writes it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("%s differs from %s (-update rewrites it after a deliberate change)", name, golden)
	}
}

func TestSetOverrides(t *testing.T) {
	s, err := experiments.Load(writeStudy(t, small), []string{"seeds=3", "policies=[drf]"})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].Policy != "drf" || runs[2].Seed != 3 {
		t.Fatalf("runs %+v; want drf with seeds 1 to 3", runs)
	}
	var buf bytes.Buffer
	if err := experiments.PrintMatrix(&buf, s); err != nil || !strings.Contains(buf.String(), "drf/seed-3") {
		t.Fatalf("matrix: %v\n%s", err, buf.String())
	}
}

// Every built-in study expands and checks.
func TestBuiltinStudiesExpand(t *testing.T) {
	for _, name := range experiments.Builtin() {
		t.Run(name, func(t *testing.T) {
			s, err := experiments.Load(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Runs(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Study files may be TOML or JSON too, and environment variables
// override their keys.
func TestStudyFormatsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"s.json": `{"name": "j", "base": "static-vs-shared", "policies": ["drf"], "seeds": 2}`,
		"s.toml": "name = \"t\"\nbase = \"static-vs-shared\"\npolicies = [\"drf\"]\nseeds = 2\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := experiments.Load(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if runs, err := s.Runs(); err != nil || len(runs) != 2 {
			t.Fatalf("%s: %d runs, %v; want 2", name, len(runs), err)
		}
	}
	t.Setenv("APRON_SEEDS", "4")
	s, err := experiments.Load(filepath.Join(dir, "s.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.Runs(); len(runs) != 4 {
		t.Fatalf("%d runs with APRON_SEEDS=4; want 4", len(runs))
	}
}

// A cancelled study (Ctrl-C) records no unfinished run as done; the next
// run of it does them.
func TestInterruptedStudyResumes(t *testing.T) {
	study := writeStudy(t, small)
	root := t.TempDir()
	s, err := experiments.Load(study, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := experiments.Execute(ctx, s, experiments.Options{Dir: root}); err == nil {
		t.Fatal("a cancelled study reported success")
	}
	rep := execute(t, study, experiments.Options{Dir: root})
	if rep.Ran != 4 || !rep.Aggregated {
		t.Fatalf("resumed: %+v; want the 4 runs run", rep)
	}
}

// With one seed there are no confidence intervals; every figure is still
// drawn.
func TestOneSeedDrawsEveryFigure(t *testing.T) {
	s, err := experiments.Load(writeStudy(t, small), []string{"seeds=1"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := experiments.Execute(context.Background(), s, experiments.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	out := outputs(t, rep.Dir)
	if n := len(out); n != 12 {
		t.Fatalf("%d outputs; want aggregate, speedup and 5 figures in 2 formats", n)
	}
	for _, name := range []string{"speedup", "utilization", "shares", "wait-cdf"} {
		svg := string(out["figures/"+name+".svg"])
		if strings.Contains(svg, "CI") || strings.Contains(svg, "mean") || !strings.Contains(svg, "seed 1") {
			t.Errorf("%s.svg of one seed claims a mean or an interval, or does not say which seed it shows", name)
		}
	}
}

// Figures say how many seeds they average or pool, and the speedups say
// how many jobs they compare.
func TestFiguresSaySeedsAndJobs(t *testing.T) {
	rep := execute(t, writeStudy(t, small), experiments.Options{Dir: t.TempDir()})
	out := outputs(t, rep.Dir)
	for name, want := range map[string]string{
		"figures/speedup.svg":     "95% CI of 2 seeds",
		"figures/utilization.svg": "mean of 2 seeds",
		"figures/wait-cdf.svg":    "2 seeds pooled",
		"figures/shares.svg":      "seed 1 of the 2 seeds",
		"speedup.csv":             "jobs_completed,baseline_jobs_completed,jobs_compared",
	} {
		if !strings.Contains(string(out[name]), want) {
			t.Errorf("%s does not say %q", name, want)
		}
	}
	md, err := experiments.Markdown(rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "| jobs compared |") || !strings.Contains(md, "| drf | hadoop |") {
		t.Errorf("markdown lacks the jobs compared:\n%s", md)
	}
}

// A resource no task uses (an SWF trace has no memory) gets no panel, and
// the figure says so.
func TestUnusedResourceNotDrawn(t *testing.T) {
	study := strings.NewReplacer(";mem:2048", "", ";mem:4096", "").Replace(small) + "figures: [utilization]\n"
	rep := execute(t, writeStudy(t, study), experiments.Options{Dir: t.TempDir()})
	svg := string(outputs(t, rep.Dir)["figures/utilization.svg"])
	if strings.Contains(svg, "cluster mem in use") || !strings.Contains(svg, "Not drawn: mem") || !strings.Contains(svg, "cluster cpus in use") {
		t.Errorf("utilization of a study without memory: want the cpus panel and a note that mem is not drawn")
	}
}

// Trace paths resolve to absolute paths once, the same for every run and
// every expansion: a relative one against the study's folder, a $TRACES/
// one to the shipped sample under its compressed name.
func TestTracePathsResolveOnce(t *testing.T) {
	study := writeStudy(t, `name: x
base: static-vs-shared
policies: [drf, static]
seeds: 2
sim:
  machines: {trace: [$TRACES/alibaba-gpu-v2023/openb_node_list_all_node.csv]}
  workload: {trace: [tiny.swf], kind: gang}
`)
	tiny := filepath.Join(filepath.Dir(study), "tiny.swf")
	if err := os.WriteFile(tiny, []byte("; Version: 2.2\n1 0 0 10 1 -1 -1 1 -1 -1 1 1 1 -1 1 -1 -1 -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nodes := testutil.Sample(t, "alibaba-gpu-v2023/openb_node_list_all_node.csv")
	s, err := experiments.Load(study, nil)
	if err != nil {
		t.Fatal(err)
	}
	var configs []string
	for range 2 {
		runs, err := s.Runs()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			configs = append(configs, string(r.Config))
		}
	}
	if len(configs) != 8 {
		t.Fatalf("%d runs; want 4, twice", len(configs))
	}
	for i, c := range configs {
		if strings.Count(c, tiny) != 1 || strings.Count(c, nodes) != 1 {
			t.Fatalf("run %d config names the traces other than once as %s and %s:\n%s", i, tiny, nodes, c)
		}
		if c != configs[i%4] {
			t.Fatalf("run %d differs between expansions:\n%s\n%s", i%4, configs[i%4], c)
		}
	}
}

// The paper's figures are set beside apron's: a framework's speedup is
// speedup.csv's, a kind of job's is over its jobs alone, a utilization
// gain is the variant's utilization less the baseline's, and each row says
// whether apron's meets its target; the report lists them.
func TestPaperComparison(t *testing.T) {
	busy := strings.Replace(withPaper, "count: 4, every: 30s, tasks: 20", "count: 8, every: 10s, tasks: 60", 1)
	rep := execute(t, writeStudy(t, busy), experiments.Options{Dir: t.TempDir()})
	rows := testutil.ReadCSV(t, filepath.Join(rep.Dir, "paper.csv"))
	if len(rows) != 5 || strings.Join(rows[0], ",") != "name,point,metric,framework,jobs,resource,paper,apron,ci95,n,target,holds" {
		t.Fatalf("paper.csv:\n%v", rows)
	}
	speedups := testutil.ReadCSV(t, filepath.Join(rep.Dir, "speedup.csv"))
	var hadoop string
	for _, r := range speedups[1:] {
		if r[3] == "hadoop" {
			hadoop = r[5]
		}
	}
	agg := map[string]float64{}
	for _, r := range testutil.ReadCSV(t, filepath.Join(rep.Dir, "aggregate.csv"))[1:] {
		if r[3] == "utilization" && r[4] == "cpus" {
			agg[r[0]] = num(t, r[6])
		}
	}
	if hadoop == "1" || agg["drf"] == agg["static"] {
		t.Fatalf("hadoop speedup %s, CPU utilization %v: want a study where the policies differ", hadoop, agg)
	}
	for _, c := range []struct {
		row         int
		want, holds string
	}{
		{1, hadoop, "true"},  // within 1000%
		{2, hadoop, "false"}, // every hadoop job is one of hadoop-0-; not above 100
		{3, "", "true"},      // below 100
		{4, fmt.Sprint(agg["drf"] - agg["static"]), "false"}, // not within 0.0001 of 0.1
	} {
		r := rows[c.row]
		if c.want != "" && math.Abs(num(t, r[7])-num(t, c.want)) > 1e-9 {
			t.Errorf("%s: apron %s; want %s", r[0], r[7], c.want)
		}
		if r[11] != c.holds {
			t.Errorf("%s: holds %s; want %s (target %s, apron %s)", r[0], r[11], c.holds, r[10], r[7])
		}
	}
	if _, err := os.Stat(filepath.Join(rep.Dir, "figures", "paper.png")); err != nil {
		t.Error(err)
	}
	md, err := experiments.Markdown(rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Against the paper (a test), drf over static:", "| figure | paper | apron ± 95% CI | target | holds |", "| CPU gain | 0.1 | ", "| 0.1 ± 0.0001 | no |", "| above 100 | no |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
