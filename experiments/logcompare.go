package experiments

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/apronlab/apron/internal/conf"
	"github.com/apronlab/apron/sim"
)

// LogCompare is the study key log: compare each variant's job waits with
// the waits the workload's log recorded, in log-comparison.csv and the
// log-waits figure.
type LogCompare struct {
	// Waits says what the log recorded: "recorded", each job's wait in
	// the trace (SWF field 3); or "zero", for a log whose submit times are
	// its jobs' start times (NASA iPSC's header says so), where every
	// recorded wait is 0.
	Waits string `yaml:"waits" json:"waits"`
	// Tolerance is how far from the log's a mean may be, as a fraction of
	// the log's, and hold (default 0.25).
	Tolerance float64 `yaml:"tolerance" json:"tolerance"`
}

func (l *LogCompare) check() error {
	switch l.Waits {
	case "":
		l.Waits = "recorded"
	case "recorded", "zero":
	default:
		return conf.Errorf("log.waits", "%q; want recorded (the trace's wait times) or zero (its submit times are start times)", l.Waits)
	}
	if l.Tolerance == 0 {
		l.Tolerance = 0.25
	}
	if !(l.Tolerance > 0) || math.IsInf(l.Tolerance, 0) {
		return conf.Errorf("log.tolerance", "%v; want a fraction above 0, such as 0.25", l.Tolerance)
	}
	return nil
}

// boundedThreshold is the run time under which bounded slowdown counts a
// job as this long (Feitelson's 10 s): a very short job's slowdown says
// little.
const boundedThreshold = 10.0

// boundedSlowdown is max(1, (wait + run) / max(run, 10 s)).
func boundedSlowdown(wait, run float64) float64 {
	return max(1, (wait+run)/max(run, boundedThreshold))
}

// logJob is what the log recorded of a job.
type logJob struct{ wait, run float64 }

// logReader reads the logs of runs' workloads, each once.
type logReader struct {
	how  *LogCompare
	logs map[string]map[string]logJob // by the workload's trace, scale and seed
}

