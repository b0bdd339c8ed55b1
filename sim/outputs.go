package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"gonum.org/v1/gonum/stat"
)

// outputs are the files of a run directory.
type outputs struct {
	dir      string
	ts, jobs *os.File
}

func createOutputs(dir string) (*outputs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	o := &outputs{dir: dir}
	var err error
	if o.ts, err = os.Create(filepath.Join(dir, "timeseries.csv")); err != nil {
		return nil, err
	}
	if o.jobs, err = os.Create(filepath.Join(dir, "jobs.csv")); err != nil {
		o.ts.Close()
		return nil, err
	}
	return o, nil
}

func (o *outputs) close() {
	o.ts.Close()
	o.jobs.Close()
}

// Summary is summary.json.
type Summary struct {
	Complete bool `json:"complete"`
	// StalledAt: the run stopped here with jobs waiting and nothing that
	// could change (a gang holding offers for ever, say); absent if not.
	StalledAt  float64            `json:"stalled_at_s,omitempty"`
	Makespan   float64            `json:"makespan_s"`
	Simulated  float64            `json:"simulated_s"`
	Cluster    ClusterSummary     `json:"cluster"`
	Frameworks []FrameworkSummary `json:"frameworks"`
}

// ClusterSummary is the cluster part of summary.json.
type ClusterSummary struct {
	Agents int `json:"agents"`
	// MachineEventErrors counts machine events that could not apply (an
	// agent added twice or removed when absent); the first is described.
	MachineEventErrors int                `json:"machine_event_errors,omitempty"`
	FirstMachineError  string             `json:"first_machine_error,omitempty"`
	Utilization        map[string]float64 `json:"mean_utilization"` // used / total, time-averaged, per resource
}

// FrameworkSummary is one framework in summary.json.
type FrameworkSummary struct {
	Name          string         `json:"name"`
	Role          string         `json:"role"`
	Jobs          int            `json:"jobs"`
	Completed     int            `json:"jobs_completed"`
	Unschedulable int            `json:"jobs_unschedulable"`
	Reasons       map[string]int `json:"unschedulable_reasons,omitempty"`
	Tasks         int            `json:"tasks"`
	Wait          Dist           `json:"wait_s"`
	Completion    Dist           `json:"completion_s"`
	SumCompletion float64        `json:"sum_completion_s"`
	Slowdown      Dist           `json:"slowdown"`
	Busy          float64        `json:"busy_fraction"`
	LocalityHits  int            `json:"locality_hits"`
	LocalityTotal int            `json:"locality_launches"`
}

// Dist summarises a distribution.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
}

func dist(xs []float64) Dist {
	if len(xs) == 0 {
		return Dist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, s, nil) }
	return Dist{N: len(s), Mean: stat.Mean(s, nil), P50: q(0.5), P95: q(0.95), P99: q(0.99)}
}

// FwStats is what the driver of a run knows of a framework besides its
// jobs: the simulator counts it, the live backend's scheduler driver too.
type FwStats struct {
	Tasks, Offers, Launched, Declined, Rescinded int
	Busy                                         time.Duration // deciding
	LocalityHits, LocalityTotal                  int
}

// finish writes frameworks.csv, summary.json and manifest.json.
func (o *outputs) finish(sum Summary, stats []FwStats, man any) error {
	if err := o.writeFrameworks(sum, stats); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(o.dir, "summary.json"), sum); err != nil {
		return err
	}
	return writeJSON(filepath.Join(o.dir, "manifest.json"), man)
}

// fwStats is the simulator's count of each framework, in order.
func (s *Sim) fwStats() []FwStats {
	out := make([]FwStats, len(s.fws))
	for i, f := range s.fws {
		st := FwStats{Tasks: f.stats.tasks, Offers: f.stats.offers, Launched: f.stats.launched, Declined: f.stats.declined,
			Rescinded: f.stats.rescinded, Busy: f.busy}
		if b, ok := f.sched.(interface{ Locality() (int, int) }); ok {
			st.LocalityHits, st.LocalityTotal = b.Locality()
		}
		out[i] = st
	}
	return out
}

