package sim

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/apronlab/apron/internal/conf"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
	"github.com/apronlab/apron/traces/samples"
)

// TraceFiles names one trace table: its part files, read as one, and its
// format (detected from the content when empty). SkipBad skips malformed
// lines (counted in the manifest); MachineCPUs and MachineMemMiB size
// normalised traces.
type TraceFiles struct {
	Trace         []string `yaml:"trace" json:"trace,omitempty"`
	Format        string   `yaml:"format" json:"format,omitempty"`
	SkipBad       bool     `yaml:"skip_bad" json:"skip_bad,omitempty"`
	MachineCPUs   float64  `yaml:"machine_cpus" json:"machine_cpus,omitempty"`
	MachineMemMiB float64  `yaml:"machine_mem" json:"machine_mem,omitempty"`
}

// open opens the table, for its machines or its jobs; a path beginning
// $TRACES/ is a shipped sample or under $APRON_TRACES (samples.Resolve).
func (f TraceFiles) open(machines bool) (*traces.Table, error) {
	paths, err := samples.ResolveAll(f.Trace)
	if err != nil {
		return nil, err
	}
	opts := traces.Options{SkipBad: f.SkipBad, MachineCPUs: f.MachineCPUs, MachineMemMiB: f.MachineMemMiB}
	return traces.OpenTable(f.Format, machines, opts, paths...)
}

// Workload is a trace-driven (or generated) workload, streamed: its jobs
// are grouped into frameworks by GroupBy, each framework a batch (or gang)
// framework in role Role/<group>, created when its first job arrives.
type Workload struct {
	TraceFiles `yaml:",inline"` // a job trace, or none for a generator

	Generator string            `yaml:"generator" json:"generator,omitempty"` // google-scale or facebook-hadoop
	Custom    *traces.Generator `yaml:"custom" json:"custom,omitempty"`       // a generator spelled out
	Scale     float64           `yaml:"scale" json:"scale,omitempty"`         // fraction of the jobs (default 1)
	// TimeScale multiplies a trace's submit and think times: 0.01 submits
	// its jobs a hundred times as fast, task durations kept (default 1).
	TimeScale float64 `yaml:"time_scale" json:"time_scale,omitempty"`
	Seed      uint64  `yaml:"seed" json:"seed"`
	GroupBy   string  `yaml:"group_by" json:"group_by"` // one, user, queue or priority
	Kind      string  `yaml:"kind" json:"kind"`         // batch or gang
	// Backfill: see FwConfig (gang only).
	Backfill string `yaml:"backfill" json:"backfill,omitempty"`
	// Placement: see FwConfig (batch only).
	Placement string    `yaml:"placement" json:"placement,omitempty"`
	Role      string    `yaml:"role" json:"role"` // default "trace"
	Decision  *Decision `yaml:"decision" json:"decision,omitempty"`
	Refuse    Duration  `yaml:"refuse" json:"refuse,omitempty"`
	// IdleRefuse, ReviveAfter and Setup: see FwConfig.
	IdleRefuse  Duration `yaml:"idle_refuse" json:"idle_refuse,omitempty"`
	ReviveAfter Duration `yaml:"revive_after" json:"revive_after,omitempty"`
	Setup       Duration `yaml:"setup" json:"setup,omitempty"`
}

func (w *Workload) finish() error {
	if w.Role == "" {
		w.Role = "trace"
	}
	if w.Kind == "" {
		w.Kind = "batch"
	}
	if w.Scale == 0 {
		w.Scale = 1
	}
	switch {
	case w.GroupBy == "":
		w.GroupBy = "one"
	case w.GroupBy != "one" && w.GroupBy != "user" && w.GroupBy != "queue" && w.GroupBy != "priority":
		return conf.Errorf("workload.group_by", "%q; want one, user, queue or priority", w.GroupBy)
	}
	if w.Kind != "batch" && w.Kind != "gang" {
		return conf.Errorf("workload.kind", "%q; want batch or gang", w.Kind)
	}
	if _, err := w.Framework("check"); err != nil {
		return conf.At("workload", err)
	}
	if w.Scale < 0 || w.Scale > 1 || math.IsNaN(w.Scale) {
		return conf.Errorf("workload.scale", "%v; want a fraction from 0 to 1", w.Scale)
	}
	src, err := w.Jobs()
	if err != nil {
		return err
	}
	return src.Close()
}

// JobStream is a workload's open job stream, in submit order.
type JobStream struct {
	traces.Source
	table *traces.Table // nil for a generator
}

func (j JobStream) Close() error {
	if j.table != nil {
		return j.table.Close()
	}
	return nil
}

// Skipped returns the malformed lines a trace reader skipped.
func (j JobStream) Skipped() int64 {
	if j.table != nil {
		return j.table.Stats().Skipped
	}
	return 0
}

