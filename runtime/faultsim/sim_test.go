package faultsim

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	seeds = flag.Int("faultsim.seeds", 200, "schedules to run, seeds 1..N")
	only  = flag.Uint64("faultsim.seed", 0, "run only this seed (a failure's replay), with its whole trace")
)

// TestSchedules runs seeded schedules of faults against the master's and
// agents' cores and checks every promise after each. A failure prints its
// seed and the end of its trace; replay it with
// go test ./runtime/faultsim -run TestSchedules -faultsim.seed N.
func TestSchedules(t *testing.T) {
	from, to := uint64(1), uint64(*seeds)
	if *only != 0 {
		from, to = *only, *only
	}
	faults := map[string]int{}
	tasks, failed := 0, 0
	start := time.Now()
	for seed := from; seed <= to; seed++ {
		opts := Options{Seed: seed}
		if *only != 0 {
			opts.TraceLines = 100000
		}
		r := Run(opts)
		tasks += r.Tasks
		for k, n := range r.Faults {
			faults[k] += n
		}
		if len(r.Violations) > 0 {
			failed++
			t.Errorf("seed %d: %s\n(replay: go test ./runtime/faultsim -run TestSchedules -faultsim.seed %d)\ntrace:\n%s",
				seed, strings.Join(r.Violations, "\n"), seed, strings.Join(r.Trace, "\n"))
			if failed >= 3 {
				break
			}
		}
	}
	t.Logf("%d schedules in %v: %d tasks, %d failed; faults: %v", to-from+1, time.Since(start).Round(time.Millisecond), tasks, failed, faults)
}

// The same seed gives the same schedule, event for event.
func TestDeterministic(t *testing.T) {
	for _, seed := range []uint64{3, 17} {
		a, b := Run(Options{Seed: seed, TraceLines: 1 << 20}), Run(Options{Seed: seed, TraceLines: 1 << 20})
		if a.Steps != b.Steps || fmt.Sprint(a.Faults) != fmt.Sprint(b.Faults) {
			t.Errorf("seed %d: %d and %d steps, faults %v and %v", seed, a.Steps, b.Steps, a.Faults, b.Faults)
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
