package traces

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
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
//
// With Classes, jobs are of kinds given exactly: each class's Count jobs,
// in a seeded random order, draw their tasks and durations from the class;
// Jobs is then how many of that sequence to take (0: all).
type Generator struct {
	Seed         uint64  `yaml:"seed" json:"seed"`
	Jobs         int     `yaml:"jobs" json:"jobs"`
	Interarrival Dist    `yaml:"interarrival" json:"interarrival"`
	Tasks        Dist    `yaml:"tasks" json:"tasks"`
	MaxTasks     int     `yaml:"max_tasks" json:"max_tasks"` // 0: no cap
	Duration     Dist    `yaml:"duration" json:"duration"`
	CPUs         Dist    `yaml:"cpus" json:"cpus"`
	MemMiB       Dist    `yaml:"mem" json:"mem"`
	GPUs         Dist    `yaml:"gpus" json:"gpus"`
	Users        int     `yaml:"users" json:"users"`
	Queues       int     `yaml:"queues" json:"queues"`
	Chain        int     `yaml:"chain" json:"chain,omitempty"` // jobs per closed-loop chain; 0 or 1: open loop
	Think        Dist    `yaml:"think" json:"think,omitzero"`  // seconds between a job's end and the next of its chain
	Classes      []Class `yaml:"classes" json:"classes,omitempty"`
}

// Class is one kind of job of a generator, such as a bin of the Facebook
// mix: Count jobs of it, each with tasks and task durations (seconds)
// drawn from its own distributions, and as many reduces (a second kind of
// task, a MapReduce job's reduces) with theirs. Its jobs are named
// <Name>-<n>, n the job's place in the workload from 1, so that results
// can be told apart by class.
type Class struct {
	Name           string `yaml:"name" json:"name"`
	Count          int    `yaml:"count" json:"count"`
	Tasks          Dist   `yaml:"tasks" json:"tasks"`
	Duration       Dist   `yaml:"duration" json:"duration"`
	Reduces        Dist   `yaml:"reduces" json:"reduces,omitzero"`
	ReduceDuration Dist   `yaml:"reduce_duration" json:"reduce_duration,omitzero"`
}

// JobCount is how many jobs g generates: Jobs, or with classes and Jobs 0
// the classes' counts together.
func (g Generator) JobCount() int {
	if g.Jobs > 0 || len(g.Classes) == 0 {
		return g.Jobs
	}
	n := 0
	for _, c := range g.Classes {
		n += c.Count
	}
	return n
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
	if err := gs.drawClasses(); err != nil {
		return nil, err
	}
	if g.Users > 1 {
		gs.users = rand.NewZipf(r, 1.1, 1, uint64(g.Users-1))
	}
	return gs, nil
}

// drawClasses draws the order of the classes' jobs and their samplers.
func (s *genSource) drawClasses() error {
	for i, c := range s.g.Classes {
		if c.Count < 0 {
			return fmt.Errorf("generator class %d (%s): count %d; want 0 or more", i, c.Name, c.Count)
		}
		var cs [4]sampler
		for k, d := range []struct {
			name string
			d    Dist
		}{{"tasks", c.Tasks}, {"duration", c.Duration}, {"reduces", c.Reduces}, {"reduce_duration", c.ReduceDuration}} {
			var err error
			if cs[k], err = d.d.sampler(s.rng); err != nil {
				return fmt.Errorf("generator class %d (%s) %s: %w", i, c.Name, d.name, err)
			}
		}
		s.classes = append(s.classes, cs)
		for range c.Count {
			s.order = append(s.order, i)
		}
	}
	if len(s.g.Classes) == 0 {
		return nil
	}
	if s.g.Jobs > len(s.order) {
		return fmt.Errorf("generator jobs %d: more than the classes' %d", s.g.Jobs, len(s.order))
	}
	s.g.Jobs = s.g.JobCount()
	s.rng.Shuffle(len(s.order), func(i, k int) { s.order[i], s.order[k] = s.order[k], s.order[i] })
	return nil
}

