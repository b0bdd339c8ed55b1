package framework_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
	"pgregory.net/rapid"
)

func drawCandidates(t *rapid.T) []framework.Candidate {
	models := []string{"T4", "G2"}
	var cands []framework.Candidate
	for range rapid.IntRange(1, 6).Draw(t, "candidates") {
		c := framework.Candidate{CPUCap: 32000, MemCap: 64000, Model: rapid.SampledFrom(models).Draw(t, "model")}
		c.CPU = allocator.Quantity(rapid.IntRange(0, 32).Draw(t, "cpu")) * 1000
		c.Mem = allocator.Quantity(rapid.IntRange(0, 64).Draw(t, "mem")) * 1000
		for range rapid.IntRange(0, 8).Draw(t, "devices") {
			c.GPUs = append(c.GPUs, allocator.Quantity(rapid.SampledFrom([]int{0, 100, 250, 500, 700, 1000}).Draw(t, "free")))
		}
		if len(c.GPUs) == 0 && rapid.Bool().Draw(t, "pool") {
			c.Pool = allocator.Quantity(rapid.IntRange(0, 4000).Draw(t, "pooled"))
		}
		cands = append(cands, c)
	}
	return cands
}

func drawShape(t *rapid.T) framework.Shape {
	s := framework.Shape{CPU: allocator.Quantity(rapid.IntRange(0, 8).Draw(t, "tcpu")) * 1000, Mem: 1000}
	switch rapid.IntRange(0, 2).Draw(t, "kind") {
	case 1:
		s.GPU, s.Count = allocator.Quantity(rapid.IntRange(1, 999).Draw(t, "milli")), 1
	case 2:
		s.GPU, s.Count = allocator.Milli, rapid.IntRange(1, 4).Draw(t, "count")
	}
	if rapid.Bool().Draw(t, "constrained") {
		s.Models = []string{"T4"}
	}
	return s
}

// TestPropertyPlacements: every placement places a task whenever some
// candidate holds it, only where it fits, a fraction on one device that
// holds it; applying its choices never takes a device below zero; and two
// placements built alike choose alike.
func TestPropertyPlacements(t *testing.T) {
	for _, name := range framework.Placements() {
		t.Run(name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				cands := drawCandidates(t)
				var shapes []framework.Shape
				for range rapid.IntRange(1, 20).Draw(t, "tasks") {
					shapes = append(shapes, drawShape(t))
				}
				cfg := framework.PlacementConfig{Seed: 3, Workload: framework.TypicalShapes(shapes, 1)}
				p, _ := framework.NewPlacement(name, cfg)
				twin, _ := framework.NewPlacement(name, cfg)
				twinCands := append([]framework.Candidate(nil), cands...)
				for i := range twinCands {
					twinCands[i].GPUs = append([]allocator.Quantity(nil), cands[i].GPUs...)
				}
				for _, s := range shapes {
					fits := false
					for i := range cands {
						fits = fits || framework.Fits(s, &cands[i])
					}
					ch, ok := p.Place(s, cands)
					if ok != fits {
						t.Fatalf("%+v: placed %v; some candidate fits: %v", s, ok, fits)
					}
					if ch2, ok2 := twin.Place(s, twinCands); ch2 != ch || ok2 != ok {
						t.Fatalf("%+v: twins chose %v and %v", s, ch, ch2)
					}
					if !ok {
						continue
					}
					c := &cands[ch.Cand]
					if !framework.Fits(s, c) {
						t.Fatalf("%+v placed on %+v, which cannot hold it", s, *c)
					}
					if frac := s.Count == 1 && s.GPU < allocator.Milli && len(c.GPUs) > 0; frac != (ch.Device >= 0) || frac && c.GPUs[ch.Device] < s.GPU {
						t.Fatalf("%+v placed on device %d of %v", s, ch.Device, c.GPUs)
					}
					framework.Apply(s, c, ch)
					framework.Apply(s, &twinCands[ch.Cand], ch)
					for _, f := range append(c.GPUs, c.Pool) {
						if f < 0 {
							t.Fatalf("%+v over-allocated a device: %v", s, c.GPUs)
						}
					}
				}
			})
		})
	}
}

