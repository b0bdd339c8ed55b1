package traces

import (
	"io"
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

type reservoir struct {
	rng  *rand.Rand
	seen int64
	xs   [][4]float64 // duration, cpus, mem, gpus
	sums [4]float64
	min  [4]float64
	max  [4]float64
}

func (r *reservoir) add(x [4]float64) {
	if r.seen == 0 {
		r.min, r.max = x, x
	}
	r.seen++
	for i, v := range x {
		r.sums[i] += v
		r.min[i], r.max[i] = min(r.min[i], v), max(r.max[i], v)
	}
	if len(r.xs) < ReservoirSize {
		r.xs = append(r.xs, x)
	} else if k := r.rng.Int64N(r.seen); k < ReservoirSize {
		r.xs[k] = x
	}
}

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
		jobRes.add([4]float64{float64(len(j.Tasks))})
		hour := int(j.Submit / time.Hour)
		for len(s.HourlyCPUDemand) <= hour {
			s.HourlyCPUDemand = append(s.HourlyCPUDemand, 0)
		}
		for _, t := range j.Tasks {
			s.Tasks++
			if t.Censored {
				s.Censored++
			}
			d := t.Duration.Seconds()
			s.CPUSeconds += t.Resources.CPUs * d
			s.GPUSeconds += t.Resources.GPUs * d
			s.HourlyCPUDemand[hour] += t.Resources.CPUs * d
			res.add([4]float64{d, t.Resources.CPUs, t.Resources.MemMiB, t.Resources.GPUs})
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