// summary is summary.json of a run over span with agents agents; stats
// are the frameworks' in the order the recorder was told of them.
func (r *recorder) summary(complete bool, span, stalled time.Duration, agents int, stats []FwStats) Summary {
	out := Summary{Complete: complete, StalledAt: stalled.Seconds(), Makespan: r.makesp.Seconds(), Simulated: span.Seconds(),
		Cluster: ClusterSummary{Agents: agents, Utilization: map[string]float64{}}}
	if r.machineErrs > 0 {
		out.Cluster.MachineEventErrors, out.Cluster.FirstMachineError = r.machineErrs, r.firstMachineErr.Error()
	}
	for _, name := range r.names {
		if g := r.find(name); span > 0 && g.total > 0 {
			out.Cluster.Utilization[name] = g.area / span.Seconds() / g.total
		}
	}
	for i, f := range r.fws {
		fr, st := r.perFw[f.id], stats[i]
		fs := FrameworkSummary{Name: string(f.id), Role: f.role, Jobs: fr.jobs, Completed: fr.completed, Unschedulable: fr.unschedulable,
			Tasks: st.Tasks, Wait: dist(fr.waits), Completion: dist(fr.completions), Slowdown: dist(fr.slowdowns),
			LocalityHits: st.LocalityHits, LocalityTotal: st.LocalityTotal}
		if len(fr.reasons) > 0 {
			fs.Reasons = fr.reasons
		}
		for _, c := range fr.completions {
			fs.SumCompletion += c
		}
		if span > 0 {
			fs.Busy = st.Busy.Seconds() / span.Seconds()
		}
		out.Frameworks = append(out.Frameworks, fs)
	}
	return out
}

func (o *outputs) writeFrameworks(sum Summary, stats []FwStats) error {
	f, err := os.Create(filepath.Join(o.dir, "frameworks.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write([]string{"framework", "role", "jobs", "jobs_completed", "jobs_unschedulable", "tasks", "offers", "launches", "declines", "rescinds",
		"busy_fraction", "locality_hits", "locality_launches", "mean_wait_s", "mean_completion_s", "sum_completion_s"})
	for i, fs := range sum.Frameworks {
		st := stats[i]
		_ = w.Write([]string{fs.Name, fs.Role, itoa(fs.Jobs), itoa(fs.Completed), itoa(fs.Unschedulable), itoa(fs.Tasks), itoa(st.Offers), itoa(st.Launched),
			itoa(st.Declined), itoa(st.Rescinded), num(fs.Busy), itoa(fs.LocalityHits), itoa(fs.LocalityTotal), num(fs.Wait.Mean), num(fs.Completion.Mean), num(fs.SumCompletion)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }

// Manifest is manifest.json: everything needed to reproduce the run, and
// how fast it went. Only the wall-clock fields differ between runs.
type Manifest struct {
	Version          string           `json:"apron_version"`
	Backend          string           `json:"backend"`
	Seed             uint64           `json:"seed"`
	Complete         bool             `json:"complete"`
	Config           *Config          `json:"config"`
	Allocator        allocator.Config `json:"allocator"`
	Compress         float64          `json:"compress,omitempty"` // live: framework seconds per wall second
	Events           uint64           `json:"events"`
	SkippedLines     int64            `json:"trace_skipped_lines"`
	Simulated        float64          `json:"simulated_s"`
	Wall             float64          `json:"wall_s"`
	EventsPerSecond  float64          `json:"events_per_wall_s"`
	SimPerWallSecond float64          `json:"simulated_s_per_wall_s"`
}

func manifest(s *Sim, res Result, version string) Manifest {
	m := Manifest{Version: version, Backend: "sim", Seed: s.cfg.Seed, Complete: res.Complete, Config: s.cfg, Allocator: s.alloc.Config(),
		Events: res.Events, SkippedLines: res.SkippedLines, Simulated: res.Simulated.Seconds(), Wall: res.Wall.Seconds()}
	if w := res.Wall.Seconds(); w > 0 {
		m.EventsPerSecond = float64(res.Events) / w
		m.SimPerWallSecond = res.Simulated.Seconds() / w
	}
	return m
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
