package gpushare

import (
	"fmt"
	"math"
	"slices"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
)

// Config is one experiment.
type Config struct {
	Placement string
	Seed      uint64  // the workload's draws and Random's
	Target    float64 // the workload, a share of the GPU capacity (1.3 for 130%)
	// Levels are the shares of the GPU capacity, arrived, at which the
	// replay measures, in increasing order; default every 10% up to Target.
	Levels []float64
}

// Cause is why a pod failed.
type Cause int

// The causes of a failed pod, looked at over every node when it arrived.
const (
	NoModel       Cause = iota // no node of an allowed model with enough devices
	NoCPU                      // no such node with its CPU and memory free
	NoGPU                      // no such node with as many milli-GPUs free
	Fragmentation              // a node has CPU, memory and milli-GPUs enough, but not on its devices as asked
	numCauses
)

// Causes names the causes, in order, as the CSV columns do.
var Causes = [numCauses]string{"model", "cpu", "gpu", "fragmentation"}

// Point is the cluster as the arrived workload crosses a level.
type Point struct {
	Level         float64 // the level crossed
	Arrived       float64 // arrived GPU requests / GPU capacity
	Allocation    float64 // allocated milli-GPUs / capacity
	Fragmentation float64 // fragmented milli-GPUs (FGD's measure) / unallocated
	Unallocated   float64 // GPUs not allocated
	Pods, Failed  int     // pods arrived, and failed of them
	FailedBy      [numCauses]int
}

// Result is one experiment's measures.
type Result struct {
	Config
	Points []Point
	Final  Point // after the last pod (its Level is the arrived workload)
}

// Run replays trace's workload inflated to cfg.Target with the placement.
func Run(t *Trace, cfg Config) (*Result, error) {
	if cfg.Target <= 0 || math.IsInf(cfg.Target, 0) || math.IsNaN(cfg.Target) {
		return nil, fmt.Errorf("target %v; want a share of the GPU capacity above 0, such as 1.3", cfg.Target)
	}
	if len(cfg.Levels) == 0 {
		for l := 1; float64(l)/10 <= cfg.Target+1e-9; l++ {
			cfg.Levels = append(cfg.Levels, float64(l)/10)
		}
	}
	if !slices.IsSorted(cfg.Levels) {
		return nil, fmt.Errorf("levels %v; want them in increasing order", cfg.Levels)
	}
	return Replay(t, cfg, t.Inflate(cfg.Target, cfg.Seed))
}

// Replay places pods, in order, on t's nodes (t's pods only give FGD its
// target workload), measuring at cfg.Levels; cfg.Target is not used.
func Replay(t *Trace, cfg Config, pods []Pod) (*Result, error) {
	work := t.Workload()
	p, err := framework.NewPlacement(cfg.Placement, framework.PlacementConfig{Seed: cfg.Seed, Workload: work})
	if err != nil {
		return nil, err
	}
	measure, _ := framework.NewPlacement("fgd", framework.PlacementConfig{Workload: work})
	r := &replay{cands: candidates(t.Nodes), capacity: t.GPUCapacity(), frag: measure.(*framework.FGD)}
	res := &Result{Config: cfg}
	next := 0
	for _, pod := range pods {
		r.place(p, pod)
		for next < len(cfg.Levels) && r.arrived >= allocator.Quantity(math.Ceil(cfg.Levels[next]*float64(r.capacity))) {
			res.Points = append(res.Points, r.point(cfg.Levels[next]))
			next++
		}
	}
	res.Final = r.point(ratio(r.arrived, r.capacity))
	return res, nil
}

type replay struct {
	cands           []framework.Candidate
	capacity        allocator.Quantity
	arrived, allocd allocator.Quantity
	pods, failed    int
	failedBy        [numCauses]int
	frag            *framework.FGD
}

func candidates(nodes []Node) []framework.Candidate {
	out := make([]framework.Candidate, len(nodes))
	for i, n := range nodes {
		c := framework.Candidate{CPU: n.CPU, Mem: n.Mem, CPUCap: n.CPU, MemCap: n.Mem, Model: n.Model, GPUs: make([]allocator.Quantity, n.GPUs)}
		for k := range c.GPUs {
			c.GPUs[k] = allocator.Milli
		}
		out[i] = c
	}
	return out
}

func (r *replay) place(p framework.Placement, pod Pod) {
	s := pod.Shape
	r.pods++
	r.arrived += s.GPUs()
	ch, ok := p.Place(s, r.cands)
	if !ok {
		r.failed++
		r.failedBy[causeOf(s, r.cands)]++
		return
	}
	framework.Apply(s, &r.cands[ch.Cand], ch)
	r.allocd += s.GPUs()
}

// causeOf says why no candidate holds s.
func causeOf(s framework.Shape, cands []framework.Candidate) Cause {
	cause := NoModel
	for i := range cands {
		c := &cands[i]
		if s.Count > 0 && (len(c.GPUs) < s.Count || len(s.Models) > 0 && !slices.Contains(s.Models, c.Model)) {
			continue
		}
		if s.CPU > c.CPU || s.Mem > c.Mem {
			cause = max(cause, NoCPU)
			continue
		}
		var free allocator.Quantity
		for _, f := range c.GPUs {
			free += f
		}
		if free < s.GPUs() {
			cause = max(cause, NoGPU)
			continue
		}
		return Fragmentation
	}
	return cause
}

func (r *replay) point(level float64) Point {
	var frag, free float64
	for i := range r.cands {
		c := &r.cands[i]
		frag += r.frag.Frag(c.Model, c.CPU, c.GPUs)
		for _, f := range c.GPUs {
			free += float64(f)
		}
	}
	pt := Point{Level: level, Arrived: ratio(r.arrived, r.capacity), Allocation: ratio(r.allocd, r.capacity),
		Unallocated: free / float64(allocator.Milli), Pods: r.pods, Failed: r.failed, FailedBy: r.failedBy}
	if free > 0 {
		pt.Fragmentation = frag / free
	}
	return pt
}

func ratio(a, b allocator.Quantity) float64 { return float64(a) / float64(b) }
