package faultsim

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	seeds  = flag.Int("faultsim.seeds", 200, "schedules to run, seeds 1..N")
	only   = flag.Uint64("faultsim.seed", 0, "run only this seed (a failure's replay), with its whole trace")
	report = flag.String("faultsim.report", "", "write a summary of the schedules (JSON) to this file")
)

// Summary is what a run of many schedules did, for docs/reliability.md.
type Summary struct {
	Schedules  int            `json:"schedules"`
	Failed     int            `json:"failed"`
	Tasks      int            `json:"tasks"`
	Steps      int            `json:"steps"`
	Virtual    string         `json:"virtual_time"`
	Wall       string         `json:"wall_time"`
	Faults     map[string]int `json:"faults"`
	Operations map[string]int `json:"operations"`
	FirstFails []uint64       `json:"failing_seeds,omitempty"`
}

// TestSchedules runs seeded schedules of faults against the master's and
// agents' cores, on every core, and checks every promise after each: a
// lone master that keeps everything in memory. A failure prints its seed
// and the end of its trace; replay it with
// go test ./runtime/faultsim -run TestSchedules -faultsim.seed N.
func TestSchedules(t *testing.T) { runSchedules(t, Options{Masters: 1}, "") }

// TestReplicatedSchedules is the same with three masters replicating
// their registry over raft: leaders are killed and partitioned from the
// others too.
func TestReplicatedSchedules(t *testing.T) {
	runSchedules(t, Options{Masters: 3}, "-replicated")
}

func runSchedules(t *testing.T, base Options, suffix string) {
	from, to := uint64(1), uint64(*seeds)
	if *only != 0 {
		from, to = *only, *only
	}
	start := time.Now()
	sum := Summary{Faults: map[string]int{}, Operations: map[string]int{}}
	var virtual time.Duration
	var mu sync.Mutex
	next := from
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				mu.Lock()
				seed := next
				next++
				stop := seed > to || sum.Failed >= 3
				mu.Unlock()
				if stop {
					return
				}
				opts := base
				opts.Seed = seed
				if *only != 0 {
					opts.TraceLines = 100000
				}
				r := Run(opts)
				mu.Lock()
				sum.Schedules++
				sum.Tasks += r.Tasks
				sum.Steps += r.Steps
				virtual += r.Virtual
				for k, n := range r.Faults {
					sum.Faults[k] += n
				}
				for k, n := range r.Operations {
					sum.Operations[k] += n
				}
				if len(r.Violations) > 0 {
					sum.Failed++
					sum.FirstFails = append(sum.FirstFails, seed)
					t.Errorf("seed %d: %s\n(replay: go test ./runtime/faultsim -run %s -faultsim.seed %d)\ntrace:\n%s",
						seed, strings.Join(r.Violations, "\n"), t.Name(), seed, strings.Join(r.Trace, "\n"))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sum.Virtual, sum.Wall = virtual.Round(time.Second).String(), time.Since(start).Round(time.Millisecond).String()
	t.Logf("%d schedules in %s (%s simulated): %d tasks, %d failed; faults: %v; operations: %v", sum.Schedules, sum.Wall, sum.Virtual, sum.Tasks, sum.Failed, sum.Faults, sum.Operations)
	if *report != "" {
		data, _ := json.MarshalIndent(sum, "", "  ")
		file := strings.TrimSuffix(*report, ".json") + suffix + ".json"
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The same seed gives the same schedule, event for event.
func TestDeterministic(t *testing.T) {
	for _, o := range []Options{{Seed: 3}, {Seed: 17}, {Seed: 5, Masters: 3}} {
		o.TraceLines = 1 << 20
		seed := o.Seed
		a, b := Run(o), Run(o)
		if a.Steps != b.Steps || fmt.Sprint(a.Faults) != fmt.Sprint(b.Faults) || strings.Join(a.Trace, "\n") != strings.Join(b.Trace, "\n") {
			t.Errorf("seed %d: %d and %d steps, faults %v and %v", seed, a.Steps, b.Steps, a.Faults, b.Faults)
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
