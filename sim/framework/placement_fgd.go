package framework

import (
	"cmp"
	"slices"
	"strings"

	"github.com/apronlab/apron/allocator"
)

// FGD is Fragmentation Gradient Descent (Weng et al., "Beware of
// Fragmentation", USENIX ATC 2023): a task goes where it increases
// fragmentation least. An agent's fragmentation is the GPU capacity it is
// expected to leave unusable to the workload, whose shapes and their
// shares PlacementConfig.Workload gives (TypicalShapes computes them):
//
//	F(n) = sum over shapes m of p(m) * F(n, m)
//
// where F(n, m) is all of n's free GPU capacity when m cannot run on n
// (too few CPUs, no allowed model, no device with m's fraction free or too
// few wholly free devices), and otherwise the free capacity of the devices
// that cannot hold m's per-device demand (0 for a task without GPUs). A
// task goes on the agent and device of the smallest F(after) - F(before),
// the first among equals. Memory is not part of the measure, as in the
// paper. The measure of a state is kept, so agents alike cost one lookup.
type FGD struct {
	workload []WeightedShape
	memo     map[fragKey]float64
	models   []string // the models seen, numbered for the memo's keys
	scratch  []allocator.Quantity
}

// WeightedShape is a task shape and its share of the workload.
type WeightedShape struct {
	Shape
	Weight float64
}

func init() {
	RegisterPlacement("fgd", func(c PlacementConfig) Placement {
		return &FGD{workload: c.Workload, memo: map[fragKey]float64{}}
	})
}

// SetWorkload implements WorkloadAware: FGD measures against w from now
// on.
func (g *FGD) SetWorkload(w []WeightedShape) {
	g.workload = w
	clear(g.memo)
}

// TypicalCover is the share of the tasks FGD's typical shapes cover: the
// paper's typical pods cover 95%.
const TypicalCover = 0.95

// maxMemoDevices bounds the devices of a state FGD remembers.
const maxMemoDevices = 8

// fragKey is an agent's state as the measure sees it: the devices' free
// amounts sorted, since the measure does not depend on their order. It
// holds no string, so that hashing it is cheap.
type fragKey struct {
	cpu   allocator.Quantity
	model uint16
	n     uint16
	free  [maxMemoDevices]uint16 // milli-GPUs, at most 1000
}

// Place implements Placement.
func (g *FGD) Place(t Shape, cands []Candidate) (Choice, bool) {
	best, bestDelta := Choice{Cand: -1}, 0.0
	for i := range cands {
		c := &cands[i]
		if !Fits(t, c) {
			continue
		}
		before := g.Frag(c.Model, c.CPU, c.GPUs)
		g.scratch = append(g.scratch[:0], c.GPUs...)
		consider := func(dev int) {
			d := g.Frag(c.Model, c.CPU-t.CPU, g.scratch) - before
			if best.Cand < 0 || d < bestDelta {
				best, bestDelta = Choice{Cand: i, Device: dev}, d
			}
		}
		if t.Count != 1 || t.GPU >= milli || len(c.GPUs) == 0 { // whole GPUs, or a pool
			for k, n := 0, t.Count; k < len(g.scratch) && n > 0; k++ {
				if g.scratch[k] == milli {
					g.scratch[k], n = 0, n-1
				}
			}
			consider(-1)
			continue
		}
		for k, f := range c.GPUs {
			if f < t.GPU || slices.Contains(c.GPUs[:k], f) {
				continue // too little, or the same as a device before it
			}
			g.scratch[k] -= t.GPU
			consider(k)
			g.scratch[k] += t.GPU
		}
	}
	return best, best.Cand >= 0
}

// Frag is the measure F of an agent with GPUs of model, cpu free and each
// device's free milli-GPUs, in milli-GPUs.
func (g *FGD) Frag(model string, cpu allocator.Quantity, free []allocator.Quantity) float64 {
	if len(free) == 0 {
		return 0
	}
	if len(free) > maxMemoDevices {
		return g.frag(model, cpu, free)
	}
	k := fragKey{model: g.modelNumber(model), cpu: cpu, n: uint16(len(free))}
	for i, f := range free { // insertion sort, largest first: a handful of devices
		j := i
		for ; j > 0 && k.free[j-1] < uint16(f); j-- {
			k.free[j] = k.free[j-1]
		}
		k.free[j] = uint16(f)
	}
	f, ok := g.memo[k]
	if !ok {
		f = g.frag(model, cpu, free)
		g.memo[k] = f
	}
	return f
}

// modelNumber numbers a model for the memo: the models of a cluster are
// few, so a scan beats a map.
func (g *FGD) modelNumber(model string) uint16 {
	for i, m := range g.models {
		if m == model {
			return uint16(i)
		}
	}
	g.models = append(g.models, model)
	return uint16(len(g.models) - 1)
}

func (g *FGD) frag(model string, cpu allocator.Quantity, free []allocator.Quantity) float64 {
	var all allocator.Quantity
	for _, f := range free {
		all += f
	}
	sum := 0.0
	for _, m := range g.workload {
		sum += m.Weight * float64(fragFor(m.Shape, model, cpu, free, all))
	}
	return sum
}

// fragFor is F(n, m): the free GPU capacity of n that task shape m cannot
// use.
func fragFor(m Shape, model string, cpu allocator.Quantity, free []allocator.Quantity, all allocator.Quantity) allocator.Quantity {
	if m.CPU > cpu || m.Count > 0 && len(m.Models) > 0 && !slices.Contains(m.Models, model) {
		return all
	}
	if m.Count == 0 {
		return 0
	}
	var frag allocator.Quantity
	holds := 0
	for _, f := range free {
		if f >= m.GPU {
			holds++
		} else {
			frag += f
		}
	}
	if holds < m.Count {
		return all
	}
	return frag
}

// TypicalShapes is the workload distribution FGD measures against: the
// distinct shapes of tasks by CPU, per-device GPU demand, device count and
// models (memory left out, as the measure leaves it out), the most common
// first (ties by CPU, GPU, count, models), as many as cover the share
// cover of the tasks (the paper's typical pods cover 95%; 1 keeps all),
// each weighted by its share of the tasks they cover.
func TypicalShapes(tasks []Shape, cover float64) []WeightedShape {
	type key struct {
		cpu, gpu allocator.Quantity
		count    int
		models   string
	}
	counts := map[key]int{}
	var keys []key
	for _, t := range tasks {
		k := key{t.CPU, t.GPU, t.Count, strings.Join(t.Models, "|")}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a.cpu, b.cpu), cmp.Compare(a.gpu, b.gpu),
			cmp.Compare(a.count, b.count), cmp.Compare(a.models, b.models))
	})
	var out []WeightedShape
	covered := 0
	for _, k := range keys {
		if len(out) > 0 && float64(covered) >= cover*float64(len(tasks)) {
			break
		}
		s := Shape{CPU: k.cpu, GPU: k.gpu, Count: k.count}
		if k.models != "" {
			s.Models = strings.Split(k.models, "|")
		}
		out = append(out, WeightedShape{Shape: s, Weight: float64(counts[k])})
		covered += counts[k]
	}
	for i := range out {
		out[i].Weight /= float64(covered)
	}
	return out
}
