package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/apronlab/apron/sim"
)

// Options say how to run a study.
type Options struct {
	Dir     string // the results root; the study writes to Dir/<name>; default "results"
	Workers int    // runs at once; default GOMAXPROCS
	// Shard and Shards pick the runs of one shard: those whose index in
	// the matrix is Shard modulo Shards. Shards 0 runs them all.
	Shard, Shards int
	// Progress, if set, is called as runs finish or are found done.
	Progress func(done, total int)
	Version  string // apron's version, for the manifests
	// Live runs the study's live runs (backends: [live]); they run one at
	// a time, after the simulated ones.
	Live *Live
}

// Report says what Execute did.
type Report struct {
	Dir                 string // the study's results
	Ran, Skipped, Total int
	Aggregated          bool // every run of the study is done: aggregate and figures written
}

// runRecord is run.json, written when a run has finished: a later Execute
// skips a run whose record holds the same config hash.
type runRecord struct {
	Run
	Complete bool `json:"complete"`
}

// StudyDir is where a study's results go.
func StudyDir(root, name string) string {
	if root == "" {
		root = "results"
	}
	return filepath.Join(root, name)
}

// Execute runs the runs of the study (of one shard, if sharded) not
// already done with the same config, in parallel; then, if every run of
// the study is done, writes the aggregate and draws the figures. Cancelling
// ctx stops the runs in flight, which are run again next time.
func Execute(ctx context.Context, s *Study, opts Options) (Report, error) {
	runs, err := s.Runs()
	if err != nil {
		return Report{}, err
	}
	dir := StudyDir(opts.Dir, s.Name)
	rep := Report{Dir: dir}
	if err := writeStudy(dir, s, runs); err != nil {
		return rep, err
	}
	var todo []Run
	for i, r := range runs {
		if opts.Shards > 0 && i%opts.Shards != opts.Shard {
			continue
		}
		rep.Total++
		if done(dir, r) {
			rep.Skipped++
			continue
		}
		todo = append(todo, r)
	}
	if opts.Progress != nil {
		opts.Progress(rep.Skipped, rep.Total)
	}
	var simRuns, liveRuns []Run
	for _, r := range todo {
		if r.Backend == "live" {
			liveRuns = append(liveRuns, r)
		} else {
			simRuns = append(simRuns, r)
		}
	}
	if len(liveRuns) > 0 && opts.Live == nil {
		return rep, fmt.Errorf("the study has %d live runs; give the live master (apron run --master URL)", len(liveRuns))
	}
	if err := runAll(ctx, dir, simRuns, opts, rep.Skipped, rep.Total); err != nil {
		return rep, err
	}
	one := opts
	one.Workers = 1 // one live cluster: its runs take turns
	if err := runAll(ctx, dir, liveRuns, one, rep.Skipped+len(simRuns), rep.Total); err != nil {
		return rep, err
	}
	rep.Ran = len(todo)
	for _, r := range runs {
		if !done(dir, r) {
			return rep, nil // other shards still to run
		}
	}
	if err := Finish(dir); err != nil {
		return rep, err
	}
	rep.Aggregated = true
	return rep, nil
}

// runAll runs todo on opts.Workers goroutines; the first error cancels the
// others.
func runAll(ctx context.Context, dir string, todo []Run, opts Options, finished, total int) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan Run)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for range min(workers, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				err := runOne(ctx, dir, r, opts)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				if err == nil {
					finished++
					if opts.Progress != nil {
						opts.Progress(finished, total)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, r := range todo {
		if ctx.Err() != nil {
			break
		}
		jobs <- r
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// runOne runs one run, in the simulator or on the live cluster, into its
// folder and records it as done.
func runOne(ctx context.Context, dir string, r Run, opts Options) error {
	out := filepath.Join(dir, filepath.FromSlash(r.ID))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(out, "run.json"))
	if err := os.WriteFile(filepath.Join(out, "config.yaml"), r.Config, 0o644); err != nil {
		return err
	}
	var complete bool
	var err error
	if r.Backend == "live" {
		complete, err = opts.Live.run(ctx, r.cfg, r.Config, out, r.ID+"/config.yaml", opts.Version)
	} else {
		complete, err = simulate(ctx, r, out, opts.Version)
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	if !complete {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("run %s: stopped before its end", r.ID)
	}
	return writeJSON(filepath.Join(out, "run.json"), runRecord{Run: r, Complete: true})
}

// simulate runs r in the simulator.
func simulate(ctx context.Context, r Run, out, version string) (bool, error) {
	sm, err := sim.New(r.cfg)
	if err != nil {
		return false, err
	}
	res, err := sm.Run(ctx, sim.Options{Dir: out, Version: version})
	return res.Complete, err
}

// done reports whether r has finished with the same config.
func done(dir string, r Run) bool {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(r.ID), "run.json"))
	if err != nil {
		return false
	}
	var rec runRecord
	return json.Unmarshal(data, &rec) == nil && rec.Complete && rec.Hash == r.Hash
}

// studyRecord is study.json: the study's matrix, which aggregation and the
// figures read back.
type studyRecord struct {
	Name     string      `json:"name"`
	Baseline string      `json:"baseline"`
	Policies []string    `json:"policies"`
	Figures  []string    `json:"figures"`
	Formats  []string    `json:"formats"`
	Paper    *Paper      `json:"paper,omitempty"`
	Runs     []Run       `json:"runs"`
	Log      *LogCompare `json:"log,omitempty"`
}

func writeStudy(dir string, s *Study, runs []Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "study.json"), studyRecord{Name: s.Name, Baseline: s.Baseline, Policies: s.policyNames(),
		Figures: s.Figures, Formats: s.Formats, Paper: s.Paper, Runs: runs, Log: s.Log})
}

func readStudy(dir string) (studyRecord, error) {
	var rec studyRecord
	data, err := os.ReadFile(filepath.Join(dir, "study.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return rec, fmt.Errorf("%s: no study.json; want the results folder of a study (apron run writes it)", dir)
		}
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w", filepath.Join(dir, "study.json"), err)
	}
	return rec, nil
}

func writeJSON(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(data, '\n'), 0o644)
}
