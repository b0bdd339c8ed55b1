package traces

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Dist is a distribution of non-negative numbers, drawn through gonum's
// distuv. Kind is one of:
//   - const: always Mean
//   - exp: exponential of mean Mean
//   - lognormal: exp(N(Mu, Sigma))
//   - pareto: Pareto of scale Min and shape Alpha
//   - uniform: uniform on [Lo, Hi]
//   - empirical: one of Values, with probabilities proportional to Weights
type Dist struct {
	Kind    string    `yaml:"kind" json:"kind"`
	Mean    float64   `yaml:"mean" json:"mean,omitempty"`
	Mu      float64   `yaml:"mu" json:"mu,omitempty"`
	Sigma   float64   `yaml:"sigma" json:"sigma,omitempty"`
	Min     float64   `yaml:"min" json:"min,omitempty"`
	Alpha   float64   `yaml:"alpha" json:"alpha,omitempty"`
	Lo      float64   `yaml:"lo" json:"lo,omitempty"`
	Hi      float64   `yaml:"hi" json:"hi,omitempty"`
	Values  []float64 `yaml:"values" json:"values,omitempty"`
	Weights []float64 `yaml:"weights" json:"weights,omitempty"`
}

type sampler func() float64

// Sampler returns a function that draws from d with src, or why d is not
// a distribution.
func (d Dist) Sampler(src rand.Source) (func() float64, error) { return d.sampler(src) }

func (d Dist) sampler(src rand.Source) (sampler, error) {
	switch d.Kind {
	case "", "const":
		return func() float64 { return d.Mean }, nil
	case "exp":
		if d.Mean <= 0 {
			return nil, fmt.Errorf("exp: mean %v; want a positive mean", d.Mean)
		}
		e := distuv.Exponential{Rate: 1 / d.Mean, Src: src}
		return e.Rand, nil
	case "lognormal":
		if d.Sigma < 0 {
			return nil, fmt.Errorf("lognormal: sigma %v; want 0 or more", d.Sigma)
		}
		l := distuv.LogNormal{Mu: d.Mu, Sigma: d.Sigma, Src: src}
		return l.Rand, nil
	case "pareto":
		if d.Min <= 0 || d.Alpha <= 0 {
			return nil, fmt.Errorf("pareto: min %v, alpha %v; want both positive", d.Min, d.Alpha)
		}
		p := distuv.Pareto{Xm: d.Min, Alpha: d.Alpha, Src: src}
		return p.Rand, nil
	case "uniform":
		if d.Hi < d.Lo {
			return nil, fmt.Errorf("uniform: hi %v below lo %v", d.Hi, d.Lo)
		}
		u := distuv.Uniform{Min: d.Lo, Max: d.Hi, Src: src}
		return u.Rand, nil
	case "empirical":
		if len(d.Values) == 0 || len(d.Values) != len(d.Weights) {
			return nil, fmt.Errorf("empirical: %d values and %d weights; want as many of each, at least one", len(d.Values), len(d.Weights))
		}
		c := distuv.NewCategorical(d.Weights, src)
		return func() float64 { return d.Values[int(c.Rand())] }, nil
	}
	return nil, fmt.Errorf("distribution kind %q: want const, exp, lognormal, pareto, uniform or empirical", d.Kind)
}

// Generator describes a synthetic workload: Jobs jobs arriving with the
// given inter-arrival times (seconds; exp makes a Poisson process), each
// with a number of tasks, and per task a duration (seconds) and resources.
// Jobs are spread over Users users (Zipf, s = 1.1) and Queues queues.
//
// With Chain above 1 the workload is closed-loop: jobs come in chains of
// Chain (the last may be shorter), each chain a user's session. The first
// job of a chain arrives by the inter-arrival times; each next one is
// submitted Think (seconds, drawn per job) after the previous one ends.
// A chain has one user and one queue.
type Generator struct {
	Seed         uint64 `yaml:"seed" json:"seed"`
	Jobs         int    `yaml:"jobs" json:"jobs"`
	Interarrival Dist   `yaml:"interarrival" json:"interarrival"`
	Tasks        Dist   `yaml:"tasks" json:"tasks"`
	MaxTasks     int    `yaml:"max_tasks" json:"max_tasks"` // 0: no cap
	Duration     Dist   `yaml:"duration" json:"duration"`
	CPUs         Dist   `yaml:"cpus" json:"cpus"`
	MemMiB       Dist   `yaml:"mem" json:"mem"`
	GPUs         Dist   `yaml:"gpus" json:"gpus"`
	Users        int    `yaml:"users" json:"users"`
	Queues       int    `yaml:"queues" json:"queues"`
	Chain        int    `yaml:"chain" json:"chain,omitempty"` // jobs per closed-loop chain; 0 or 1: open loop
	Think        Dist   `yaml:"think" json:"think,omitzero"`  // seconds between a job's end and the next of its chain
}

