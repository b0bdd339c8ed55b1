package sim_test

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/sim"
)

// The Mesos paper's analytic model (Hindman et al., NSDI 2011, section 4.2
// and table 2): a framework entitled to k slots arrives at a cluster whose k
// slots are all busy with other tasks of mean duration T; its job needs
// beta*k*T of work. The background tasks are laid out deterministically at
// the expected order statistics of their residual lives: uniform on [0, T]
// for constant durations, E[X_(i)] = T (1/k + ... + 1/(k-i+1)) for
// exponential ones, whose largest is T*H_k. The paper approximates that
// expected wait for the last slot by T ln k; H_k is exact, and the test
// uses it.

const (
	slotsK  = 20
	meanT   = 100 * time.Second
	beta    = 2.0
	submit  = time.Second     // the job arrives once the background holds every slot
	quantum = 2 * time.Second // an elastic job's tasks: short next to T
)

func residuals(exponential bool) []time.Duration {
	out := make([]time.Duration, slotsK)
	h := 0.0
	for i := range slotsK {
		if exponential {
			h += 1 / float64(slotsK-i)
			out[i] = time.Duration(h * float64(meanT))
		} else {
			out[i] = time.Duration((float64(i) + 0.5) / slotsK * float64(meanT))
		}
	}
	return out
}

func harmonic(k int) float64 {
	h := 0.0
	for i := 1; i <= k; i++ {
		h += 1 / float64(i)
	}
	return h
}

// modelConfig builds the cluster: k agents of one slot, a background
// framework whose tasks end at the given residual lives after submit, and
// the framework under study.
func modelConfig(kind string, res []time.Duration) *sim.Config {
	slot := sim.Resources{Resources: allocator.MustParseResources("cpus:1;mem:1024")}
	zero := &sim.Decision{}
	var bg []sim.Duration
	for _, r := range res {
		bg = append(bg, sim.Duration(submit+r))
	}
	job := sim.JobSpec{Submit: sim.Duration(submit), Task: slot}
	if kind == "gang" {
		job.Tasks, job.Duration = slotsK, sim.Duration(time.Duration(beta*float64(meanT)))
	} else {
		job.Tasks, job.Duration = int(beta*slotsK*float64(meanT/quantum)), sim.Duration(quantum)
	}
	return &sim.Config{
		Seed:      1,
		Allocator: sim.AllocConfig{Policy: "drf", AllocationInterval: sim.Duration(10 * time.Millisecond)},
		Cluster:   []sim.Group{{Name: "slot", Count: slotsK, Resources: slot}},
		Frameworks: []sim.FwConfig{
			{Name: "background", Role: "bg", Kind: "batch", Decision: zero, Jobs: []sim.JobSpec{{Task: slot, Durations: bg}}},
			{Name: "study", Role: "study", Kind: kind, Decision: zero, Jobs: []sim.JobSpec{job}},
		},
	}
}

type jobRow struct{ submit, first, last float64 }

func runModel(t *testing.T, cfg *sim.Config) jobRow {
	t.Helper()
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := s.Run(context.Background(), sim.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	rows := testutil.ReadCSV(t, filepath.Join(dir, "jobs.csv"))
	for _, r := range rows[1:] {
		if r[0] == "study" {
			f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
			return jobRow{f(r[2]), f(r[3]), f(r[4])}
		}
	}
	t.Fatal("no job row for the study framework")
	return jobRow{}
}

func TestMesosAnalyticModel(t *testing.T) {
	T := meanT.Seconds()
	// Elastic, exponential: slot i frees at X_i and the work done by t is
	// the sum of (t - X_i)+; completion solves that sum = beta k T. With
	// expected order statistics for X_i it is close to the paper's (1+beta)T.
	elasticExp := func() float64 {
		xs := residuals(true)
		lo, hi := 0.0, 10*T
		for range 100 {
			mid := (lo + hi) / 2
			work := 0.0
			for _, x := range xs {
				work += max(0, mid-x.Seconds())
			}
			if work < beta*slotsK*T {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo
	}()
	for _, tc := range []struct {
		name        string
		kind        string
		exponential bool
		rampUp      float64 // time until the job holds all k slots (rigid: until it starts)
		completion  float64
	}{
		// Elastic, constant: completion (1/2 + beta) T.
		{"elastic/constant", "batch", false, math.NaN(), (0.5 + beta) * T},
		{"elastic/exponential", "batch", true, math.NaN(), elasticExp},
		// Rigid, constant: ramp-up T, completion (1 + beta) T; with k slots
		// the last uniform residual laid out here is T (k - 1/2)/k.
		{"rigid/constant", "gang", false, T * (slotsK - 0.5) / slotsK, T*(slotsK-0.5)/slotsK + beta*T},
		// Rigid, exponential: ramp-up T H_k, completion (H_k + beta) T.
		{"rigid/exponential", "gang", true, T * harmonic(slotsK), (harmonic(slotsK) + beta) * T},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := runModel(t, modelConfig(tc.kind, residuals(tc.exponential)))
			completion := row.last - row.submit
			if !math.IsNaN(tc.rampUp) {
				if ramp := row.first - row.submit; math.Abs(ramp-tc.rampUp) > 0.01*tc.rampUp {
					t.Errorf("ramp-up %.2fs; model %.2fs", ramp, tc.rampUp)
				}
			}
			if math.Abs(completion-tc.completion) > 0.02*tc.completion {
				t.Errorf("completion %.2fs; model %.2fs", completion, tc.completion)
			}
			if tc.kind == "gang" && !tc.exponential {
				// Utilization of the slots the rigid framework holds, from
				// when each frees until the job ends: beta / (1/2 + beta).
				held := 0.0
				for _, r := range residuals(false) {
					held += completion - r.Seconds()
				}
				if u, want := beta*slotsK*T/held, beta/(0.5+beta); math.Abs(u-want) > 0.02 {
					t.Errorf("utilization %.3f; model %.3f", u, want)
				}
			}
			t.Logf("%s: first task %.2fs after submit, completion %.2fs (model %.2fs)", tc.name, row.first-row.submit, completion, tc.completion)
		})
	}
}
