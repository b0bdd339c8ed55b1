package experiments

import (
	"context"
	"testing"
)

// BenchmarkStudy runs a built-in study whole, as `apron run` does: every
// simulated run (in parallel, one per core), then the aggregate and the
// figures, into a fresh directory each iteration. Use -benchtime 1x or a
// few iterations.
func BenchmarkStudy(b *testing.B) {
	for _, name := range []string{"openb-gpu"} {
		b.Run(name, func(b *testing.B) {
			s, err := Load(name, nil)
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				rep, err := Execute(context.Background(), s, Options{Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				if !rep.Aggregated || rep.Ran != rep.Total {
					b.Fatalf("ran %d of %d runs, aggregated %v", rep.Ran, rep.Total, rep.Aggregated)
				}
			}
		})
	}
}
