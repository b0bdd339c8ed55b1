package experiments

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apronlab/apron/sim/gpushare"
)

// FragmentationStudy is the name of the openb fragmentation study, which
// `apron run` runs by name: the openb paper's main experiment (Weng et al.,
// "Beware of Fragmentation", USENIX ATC 2023, Figure 7a) with every
// placement policy, the openb default pods inflated to 130% of the GPU
// capacity of its 1,213 GPU nodes, measured at every 10% of arrived
// workload, over three seeds. It is defined here rather than in a study
// file: its runs are gpushare replays, not simulations.
const FragmentationStudy = "openb-fragmentation"

// Fragmentation is one fragmentation study.
type Fragmentation struct {
	Nodes, Pods string   // the node and pod lists
	Placements  []string // the policies, one line each
	Seeds       []uint64
	Target      float64 // the workload at the end, a share of the GPU capacity
	Levels      int     // measures per unit of arrived workload (50: every 2%)
}

// OpenbFragmentation is the study as the paper ran it.
func OpenbFragmentation() Fragmentation {
	return Fragmentation{
		Nodes:      "$TRACES/alibaba-gpu-v2023/openb_node_list_gpu_node.csv",
		Pods:       "$TRACES/alibaba-gpu-v2023/openb_pod_list_default.csv",
		Placements: []string{"fgd", "best-fit", "dot-product", "gpu-packing", "gpu-clustering", "first-fit", "random"},
		Seeds:      []uint64{42, 43, 44},
		Target:     1.3,
		Levels:     50,
	}
}

// fragRun is one replay's result.
type fragRun struct {
	placement string
	seed      uint64
	res       *gpushare.Result
}

// RunFragmentation runs the study into dir (runs.csv, aggregate.csv,
// paper.csv, figures/) with at most workers replays at once, calling
// progress after each, and returns the paper's figures against apron's as
// a Markdown table.
func RunFragmentation(ctx context.Context, f Fragmentation, dir string, workers int, progress func(done, total int)) (string, error) {
	md, err := runFragmentation(ctx, f, dir, workers, progress)
	if err != nil {
		return "", fmt.Errorf("study %s: %w", FragmentationStudy, err)
	}
	return md, nil
}

func runFragmentation(ctx context.Context, f Fragmentation, dir string, workers int, progress func(done, total int)) (string, error) {
	tr, err := gpushare.Load(f.Nodes, f.Pods)
	if err != nil {
		return "", err
	}
	var runs []fragRun
	for _, p := range f.Placements {
		for _, s := range f.Seeds {
			runs = append(runs, fragRun{placement: p, seed: s})
		}
	}
	var levels []float64
	for l := 1; float64(l) <= f.Target*float64(f.Levels)+1e-9; l++ {
		levels = append(levels, float64(l)/float64(f.Levels))
	}
	cfg := gpushare.Config{Target: f.Target, Levels: levels}
	if err := replayAll(ctx, tr, cfg, runs, max(workers, 1), progress); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "figures"), 0o755); err != nil {
		return "", err
	}
	agg := aggregateFragmentation(runs)
	targets := fragTargets(runs, agg, f.Target)
	if err := writeFragmentation(dir, runs, agg); err != nil {
		return "", err
	}
	if err := writeFragPaper(dir, targets); err != nil {
		return "", err
	}
	if err := drawFragmentation(dir, f, len(tr.Nodes), int64(tr.GPUCapacity()), agg); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| the paper's figure | paper | apron | target | holds |\n|---|---|---|---|---|\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "| %s | %s | %.2f | %s | %s |\n", t.figure, t.paper, t.apron, t.target, map[bool]string{true: "yes", false: "no"}[t.holds])
	}
	return b.String(), nil
}