func TestFGD(t *testing.T) {
	whole := framework.Shape{CPU: 1000, GPU: allocator.Milli, Count: 1}
	half := framework.Shape{CPU: 1000, GPU: 500, Count: 1}
	for _, tc := range []struct {
		name     string
		workload []framework.WeightedShape
		cands    [][]allocator.Quantity
		task     framework.Shape
		want     framework.Choice
	}{
		// Whole-GPU work: a small task goes where GPUs are already broken.
		{"keeps whole GPUs whole", []framework.WeightedShape{{Shape: whole, Weight: 1}},
			[][]allocator.Quantity{{1000, 1000}, {1000, 300}}, framework.Shape{CPU: 1000, GPU: 200, Count: 1}, framework.Choice{Cand: 1, Device: 1}},
		// Half-GPU work: 0.3 on a 0.8 device leaves 0.5, still usable;
		// on the 0.6 device it leaves 0.3, lost to every task.
		{"leaves halves", []framework.WeightedShape{{Shape: half, Weight: 1}},
			[][]allocator.Quantity{{600}, {800}}, framework.Shape{CPU: 1000, GPU: 300, Count: 1}, framework.Choice{Cand: 1, Device: 0}},
		// Two-GPU work: two of three whole GPUs leave one that no such task can use.
		{"whole GPUs", []framework.WeightedShape{{Shape: half, Weight: 0.5}, {Shape: framework.Shape{CPU: 1000, GPU: allocator.Milli, Count: 2}, Weight: 0.5}},
			[][]allocator.Quantity{{1000, 1000, 1000}, {1000, 1000}}, framework.Shape{CPU: 1000, GPU: allocator.Milli, Count: 2}, framework.Choice{Cand: 1, Device: -1}},
	} {
		p, err := framework.NewPlacement("fgd", framework.PlacementConfig{Workload: tc.workload})
		if err != nil {
			t.Fatal(err)
		}
		var cands []framework.Candidate
		for _, g := range tc.cands {
			cands = append(cands, framework.Candidate{CPU: 8000, Mem: 8000, GPUs: g})
		}
		if got, ok := p.Place(tc.task, cands); !ok || got != tc.want {
			t.Errorf("%s: FGD chose %+v, %v; want %+v", tc.name, got, ok, tc.want)
		}
	}
}

func TestFragMeasure(t *testing.T) {
	p, _ := framework.NewPlacement("fgd", framework.PlacementConfig{Workload: []framework.WeightedShape{
		{Shape: framework.Shape{CPU: 4000, GPU: 500, Count: 1}, Weight: 0.5},
		{Shape: framework.Shape{CPU: 1000, GPU: allocator.Milli, Count: 2, Models: []string{"T4"}}, Weight: 0.25},
		{Shape: framework.Shape{CPU: 1000}, Weight: 0.25},
	}})
	g := p.(*framework.FGD)
	for _, tc := range []struct {
		model string
		cpu   allocator.Quantity
		free  []allocator.Quantity
		want  float64
	}{
		// 0.5 fits (0.3 lost); 2 whole: one whole device, so all 1.8 lost; CPU-only: none.
		{"T4", 8000, []allocator.Quantity{300, 1000, 500}, 0.5*300 + 0.25*1800},
		{"G2", 8000, []allocator.Quantity{1000, 1000}, 0.25 * 2000},                  // the model rules the 2-GPU task out
		{"T4", 2000, []allocator.Quantity{1000, 1000}, 0.5 * 2000},                   // too few CPUs for the 0.5 task
		{"T4", 500, []allocator.Quantity{1000, 0}, 0.5*1000 + 0.25*1000 + 0.25*1000}, // too few CPUs for any
		{"T4", 8000, nil, 0},
	} {
		if got := g.Frag(tc.model, tc.cpu, tc.free); got != tc.want {
			t.Errorf("Frag(%s, %d, %v) = %v; want %v", tc.model, tc.cpu, tc.free, got, tc.want)
		}
	}
}

func TestTypicalShapes(t *testing.T) {
	a := framework.Shape{CPU: 1000, Mem: 5, GPU: 500, Count: 1}
	b := framework.Shape{CPU: 1000, Mem: 9, GPU: 500, Count: 1} // memory aside, a's shape
	c := framework.Shape{CPU: 2000, GPU: allocator.Milli, Count: 2, Models: []string{"T4"}}
	d := framework.Shape{CPU: 3000}
	tasks := []framework.Shape{c, a, b, c, c, d}
	for _, tc := range []struct {
		cover float64
		want  string
	}{
		{1, "[{{2 0 1 2 [T4]} 0.5} {{1 0 0.5 1 []} 0.3333333333333333} {{3 0 0 0 []} 0.16666666666666666}]"},
		{0.8, "[{{2 0 1 2 [T4]} 0.6} {{1 0 0.5 1 []} 0.4}]"},
		{0.5, "[{{2 0 1 2 [T4]} 1}]"},
		{0, "[{{2 0 1 2 [T4]} 1}]"},
	} {
		if got := fmt.Sprint(framework.TypicalShapes(tasks, tc.cover)); got != tc.want {
			t.Errorf("TypicalShapes(cover %v) = %s; want %s", tc.cover, got, tc.want)
		}
	}
}

func TestNewPlacementUnknown(t *testing.T) {
	_, err := framework.NewPlacement("worst-fit", framework.PlacementConfig{})
	if err == nil || !strings.Contains(err.Error(), "best-fit, dot-product, fgd, first-fit, gpu-clustering, gpu-packing, random") {
		t.Errorf("NewPlacement(worst-fit) = %v; want an error listing the placements", err)
	}
}
