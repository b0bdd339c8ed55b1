package experiments

import (
	"fmt"
	"math"
	"strings"
)

// Markdown returns a finished study's key numbers as Markdown, for
// notebooks and terminals: per variant the mean utilization of each
// resource and each framework's sum of job completion times, then the
// speedups over the baseline with the jobs they compare; with 95%
// confidence intervals where there are two seeds or more.
func Markdown(dir string) (string, error) {
	rec, err := readStudy(dir)
	if err != nil {
		return "", err
	}
	agg, err := aggregate(dir, rec)
	if err != nil {
		return "", err
	}
	paper, err := comparePaper(rec.Paper, rec.Baseline, agg)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	var ests []Estimate
	for _, v := range agg.variants {
		for _, e := range v.est {
			ests = append(ests, e)
		}
	}
	fmt.Fprintf(&b, "**%s**: %d runs\n\n| variant | metric | key | %s | seeds |\n|---|---|---|---|---|\n", rec.Name, len(rec.Runs), estimateHeader("mean", ests))
	for _, v := range agg.variants {
		for _, k := range v.metrics {
			if k.name != "utilization" && k.name != "job_time_sum_s" {
				continue
			}
			e := v.est[k]
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |\n", v.name, k.name, k.key, pm(e), e.N)
		}
	}
	if len(agg.speedups) > 0 {
		ests = nil
		for _, s := range agg.speedups {
			ests = append(ests, s.est)
		}
		fmt.Fprintf(&b, "\nSpeedup over %s: its sum of completion times over the variant's, of the jobs both completed (paired by job id within a seed); jobs are totals over the seeds:\n\n"+
			"| variant | framework | %s | seeds | jobs compared | completed (variant / %s) |\n|---|---|---|---|---|---|\n", rec.Baseline, estimateHeader("speedup", ests), rec.Baseline)
		for _, s := range agg.speedups {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s / %s |\n", s.variant, s.framework, pm(s.est), s.est.N, count(s.compared), count(s.completed), count(s.baseCompleted))
		}
	}
	b.WriteString(paperMarkdown(rec.Paper, rec.Baseline, paper))
	if agg.logHow != nil {
		b.WriteString(logMarkdown(agg.log, agg.logHow.Tolerance))
	}
	return b.String(), nil
}

// estimateHeader heads a column of estimates: with a confidence interval
// only if some estimate has one.
func estimateHeader(what string, ests []Estimate) string {
	for _, e := range ests {
		if e.N > 1 {
			return what + " ± 95% CI"
		}
	}
	return what + " (one seed)"
}

// pm writes an estimate as mean ± half-width, to 3 significant figures
// (whole numbers from 1,000 up).
func pm(e Estimate) string {
	if math.IsNaN(e.CI95) {
		return short(e.Mean)
	}
	return short(e.Mean) + " ± " + short(e.CI95)
}

func short(x float64) string {
	if math.Abs(x) >= 1000 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.3g", x)
}
