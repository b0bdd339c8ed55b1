package experiments

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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
	if agg.paper, err = comparePaper(rec.Paper, rec.Baseline, agg); err != nil {
		return err
	}
	if err := writePaper(dir, agg.paper); err != nil {
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
	paper    []paperResult // the paper's figures beside apron's
	jobs     *runJobs      // the runs' jobs.csv, read once
	// With a log comparison: how, each variant against the log, and the
	// waits the log recorded, sorted.
	logHow   *LogCompare
	log      []logComparison
	logWaits []float64
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
// at the same sweep point, like with like: per seed, over the jobs both
// completed (paired by job id), the baseline's sum of completion times over
// the variant's, averaged over the seeds both ran. The job counts are totals
// over those seeds.
type speedup struct {
	variant, policy, point, framework string
	jobs                              string // only the jobs whose ids begin so ("": all)
	est                               Estimate
	completed, baseCompleted          int // jobs each completed
	compared                          int // jobs both completed
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
	agg.jobs = newRunJobs(dir)
	sp, err := speedups(agg.variants, rec.Baseline, agg.jobs)
	agg.speedups = sp
	if err == nil && rec.Log != nil {
		agg.logHow = rec.Log
		agg.log, agg.logWaits, err = compareWithLog(dir, rec.Log, agg)
	}
	return agg, err
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

func speedups(vs []variant, baseline string, jobs *runJobs) ([]speedup, error) {
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
			if k.name != "jobs_completed" {
				continue
			}
			s := speedup{variant: v.name, policy: v.policy, point: v.point, framework: k.key}
			if err := s.compare(jobs, v, *b); err != nil {
				return nil, err
			}
			if s.completed+s.baseCompleted == 0 {
				continue // a service, or nothing finished: no job times
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// compare estimates s over the seeds that both variant v and baseline b
// ran.
func (s *speedup) compare(jobs *runJobs, v, b variant) error {
	var xs []float64
	for _, r := range v.runs {
		br, ok := runOfSeed(b.runs, r.Seed)
		if !ok {
			continue
		}
		x, err := s.pair(jobs, r, br)
		if err != nil {
			return err
		}
		if !math.IsNaN(x) {
			xs = append(xs, x)
		}
	}
	s.est = estimate(xs)
	return nil
}

func runOfSeed(runs []Run, seed uint64) (Run, bool) {
	for _, r := range runs {
		if r.Seed == seed {
			return r, true
		}
	}
	return Run{}, false
}

// pair compares the framework's jobs of one seed's variant run r and
// baseline run br: it adds their counts to s and returns the speedup over
// the jobs both completed, NaN if there are none.
func (s *speedup) pair(jobs *runJobs, r, br Run) (float64, error) {
	vj, err := jobs.get(r)
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", r.ID, err)
	}
	bj, err := jobs.get(br)
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", br.ID, err)
	}
	baseTime := map[string]float64{}
	mine := func(j job) bool { return j.framework == s.framework && j.completed && strings.HasPrefix(j.id, s.jobs) }
	for _, j := range bj {
		if mine(j) {
			baseTime[j.id] = j.completion
			s.baseCompleted++
		}
	}
	var num, den float64
	for _, j := range vj { // in file order: the same sums every time
		if !mine(j) {
			continue
		}
		s.completed++
		if t, ok := baseTime[j.id]; ok {
			num, den = num+t, den+j.completion
			s.compared++
		}
	}
	if den <= 0 {
		return math.NaN(), nil
	}
	return num / den, nil
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
	rows = [][]string{{"variant", "policy", "point", "framework", "n", "speedup", "ci95", "jobs_completed", "baseline_jobs_completed", "jobs_compared"}}
	for _, s := range a.speedups {
		rows = append(rows, []string{s.variant, s.policy, s.point, s.framework, strconv.Itoa(s.est.N), fnum(s.est.Mean), fnum(s.est.CI95),
			strconv.Itoa(s.completed), strconv.Itoa(s.baseCompleted), strconv.Itoa(s.compared)})
	}
	if err := writeCSV(filepath.Join(dir, "speedup.csv"), rows); err != nil {
		return err
	}
	if a.logHow == nil {
		return nil
	}
	return writeLogComparison(dir, a.log, a.logHow.Tolerance)
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
