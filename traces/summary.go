package traces

import (
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Summary describes a job stream: counts, time span, demand, and
// percentiles of task durations and sizes. Percentiles come from a seeded
// uniform reservoir of tasks, so summarising any trace takes bounded memory.
type Summary struct {
	Jobs, Tasks     int64
	Censored        int64
	First, Last     time.Duration // earliest and latest submit
	CPUSeconds      float64       // demand: sum of cpus x duration
	GPUSeconds      float64
	Duration        Percentiles // seconds
	CPUs, MemMiB    Percentiles
	GPUs            Percentiles
	TasksPerJob     Percentiles
	HourlyCPUDemand []float64 // CPU-seconds submitted per hour of the trace
}

// Percentiles of a quantity.
type Percentiles struct {
	Min, P50, P90, P99, Max, Mean float64
}

// ReservoirSize is how many tasks Summarize keeps for percentiles.
const ReservoirSize = 100_000

// reservoir keeps a uniform sample of what it is given, with Li's
// Algorithm L: after the sample fills it draws how many items to skip, so
// n copies of an item cost one step per copy that enters the sample.
type reservoir struct {
	rng  *rand.Rand
	seen int64
	xs   [][4]float64 // duration, cpus, mem, gpus
	sums [4]float64
	min  [4]float64
	max  [4]float64
	w    float64 // Algorithm L's running weight
	next int64   // the number of the next item to enter the full sample
}

func (r *reservoir) add(x [4]float64) { r.addN(x, 1) }

// addN adds n copies of x.
func (r *reservoir) addN(x [4]float64, n int64) {
	if n <= 0 {
		return
	}
	if r.seen == 0 {
		r.min, r.max = x, x
	}
	for i, v := range x {
		r.sums[i] += v * float64(n)
		r.min[i], r.max[i] = min(r.min[i], v), max(r.max[i], v)
	}
	end := r.seen + n
	for r.seen < end && len(r.xs) < ReservoirSize {
		r.xs = append(r.xs, x)
		r.seen++
		if len(r.xs) == ReservoirSize {
			r.w = math.Exp(math.Log(r.uniform()) / ReservoirSize)
			r.skip()
		}
	}
	for len(r.xs) == ReservoirSize && r.next <= end {
		r.xs[r.rng.IntN(ReservoirSize)] = x
		r.w *= math.Exp(math.Log(r.uniform()) / ReservoirSize)
		r.skip()
	}
	r.seen = end
}

// skip draws the number of the next item to enter the sample.
func (r *reservoir) skip() {
	if r.next < r.seen {
		r.next = r.seen
	}
	r.next += int64(math.Floor(math.Log(r.uniform())/math.Log1p(-r.w))) + 1
}

// uniform is uniform on (0, 1].
func (r *reservoir) uniform() float64 { return 1 - r.rng.Float64() }

func (r *reservoir) percentiles(i int) Percentiles {
	if r.seen == 0 {
		return Percentiles{}
	}
	vals := make([]float64, len(r.xs))
	for k, x := range r.xs {
		vals[k] = x[i]
	}
	slices.Sort(vals)
	q := func(p float64) float64 { return vals[int(p*float64(len(vals)-1))] }
	return Percentiles{Min: r.min[i], P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: r.max[i], Mean: r.sums[i] / float64(r.seen)}
}

// Summarize reads src to its end. progress, if not nil, is called every
// 100,000 jobs.
func Summarize(src Source, progress func(jobs int64)) (Summary, error) {
	var s Summary
	res := reservoir{rng: rand.New(rand.NewPCG(1, 2))}
	jobRes := reservoir{rng: rand.New(rand.NewPCG(3, 4))}
	for {
		j, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		if s.Jobs == 0 || j.Submit < s.First {
			s.First = j.Submit
		}
		s.Last = max(s.Last, j.Submit)
		s.Jobs++
		jobRes.add([4]float64{float64(j.TaskCount())})
		hour := int(j.Submit / time.Hour)
		for len(s.HourlyCPUDemand) <= hour {
			s.HourlyCPUDemand = append(s.HourlyCPUDemand, 0)
		}
		for _, t := range j.Tasks {
			n := float64(t.N())
			s.Tasks += int64(t.N())
			if t.Censored {
				s.Censored += int64(t.N())
			}
			d := t.Duration.Seconds()
			s.CPUSeconds += t.Resources.CPUs * d * n
			s.GPUSeconds += t.Resources.GPUs * d * n
			s.HourlyCPUDemand[hour] += t.Resources.CPUs * d * n
			res.addN([4]float64{d, t.Resources.CPUs, t.Resources.MemMiB, t.Resources.GPUs}, int64(t.N()))
		}
		if progress != nil && s.Jobs%100_000 == 0 {
			progress(s.Jobs)
		}
	}
	s.Duration, s.CPUs, s.MemMiB, s.GPUs = res.percentiles(0), res.percentiles(1), res.percentiles(2), res.percentiles(3)
	s.TasksPerJob = jobRes.percentiles(0)
	return s, nil
}

// MachineSummary describes a machine event stream.
type MachineSummary struct {
	Events, Added, Removed, Updated int64
	Machines                        int64 // distinct machine ids seen
	Capacity                        Resources
	Last                            time.Duration
}

// SummarizeMachines reads a machine stream to its end. Capacity sums the
// last known capacity of every machine present at the end.
func SummarizeMachines(r MachineReader) (MachineSummary, error) {
	var s MachineSummary
	present := map[string]Resources{}
	seen := map[string]bool{}
	for {
		e, err := r.NextMachine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		s.Events++
		s.Last = max(s.Last, e.At)
		seen[e.Machine.ID] = true
		switch e.Kind {
		case MachineAdd:
			s.Added++
			present[e.Machine.ID] = e.Machine.Capacity
		case MachineRemove:
			s.Removed++
			delete(present, e.Machine.ID)
		case MachineUpdate:
			s.Updated++
			present[e.Machine.ID] = e.Machine.Capacity
		}
	}
	s.Machines = int64(len(seen))
	ids := make([]string, 0, len(present))
	for id := range present {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a fixed order of addition: the same sums, to the bit
	for _, id := range ids {
		c := present[id]
		s.Capacity.CPUs += c.CPUs
		s.Capacity.MemMiB += c.MemMiB
		s.Capacity.DiskMiB += c.DiskMiB
		s.Capacity.GPUs += c.GPUs
	}
	return s, nil
}