// Source returns the generated jobs as a stream: each job is drawn when it
// is read, so a generator of any size runs in constant memory.
func (g Generator) Source() (Source, error) {
	r := rand.New(rand.NewPCG(g.Seed, 0x67656e))
	gs := &genSource{g: g, rng: r}
	var err error
	for _, s := range []struct {
		name string
		d    Dist
		out  *sampler
	}{{"interarrival", g.Interarrival, &gs.gap}, {"tasks", g.Tasks, &gs.tasks}, {"duration", g.Duration, &gs.dur},
		{"cpus", g.CPUs, &gs.cpus}, {"mem", g.MemMiB, &gs.mem}, {"gpus", g.GPUs, &gs.gpus}, {"think", g.Think, &gs.think}} {
		if *s.out, err = s.d.sampler(r); err != nil {
			return nil, fmt.Errorf("generator %s: %w", s.name, err)
		}
	}
	if g.Jobs < 0 {
		return nil, fmt.Errorf("generator jobs %d: want 0 or more", g.Jobs)
	}
	if g.Chain < 0 {
		return nil, fmt.Errorf("generator chain %d: want 0 or more jobs per chain (0 or 1: open loop)", g.Chain)
	}
	if g.Users > 1 {
		gs.users = rand.NewZipf(r, 1.1, 1, uint64(g.Users-1))
	}
	return gs, nil
}

type genSource struct {
	g                                       Generator
	rng                                     *rand.Rand
	gap, tasks, dur, cpus, mem, gpus, think sampler
	users                                   *rand.Zipf
	n                                       int
	at                                      float64
	prev                                    *Job // the previous job, in a chain
}

func (s *genSource) Next() (*Job, error) {
	if s.n >= s.g.Jobs {
		return nil, io.EOF
	}
	chained := s.g.Chain > 1 && s.n%s.g.Chain != 0
	if s.n > 0 && !chained {
		s.at += s.gap()
	}
	s.n++
	j := &Job{ID: fmt.Sprintf("j%d", s.n), Submit: seconds(s.at)}
	switch {
	case chained:
		j.User, j.Group = s.prev.User, s.prev.Group
		j.After, j.Think = s.prev.ID, seconds(max(0, s.think()))
	default:
		if s.users != nil {
			j.User = fmt.Sprintf("u%d", s.users.Uint64())
		}
		if s.g.Queues > 1 {
			j.Group = fmt.Sprintf("q%d", s.rng.IntN(s.g.Queues))
		}
	}
	s.prev = j
	n := max(1, int(math.Round(s.tasks())))
	if s.g.MaxTasks > 0 {
		n = min(n, s.g.MaxTasks)
	}
	j.Tasks = make([]Task, n)
	for i := range j.Tasks {
		j.Tasks[i] = Task{Duration: seconds(s.dur()), Resources: Resources{CPUs: s.cpus(), MemMiB: s.mem(), GPUs: s.gpus()}}
	}
	return j, nil
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// GoogleScale is a workload of the scale of the Google 2011 cluster trace:
// about 25 million tasks in about 680,000 jobs over 29 days, for 12,500
// machines (GoogleScaleMachines). Tasks per job are lognormal (median 5,
// mean about 37, capped at 20,000); durations lognormal (median 30 min,
// mean about 1.8 h); CPU and memory requests from small discrete sets.
// The shape is assumed, not fitted to the trace: it is for measuring the
// simulator at scale, and loads the cluster at about 30% of its CPUs.
func GoogleScale(seed uint64) Generator {
	return Generator{
		Seed:         seed,
		Jobs:         683_000,
		Interarrival: Dist{Kind: "exp", Mean: 29 * 86400 / 683_000.0},
		Tasks:        Dist{Kind: "lognormal", Mu: 1.6, Sigma: 2},
		MaxTasks:     20_000,
		Duration:     Dist{Kind: "lognormal", Mu: 7.5, Sigma: 1.6},
		CPUs:         Dist{Kind: "empirical", Values: []float64{0.25, 0.5, 1, 2, 4}, Weights: []float64{0.3, 0.3, 0.2, 0.15, 0.05}},
		MemMiB:       Dist{Kind: "empirical", Values: []float64{256, 512, 1024, 2048, 4096}, Weights: []float64{0.2, 0.3, 0.3, 0.15, 0.05}},
		Users:        900,
		Queues:       4,
	}
}

// GoogleScaleMachines is the cluster for GoogleScale: 12,500 machines of
// 16 CPUs and 64 GiB.
const GoogleScaleMachines = 12_500

// FacebookHadoop is the Facebook Hadoop mix of the Mesos paper's
// macrobenchmark (Hindman et al. 2011, table 3): 100 jobs over about 25
// minutes, mean inter-arrival 14 s, with job sizes from the paper's bins of
// map and reduce tasks. The paper gives no task durations or sizes: tasks
// here take 1 CPU and 1 GiB and run for a lognormal time of median 30 s, an
// assumption.
func FacebookHadoop(seed uint64) Generator {
	// Bins: maps+reduces per job, weighted by the number of jobs in the bin.
	return Generator{
		Seed:         seed,
		Jobs:         100,
		Interarrival: Dist{Kind: "exp", Mean: 14},
		Tasks:        Dist{Kind: "empirical", Values: []float64{1, 2, 12, 50, 110, 200, 400, 430}, Weights: []float64{38, 18, 14, 12, 6, 6, 4, 2}},
		Duration:     Dist{Kind: "lognormal", Mu: math.Log(30), Sigma: 0.5},
		CPUs:         Dist{Kind: "const", Mean: 1},
		MemMiB:       Dist{Kind: "const", Mean: 1024},
	}
}