type genSource struct {
	g                                       Generator
	rng                                     *rand.Rand
	gap, tasks, dur, cpus, mem, gpus, think sampler
	users                                   *rand.Zipf
	n                                       int
	at                                      float64
	prev                                    *Job         // the previous job, in a chain
	order                                   []int        // with classes: each job's class
	classes                                 [][4]sampler // tasks, duration, reduces, reduce duration
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
	if s.order == nil {
		s.addTasks(j, max(1, int(math.Round(s.tasks()))), s.dur)
		return j, nil
	}
	c := s.order[s.n-1]
	j.ID = fmt.Sprintf("%s-%d", s.g.Classes[c].Name, s.n)
	cs := s.classes[c]
	s.addTasks(j, max(1, int(math.Round(cs[0]()))), cs[1])
	s.addTasks(j, max(0, int(math.Round(cs[2]()))), cs[3])
	return j, nil
}

// addTasks adds n tasks of durations drawn from dur to j, up to MaxTasks
// in all.
func (s *genSource) addTasks(j *Job, n int, dur sampler) {
	if s.g.MaxTasks > 0 {
		n = min(n, s.g.MaxTasks-len(j.Tasks))
	}
	j.Tasks = slices.Grow(j.Tasks, n)
	for range n {
		j.Tasks = append(j.Tasks, Task{Duration: seconds(dur()), Resources: Resources{CPUs: s.cpus(), MemMiB: s.mem(), GPUs: s.gpus()}})
	}
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
// macrobenchmark (Hindman et al., NSDI 2011, section 6.1): 100 jobs
// arriving with exponential inter-arrival times of mean 14 s (about 23
// minutes), exactly the paper's count of each bin of Table 3 in a seeded
// random order, each job named after its bin (bin3-aggregation-17), its
// maps and reduces as in Table 3, 1 CPU and 1 GiB each.
//
// The paper gives no task durations; they are derived from Table 5's
// running times under static partitioning (24 nodes, 96 task slots) with
// a job startup of FacebookSetup (set as the framework's setup) that
// holds no slot:
//   - a map reads one block: 11.8 s, with the startup 19.2 s, from the
//     text searches of the large Hadoop mix (2,400 maps, 314 s, alone in
//     its partition: 25 full waves) and of bin 2 (2 maps, 31 s, one wave):
//     19.2 + 25 x 11.8 = 314 and 19.2 + 11.8 = 31;
//   - a one-map job (bin 1, 24 s) reads less than a block: its map lasts
//     24 - 19.2 = 4.8 s;
//   - an aggregation's or a join's reduces last what is left of the bin's
//     static time after the startup and its maps' waves (bin 3: 82 - 19.2
//   - 11.8 = 51 s).
//
// Reduces run beside the maps rather than after them; the spread of the
// durations is not given, so every task of a kind lasts the same.
func FacebookHadoop(seed uint64) Generator {
	const setup, block, small = FacebookSetup, 11.8, 4.8
	bin := func(name string, count int, maps int, mapTime float64, reduces int, static float64) Class {
		c := Class{Name: name, Count: count, Tasks: Dist{Mean: float64(maps)}, Duration: Dist{Mean: mapTime}}
		if reduces > 0 {
			waves := math.Ceil(float64(maps) / 96)
			c.Reduces, c.ReduceDuration = Dist{Mean: float64(reduces)}, Dist{Mean: static - setup - waves*mapTime}
		}
		return c
	}
	return Generator{
		Seed:         seed,
		Interarrival: Dist{Kind: "exp", Mean: 14},
		CPUs:         Dist{Kind: "const", Mean: 1},
		MemMiB:       Dist{Kind: "const", Mean: 1024},
		Classes: []Class{ // Table 3: maps, reduces, jobs run; Table 5: static running time (s)
			bin("bin1-selection", 38, 1, small, 0, 24),
			bin("bin2-textsearch", 18, 2, block, 0, 31),
			bin("bin3-aggregation", 14, 10, block, 2, 82),
			bin("bin4-selection", 12, 50, block, 0, 65),
			bin("bin5-aggregation", 6, 100, block, 10, 192),
			bin("bin6-selection", 6, 200, block, 0, 136),
			bin("bin7-textsearch", 4, 400, block, 0, 137),
			bin("bin8-join", 2, 400, block, 30, 662),
		},
	}
}

// FacebookSetup is the job startup FacebookHadoop's durations assume, in
// seconds: Hadoop's job initialisation and setup, before any map runs.
const FacebookSetup = 19.2