// replayAll runs the replays on workers goroutines; each result lands in
// its own slot, so the order of completion changes nothing.
func replayAll(ctx context.Context, tr *gpushare.Trace, cfg gpushare.Config, runs []fragRun, workers int, progress func(done, total int)) error {
	var (
		mu    sync.Mutex
		done  int
		first error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c := cfg
				c.Placement, c.Seed = runs[i].placement, runs[i].seed
				res, err := gpushare.Run(tr, c)
				mu.Lock()
				runs[i].res = res
				first = cmp.Or(first, err)
				done++
				if progress != nil {
					progress(done, len(runs))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range runs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return cmp.Or(first, ctx.Err())
}

type fragMeasure struct {
	name string
	of   func(p gpushare.Point) float64
}

// fragMeasures are the measures of a point, by name, in column order.
var fragMeasures = []fragMeasure{
	{"arrived", func(p gpushare.Point) float64 { return p.Arrived }},
	{"allocation", func(p gpushare.Point) float64 { return p.Allocation }},
	{"fragmentation", func(p gpushare.Point) float64 { return p.Fragmentation }},
	{"unallocated_gpus", func(p gpushare.Point) float64 { return p.Unallocated }},
	{"failed", func(p gpushare.Point) float64 { return float64(p.Failed) }},
}

// fragAgg is a policy's measures at each level, over the seeds.
type fragAgg struct {
	placement string
	levels    []float64
	est       [][]Estimate // [level][measure]
}

func aggregateFragmentation(runs []fragRun) []fragAgg {
	var out []fragAgg
	for i := 0; i < len(runs); {
		j := i
		for j < len(runs) && runs[j].placement == runs[i].placement {
			j++
		}
		a := fragAgg{placement: runs[i].placement}
		for l, pt := range runs[i].res.Points {
			a.levels = append(a.levels, pt.Level)
			ests := make([]Estimate, len(fragMeasures))
			for m, fm := range fragMeasures {
				var xs []float64
				for _, r := range runs[i:j] {
					if l < len(r.res.Points) {
						xs = append(xs, fm.of(r.res.Points[l]))
					}
				}
				ests[m] = estimate(xs)
			}
			a.est = append(a.est, ests)
		}
		out = append(out, a)
		i = j
	}
	return out
}

// at returns a policy's estimate of a measure at a level.
func (a fragAgg) at(level float64, measure string) Estimate {
	l := slices.Index(a.levels, level)
	m := slices.IndexFunc(fragMeasures, func(fm fragMeasure) bool { return fm.name == measure })
	if l < 0 || m < 0 {
		return Estimate{Mean: math.NaN(), CI95: math.NaN()}
	}
	return a.est[l][m]
}

func writeFragmentation(dir string, runs []fragRun, agg []fragAgg) error {
	head := []string{"placement", "seed", "level", "pods"}
	for _, fm := range fragMeasures {
		head = append(head, fm.name)
	}
	for _, c := range gpushare.Causes {
		head = append(head, "failed_"+c)
	}
	rows := [][]string{head}
	for _, r := range runs {
		for _, p := range r.res.Points {
			row := []string{r.placement, strconv.FormatUint(r.seed, 10), fnum(p.Level), strconv.Itoa(p.Pods)}
			for _, fm := range fragMeasures {
				row = append(row, fnum(fm.of(p)))
			}
			for _, n := range p.FailedBy {
				row = append(row, strconv.Itoa(n))
			}
			rows = append(rows, row)
		}
	}
	if err := writeCSV(filepath.Join(dir, "runs.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"placement", "level", "measure", "n", "mean", "ci95"}}
	for _, a := range agg {
		for l, lv := range a.levels {
			for m, fm := range fragMeasures {
				e := a.est[l][m]
				rows = append(rows, []string{a.placement, fnum(lv), fm.name, strconv.Itoa(e.N), fnum(e.Mean), fnum(e.CI95)})
			}
		}
	}
	return writeCSV(filepath.Join(dir, "aggregate.csv"), rows)
}

// fragTarget is one of the paper's figures and how near apron must come.
type fragTarget struct {
	figure string
	paper  string
	apron  float64
	target string
	holds  bool
}

// fragTargets checks the targets against the paper (FGD 95.29% of
// GPUs allocated at 130%, seed 42; Random about 87.5%; FGD at least every
// other policy from 100% on, over the seeds; FGD's unallocated GPUs at
// 130% at least 30% fewer than best fit's).
func fragTargets(runs []fragRun, agg []fragAgg, target float64) []fragTarget {
	at := fmt.Sprintf("%.0f%%", 100*target)
	var out []fragTarget
	final := func(placement string, seed uint64) (float64, bool) {
		for _, r := range runs {
			if r.placement == placement && r.seed == seed && len(r.res.Points) > 0 {
				return r.res.Points[len(r.res.Points)-1].Allocation, true
			}
		}
		return 0, false
	}
	if x, ok := final("fgd", 42); ok {
		out = append(out, fragTarget{"FGD GPU allocation at " + at + ", seed 42", "95.3%", 100 * x, "± 1.5 points", math.Abs(100*x-95.3) <= 1.5})
	}
	if x, ok := final("random", 42); ok {
		out = append(out, fragTarget{"Random GPU allocation at " + at + ", seed 42", "87.5%", 100 * x, "± 2 points", math.Abs(100*x-87.5) <= 2})
	}
	byName := map[string]fragAgg{}
	for _, a := range agg {
		byName[a.placement] = a
	}
	fgd, ok := byName["fgd"]
	if !ok {
		return out
	}
	worst := math.Inf(1) // FGD's smallest lead over the best other policy, levels of 100% and more
	for _, lv := range fgd.levels {
		if lv < 1-1e-9 {
			continue
		}
		for _, a := range agg {
			if a.placement != "fgd" {
				worst = min(worst, 100*(fgd.at(lv, "allocation").Mean-a.at(lv, "allocation").Mean))
			}
		}
	}
	if !math.IsInf(worst, 1) {
		out = append(out, fragTarget{"FGD's least lead in GPU allocation over any other policy, 100% to " + at + " (points, mean over seeds)", "≥ 0", worst, "≥ 0", worst >= 0})
	}
	if bf, ok := byName["best-fit"]; ok {
		top := fgd.levels[len(fgd.levels)-1]
		f, b := fgd.at(top, "unallocated_gpus").Mean, bf.at(top, "unallocated_gpus").Mean
		fewer := 100 * (1 - f/b)
		out = append(out, fragTarget{"FGD's unallocated GPUs at " + at + " fewer than best fit's (%, mean over seeds)", "up to 49% fewer", fewer, "≥ 30%", fewer >= 30})
	}
	return out
}

func writeFragPaper(dir string, targets []fragTarget) error {
	rows := [][]string{{"figure", "paper", "apron", "target", "holds"}}
	for _, t := range targets {
		rows = append(rows, []string{t.figure, t.paper, strconv.FormatFloat(t.apron, 'f', 2, 64), t.target, fmt.Sprint(t.holds)})
	}
	return writeCSV(filepath.Join(dir, "paper.csv"), rows)
}
