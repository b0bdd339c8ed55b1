package sim_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/apronlab/apron/sim"
)

// BenchmarkGoogleScaleMonth runs the built-in google-scale scenario: 12,500
// agents and about 25 million tasks over 29 simulated days, streamed, DRF
// with two-level offers. One iteration is one whole run; use
// -benchtime=1x. APRON_BENCH_SCALE runs a fraction of the jobs (for
// profiling).
func BenchmarkGoogleScaleMonth(b *testing.B) {
	cfg, err := sim.LoadConfig("google-scale")
	if err != nil {
		b.Fatal(err)
	}
	if v := os.Getenv("APRON_BENCH_SCALE"); v != "" {
		if cfg.Workload.Scale, err = strconv.ParseFloat(v, 64); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		s, err := sim.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		res, err := s.Run(context.Background(), sim.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Events)/res.Wall.Seconds(), "events/s")
		b.ReportMetric(res.Simulated.Hours()/24, "simulated-days")
		b.ReportMetric(res.Simulated.Seconds()/res.Wall.Seconds(), "sim-s/wall-s")
	}
}
