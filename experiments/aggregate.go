package experiments

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/apronlab/apron/sim"
)

// Finish writes a finished study's aggregate and draws its figures, from
// the result files alone: apron plot and apron merge call it too.
func Finish(dir string) error {
	rec, err := readStudy(dir)
	if err != nil {
		return err
	}
	agg, err := aggregate(dir, rec)
	if err != nil {
		return err
	}
	if err := agg.write(dir); err != nil {
		return err
	}
	return drawFigures(dir, rec, agg)
}

// Estimate is a mean over seeds with its 95% confidence interval
// (Student's t); with one seed the interval is unknown (NaN).
type Estimate struct {
	N          int
	Mean, CI95 float64 // the interval is Mean ± CI95
}

func estimate(xs []float64) Estimate {
	e := Estimate{N: len(xs), Mean: math.NaN(), CI95: math.NaN()}
	if len(xs) == 0 {
		return e
	}
	mean, sd := stat.MeanStdDev(xs, nil)
	e.Mean = mean
	if len(xs) > 1 {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(xs) - 1)}.Quantile(0.975)
		e.CI95 = t * sd / math.Sqrt(float64(len(xs)))
	}
	return e
}

// metric is one number a run reports: a cluster figure (key "") or a
// framework's.
type metric struct{ name, key string }

// runMetrics reads the numbers of one run from its summary.json.
func runMetrics(dir string, r Run) (map[metric]float64, sim.Summary, error) {
	p := filepath.Join(dir, filepath.FromSlash(r.ID), "summary.json")
	var sum sim.Summary
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, sum, err
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		return nil, sum, fmt.Errorf("%s: %w", p, err)
	}
	m := map[metric]float64{{"makespan_s", ""}: sum.Makespan}
	for res, u := range sum.Cluster.Utilization {
		m[metric{"utilization", res}] = u
	}
	for _, f := range sum.Frameworks {
		m[metric{"jobs_completed", f.Name}] = float64(f.Completed)
		if f.Completed == 0 {
			continue // a service, or nothing finished: no job times
		}
		m[metric{"job_time_sum_s", f.Name}] = f.SumCompletion
		m[metric{"completion_mean_s", f.Name}] = f.Completion.Mean
		m[metric{"wait_mean_s", f.Name}] = f.Wait.Mean
	}
	return m, sum, nil
}

// aggregated is a study's aggregate: per variant (policy and sweep point),
// per metric, the estimate over seeds; and the speedups over the baseline.
type aggregated struct {
	variants []variant
	speedups []speedup
}

type variant struct {
	name, policy, point string
	backend             string
	runs                []Run
	metrics             []metric // in order
	est                 map[metric]Estimate
	perSeed             map[metric]map[uint64]float64
}

// speedup is a framework's job-time speedup of a variant over the baseline
// at the same sweep point: per seed, the baseline's sum of job completion
// times over the variant's, averaged over the seeds both ran.
type speedup struct {
	variant, policy, point, framework string
	est                               Estimate
}

func aggregate(dir string, rec studyRecord) (aggregated, error) {
	var agg aggregated
	byName := map[string]*variant{}
	for _, r := range rec.Runs {
		name := r.Variant()
		v := byName[name]
		if v == nil {
			agg.variants = append(agg.variants, variant{name: name, policy: r.Policy, point: pointLabel(r.Point), backend: r.Backend, est: map[metric]Estimate{}, perSeed: map[metric]map[uint64]float64{}})
			v = &agg.variants[len(agg.variants)-1]
			byName[name] = v
		}
		v.runs = append(v.runs, r)
		m, _, err := runMetrics(dir, r)
		if err != nil {
			return agg, fmt.Errorf("run %s: %w", r.ID, err)
		}
		for _, k := range sortedMetrics(m) {
			if v.perSeed[k] == nil {
				v.perSeed[k] = map[uint64]float64{}
				v.metrics = append(v.metrics, k)
			}
			v.perSeed[k][r.Seed] = m[k]
		}
	}
	for i := range agg.variants {
		v := &agg.variants[i]
		for _, k := range v.metrics {
			v.est[k] = estimate(seedValues(v.perSeed[k], v.runs))
		}
	}
	agg.speedups = speedups(agg.variants, rec.Baseline)
	return agg, nil
}

// seedValues lists a metric's values in the order of the runs' seeds.
func seedValues(bySeed map[uint64]float64, runs []Run) []float64 {
	var xs []float64
	for _, r := range runs {
		if x, ok := bySeed[r.Seed]; ok && !math.IsNaN(x) {
			xs = append(xs, x)
		}
	}
	return xs
}

func speedups(vs []variant, baseline string) []speedup {
	base := map[string]*variant{}
	for i := range vs {
		if vs[i].policy == baseline && vs[i].backend == "" {
			base[vs[i].point] = &vs[i]
		}
	}
	var out []speedup
	for _, v := range vs {
		b := base[v.point]
		if b == nil || b.name == v.name {
			continue
		}
		for _, k := range v.metrics {
			if k.name != "job_time_sum_s" {
				continue
			}
			var xs []float64
			for _, r := range v.runs {
				num, ok1 := b.perSeed[k][r.Seed]
				den, ok2 := v.perSeed[k][r.Seed]
				if ok1 && ok2 && den > 0 {
					xs = append(xs, num/den)
				}
			}
			out = append(out, speedup{variant: v.name, policy: v.policy, point: v.point, framework: k.key, est: estimate(xs)})
		}
	}
	return out
}

func sortedMetrics(m map[metric]float64) []metric {
	var out []metric
	for k := range m {
		out = append(out, k)
	}
	sortMetrics(out)
	return out
}

// write writes aggregate.csv and speedup.csv.
func (a aggregated) write(dir string) error {
	rows := [][]string{{"variant", "policy", "point", "metric", "key", "n", "mean", "ci95"}}
	for _, v := range a.variants {
		for _, k := range v.metrics {
			e := v.est[k]
			rows = append(rows, []string{v.name, v.policy, v.point, k.name, k.key, strconv.Itoa(e.N), fnum(e.Mean), fnum(e.CI95)})
		}
	}
	if err := writeCSV(filepath.Join(dir, "aggregate.csv"), rows); err != nil {
		return err
	}
	rows = [][]string{{"variant", "policy", "point", "framework", "n", "speedup", "ci95"}}
	for _, s := range a.speedups {
		rows = append(rows, []string{s.variant, s.policy, s.point, s.framework, strconv.Itoa(s.est.N), fnum(s.est.Mean), fnum(s.est.CI95)})
	}
	return writeCSV(filepath.Join(dir, "speedup.csv"), rows)
}

// fnum writes a number exactly; NaN (unknown) as empty.
func fnum(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func writeCSV(p string, rows [][]string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