// jobs reads what the log of a run's workload recorded: the jobs with a
// recorded wait (all of them for waits: zero), by id.
func (lr *logReader) jobs(runDir string) (map[string]logJob, error) {
	p := filepath.Join(runDir, "config.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	cfg, err := sim.ParseConfig(p, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	w := cfg.Workload
	switch {
	case w == nil || len(w.Trace) == 0:
		return nil, fmt.Errorf("%s: no workload trace; the log comparison compares with a trace's jobs", p)
	case w.TimeScale != 0 && w.TimeScale != 1:
		return nil, fmt.Errorf("%s: workload.time_scale %v; the log's waits are of its own times: want 1", p, w.TimeScale)
	}
	key := fmt.Sprint(w.TraceFiles, w.Scale, w.Seed)
	if lj, ok := lr.logs[key]; ok {
		return lj, nil
	}
	src, err := w.Jobs()
	if err != nil {
		return nil, err
	}
	defer src.Close()
	lj := map[string]logJob{}
	for {
		j, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		wait := time.Duration(0)
		if lr.how.Waits == "recorded" {
			if j.Waited == nil {
				continue
			}
			wait = *j.Waited
		}
		var run time.Duration
		for _, t := range j.Tasks {
			run = max(run, t.Duration)
		}
		lj[j.ID] = logJob{wait: wait.Seconds(), run: run.Seconds()}
	}
	lr.logs[key] = lj
	return lj, nil
}

// logComparison is one variant's means against the log's, over the jobs
// its runs completed that the log recorded, pooled over seeds.
type logComparison struct {
	variant, policy, point string
	jobs                   int
	logWait, wait          float64 // means, s
	logSlow, slow          float64 // mean bounded slowdowns
}

// logRow is one metric of a comparison.
type logRow struct {
	metric     string
	log, apron float64
	ratio      float64 // apron / log; NaN when the log's is 0
	holds      string  // yes, no, or n/a when the log's is 0
}

func (c logComparison) rows(tol float64) []logRow {
	row := func(metric string, log, apron float64) logRow {
		r := logRow{metric: metric, log: log, apron: apron, ratio: math.NaN(), holds: "n/a"}
		if log > 0 {
			r.ratio = apron / log
			r.holds = map[bool]string{true: "yes", false: "no"}[math.Abs(r.ratio-1) <= tol]
		}
		return r
	}
	return []logRow{row("mean_wait_s", c.logWait, c.wait), row("mean_bounded_slowdown", c.logSlow, c.slow)}
}

// compareWithLog compares every variant with the log its runs replay; the
// waits the log recorded, of every job, come back sorted for the figure.
func compareWithLog(dir string, how *LogCompare, agg aggregated) ([]logComparison, []float64, error) {
	lr := &logReader{how: how, logs: map[string]map[string]logJob{}}
	var out []logComparison
	var logWaits []float64
	for _, v := range agg.variants {
		c := logComparison{variant: v.name, policy: v.policy, point: v.point}
		var sumLogWait, sumWait, sumLogSlow, sumSlow float64
		for _, r := range v.runs {
			lj, err := lr.jobs(filepath.Join(dir, filepath.FromSlash(r.ID)))
			if err != nil {
				return nil, nil, fmt.Errorf("run %s: %w", r.ID, err)
			}
			if logWaits == nil {
				for _, l := range lj {
					logWaits = append(logWaits, l.wait)
				}
				slices.Sort(logWaits)
			}
			js, err := agg.jobs.get(r)
			if err != nil {
				return nil, nil, fmt.Errorf("run %s: %w", r.ID, err)
			}
			for _, j := range js { // in file order: the same sums every time
				l, ok := lj[j.id]
				if !j.completed || !ok {
					continue
				}
				c.jobs++
				sumLogWait, sumWait = sumLogWait+l.wait, sumWait+j.wait
				sumLogSlow, sumSlow = sumLogSlow+boundedSlowdown(l.wait, l.run), sumSlow+boundedSlowdown(j.wait, j.completion-j.wait)
			}
		}
		if c.jobs == 0 {
			return nil, nil, fmt.Errorf("variant %s: no completed job is in the log; the log comparison wants runs that replay the log", v.name)
		}
		n := float64(c.jobs)
		c.logWait, c.wait, c.logSlow, c.slow = sumLogWait/n, sumWait/n, sumLogSlow/n, sumSlow/n
		out = append(out, c)
	}
	return out, logWaits, nil
}

// writeLogComparison writes log-comparison.csv.
func writeLogComparison(dir string, cs []logComparison, tol float64) error {
	rows := [][]string{{"variant", "policy", "point", "metric", "jobs", "log", "apron", "ratio", "tolerance", "holds"}}
	for _, c := range cs {
		for _, r := range c.rows(tol) {
			rows = append(rows, []string{c.variant, c.policy, c.point, r.metric, strconv.Itoa(c.jobs),
				fnum(r.log), fnum(r.apron), fnum(r.ratio), fnum(tol), r.holds})
		}
	}
	return writeCSV(filepath.Join(dir, "log-comparison.csv"), rows)
}

// logMarkdown is the comparison as a Markdown table.
func logMarkdown(cs []logComparison, tol float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nAgainst the log (jobs each variant completed that the log recorded, seeds pooled; a mean holds within %s of the log's):\n\n"+
		"| variant | metric | log | apron | apron / log | holds | jobs |\n|---|---|---|---|---|---|---|\n", strconv.FormatFloat(tol*100, 'g', -1, 64)+"%")
	for _, c := range cs {
		for _, r := range c.rows(tol) {
			ratio := "n/a"
			if !math.IsNaN(r.ratio) {
				ratio = fmt.Sprintf("%.2f", r.ratio)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", c.variant, r.metric, short(r.log), short(r.apron), ratio, r.holds, count(c.jobs))
		}
	}
	return b.String()
}

// logWaitsFigure: the CDF of the waits the log recorded (black) and of
// each variant's, completed jobs pooled over seeds.
func logWaitsFigure(agg aggregated) (*figure, error) {
	if agg.logHow == nil {
		return nil, nil // nothing to compare with
	}
	sets, err := variantSets(agg, waitTime)
	if err != nil {
		return nil, err
	}
	what := "the waits it recorded"
	if agg.logHow.Waits == "zero" {
		what = "0 s: its submit times are its start times"
	}
	sets = append([]cdfSet{{name: "the log", xs: slices.Clone(agg.logWaits), style: func(l *plotter.Line) {
		l.Color, l.Width = color.Black, vg.Points(2)
	}}}, sets...)
	f, err := cdfPlot("CDF of job wait, the log and apron, "+seedsDrawn(agg.variants[0].runs, "%d seeds pooled"), waitTime.noun, sets)
	if err != nil {
		return nil, err
	}
	f.notes = append([]string{fmt.Sprintf("The log: %s, for its %s jobs; apron: the jobs each variant completed.", what, count(len(agg.logWaits)))}, f.notes...)
	return f, nil
}
