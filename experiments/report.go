package experiments

import (
	"fmt"
	"math"
	"strings"
)

// Markdown returns a finished study's key numbers as Markdown, for
// notebooks and terminals: per variant the mean utilization of each
// resource and each framework's sum of job completion times, then the
// speedups over the baseline, with 95% confidence intervals.
func Markdown(dir string) (string, error) {
	rec, err := readStudy(dir)
	if err != nil {
		return "", err
	}
	agg, err := aggregate(dir, rec)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**: %d runs\n\n| variant | metric | key | mean ± 95%% CI | seeds |\n|---|---|---|---|---|\n", rec.Name, len(rec.Runs))
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
		fmt.Fprintf(&b, "\nSpeedup over %s (its sum of job completion times over the variant's):\n\n| variant | framework | speedup ± 95%% CI |\n|---|---|---|\n", rec.Baseline)
		for _, s := range agg.speedups {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", s.variant, s.framework, pm(s.est))
		}
	}
	return b.String(), nil
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