// Jobs opens the workload's job stream; close it when done.
func (w *Workload) Jobs() (JobStream, error) {
	if len(w.Trace) > 0 {
		t, err := w.open(false)
		if err != nil {
			return JobStream{}, conf.At("workload.trace", err)
		}
		if t.Jobs == nil {
			t.Close()
			return JobStream{}, conf.Errorf("workload.trace", "%s holds machines, not jobs", w.Trace[0])
		}
		src, err := traces.Slice{Fraction: w.Scale, Seed: w.Seed, TimeScale: w.TimeScale}.Jobs(t.Jobs)
		if err != nil {
			t.Close()
			return JobStream{}, conf.At("workload.scale", err)
		}
		return JobStream{src, t}, nil
	}
	var g traces.Generator
	switch {
	case w.Custom != nil:
		g = *w.Custom
	case w.Generator == "google-scale":
		g = traces.GoogleScale(w.Seed)
	case w.Generator == "facebook-hadoop":
		g = traces.FacebookHadoop(w.Seed)
	default:
		return JobStream{}, conf.Errorf("workload.generator", "%q; want google-scale or facebook-hadoop, a custom generator, or a trace", w.Generator)
	}
	if g.Jobs = int(math.Round(float64(g.JobCount()) * w.Scale)); g.Jobs == 0 {
		return JobStream{Source: traces.Jobs(nil).Source()}, nil // none kept (with classes, 0 would mean all)
	}
	src, err := g.Source()
	return JobStream{Source: src}, conf.At("workload", err)
}

// Group names the group a job belongs to, by GroupBy.
func (w *Workload) Group(j *traces.Job) string {
	g := "all"
	switch w.GroupBy {
	case "user":
		g = j.User
	case "queue":
		g = j.Group
	case "priority":
		g = "p" + strconv.Itoa(j.Priority)
	}
	if g == "" {
		return "unknown" // the trace does not say
	}
	return g
}

// feed streams the workload: one job is read ahead at a time and handed to
// its group's framework at its submit time.
type feed struct {
	s      *Sim
	w      *Workload
	src    JobStream
	groups map[string]*group
	order  []*group
	err    error
	done   bool // every job has been handed out
}

func (s *Sim) startWorkload() error {
	w := s.cfg.Workload
	if w == nil {
		return nil
	}
	src, err := w.Jobs()
	if err != nil {
		return err
	}
	s.feed = &feed{s: s, w: w, src: src, groups: map[string]*group{}}
	s.feed.next()
	return nil
}

func (f *feed) next() {
	j, err := f.src.Next()
	if err != nil {
		if err != io.EOF {
			f.err = err
		}
		if len(f.order) == 0 {
			f.done = true
			return
		}
		// Done once the last job is handed over: its Feed is an event
		// already queued, and a cycle run before it would find every
		// framework idle and end the run without it.
		order := f.order
		f.order = nil
		f.s.eng.After(0, func() {
			for _, g := range order {
				g.f.call(g.b.Close)
			}
			f.done = true
		})
		return
	}
	f.s.eng.At(j.Submit, func() {
		g, err := f.framework(f.w.Group(j))
		if err != nil {
			f.err = err
			f.s.eng.Stop()
			return
		}
		// As an event: a framework created just now subscribes first.
		f.s.eng.After(0, func() { g.f.call(func() { g.b.Feed(j) }) })
		f.next()
	})
}

type group struct {
	f *fw
	b *framework.Batch
}

// framework returns the group's framework, creating it on first use.
func (f *feed) framework(name string) (*group, error) {
	if g := f.groups[name]; g != nil {
		return g, nil
	}
	fc, err := f.w.Framework(name)
	if err != nil {
		return nil, err
	}
	if err := f.s.addFramework(fc, nil, f.w.Seed+uint64(len(f.order))); err != nil {
		return nil, fmt.Errorf("workload group %s: %w", name, err)
	}
	g := &group{f: f.s.fws[len(f.s.fws)-1], b: f.s.batches[len(f.s.batches)-1]}
	f.groups[name] = g
	f.order = append(f.order, g)
	return g, nil
}

// Framework is the config of the framework that runs a group's jobs: named
// after the group in role Role/<group>, or the workload's role itself when
// every job is one group.
func (w *Workload) Framework(group string) (FwConfig, error) {
	name, role := w.Role, w.Role
	if w.GroupBy != "one" {
		name, role = group, w.Role+"/"+group
	}
	fc := FwConfig{Name: name, Role: role, Kind: w.Kind, Decision: w.Decision, Refuse: w.Refuse,
		IdleRefuse: w.IdleRefuse, ReviveAfter: w.ReviveAfter, Setup: w.Setup, Backfill: w.Backfill, Placement: w.Placement}
	return fc, fc.finish()
}
