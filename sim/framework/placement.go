package framework

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apronlab/apron/allocator"
)

// Placement is where Mesos puts placement: the second level. A framework
// holding several offers (or a scheduler that sees every node) asks its
// Placement which one a task goes on, and for a fraction of a GPU, which
// device. A placement is one file: a type with Place and an init that calls
// RegisterPlacement. Every placement here is work-conserving (it places a
// task whenever some candidate can hold it) and deterministic (Random
// draws from its own seeded source).
type Placement interface {
	// Place chooses a candidate that can hold t (see Fits), and for a
	// fraction of a GPU the device; false when none can.
	Place(t Shape, cands []Candidate) (Choice, bool)
}

// Shape is a task's demand in placement's terms.
type Shape struct {
	CPU, Mem allocator.Quantity
	// GPU is the demand on each device it uses: below allocator.Milli a
	// fraction of one device, allocator.Milli for whole ones.
	GPU    allocator.Quantity
	Count  int      // devices: 1 for a fraction, n for n whole GPUs, 0 for none
	Models []string // the GPU models it may use (openb's gpu_spec); none: any
}

// GPUs returns the task's GPU demand in milli-GPUs.
func (t Shape) GPUs() allocator.Quantity { return t.GPU * allocator.Quantity(t.Count) }

// Candidate is where a task may go: what one agent (one offer) has free.
type Candidate struct {
	CPU, Mem       allocator.Quantity   // free
	CPUCap, MemCap allocator.Quantity   // the agent's capacity, to normalise
	GPUs           []allocator.Quantity // each device's free milli-GPUs, by device
	Devices        []string             // each device's key (allocator.Resource.Device), when from an offer
	Model          string               // the devices' model
	// Pool is GPUs that are not devices (an agent that declares an amount
	// of gpus): a task's GPUs come from it whole, models unchecked.
	Pool allocator.Quantity
	// Demands are the per-device GPU demands of the tasks already on it
	// (what GPU clustering groups by); a placement that uses them says so.
	Demands []allocator.Quantity
}

// Choice is a placement's answer: the position of the candidate and, for
// a fraction of a GPU, the position of the device (-1 otherwise: whole
// GPUs go on the lowest wholly free devices).
type Choice struct{ Cand, Device int }

// Fits reports whether c can hold t: CPU, memory, an allowed model, and a
// device with the fraction free or enough wholly free devices.
func Fits(t Shape, c *Candidate) bool {
	if t.CPU > c.CPU || t.Mem > c.Mem {
		return false
	}
	if t.Count == 0 {
		return true
	}
	if len(c.GPUs) == 0 && c.Pool > 0 {
		return t.GPUs() <= c.Pool
	}
	if len(t.Models) > 0 && !slices.Contains(t.Models, c.Model) {
		return false
	}
	n := 0
	for _, f := range c.GPUs {
		if f >= t.GPU {
			n++
		}
	}
	return n >= t.Count
}

// BestDevice is the device a fraction goes on when the placement has no
// other rule: the one with the least free that holds it, the first among
// equals (-1 for whole GPUs or none).
func BestDevice(t Shape, c *Candidate) int {
	if t.Count != 1 || t.GPU >= allocator.Milli {
		return -1
	}
	if at := allocator.FitDevices(c.GPUs, t.GPU); at != nil {
		return at[0]
	}
	return -1
}

// Apply takes t from c as ch places it and records its demand.
func Apply(t Shape, c *Candidate, ch Choice) {
	c.CPU -= t.CPU
	c.Mem -= t.Mem
	switch {
	case t.Count == 0:
		return
	case len(c.GPUs) == 0:
		c.Pool -= t.GPUs()
	case ch.Device >= 0:
		c.GPUs[ch.Device] -= t.GPU
	default:
		for i, n := 0, t.Count; i < len(c.GPUs) && n > 0; i++ {
			if c.GPUs[i] == allocator.Milli {
				c.GPUs[i], n = 0, n-1
			}
		}
	}
	c.Demands = append(c.Demands, t.GPU)
}

// bestBy places t on the fitting candidate of the smallest score, the
// first among equals, with the device BestDevice gives.
func bestBy(t Shape, cands []Candidate, score func(c *Candidate) float64) (Choice, bool) {
	best, bestScore := -1, 0.0
	for i := range cands {
		c := &cands[i]
		if !Fits(t, c) {
			continue
		}
		if s := score(c); best < 0 || s < bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		return Choice{}, false
	}
	return Choice{Cand: best, Device: BestDevice(t, &cands[best])}, true
}

// PlacementConfig is what a placement may need.
type PlacementConfig struct {
	Seed uint64 // Random's source
	// Workload is the distribution of task shapes FGD measures
	// fragmentation against (see TypicalShapes).
	Workload []WeightedShape
}

var placements = map[string]func(PlacementConfig) Placement{}

// RegisterPlacement makes a placement available by name; each placement's
// file calls it from init.
func RegisterPlacement(name string, f func(PlacementConfig) Placement) { placements[name] = f }

// Placements returns the registered placement names, sorted.
func Placements() []string {
	names := make([]string, 0, len(placements))
	for n := range placements {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewPlacement returns the placement called name.
func NewPlacement(name string, cfg PlacementConfig) (Placement, error) {
	f, ok := placements[name]
	if !ok {
		return nil, fmt.Errorf("placement %q: unknown; want one of %s", name, strings.Join(Placements(), ", "))
	}
	return f(cfg), nil
}

// milli is one whole GPU in milli-GPUs.
const milli = allocator.Milli

// ratio is q as a share of capacity (0 for no capacity).
func ratio(q, capacity allocator.Quantity) float64 {
	if capacity <= 0 {
		return 0
	}
	return float64(q) / float64(capacity)
}

// freeGPUs is a candidate's free milli-GPUs over its devices and pool.
func freeGPUs(c *Candidate) allocator.Quantity {
	s := c.Pool
	for _, f := range c.GPUs {
		s += f
	}
	return s
}

// gpuCap is a candidate's GPU capacity in milli-GPUs (its pool counted as
// it is).
func gpuCap(c *Candidate) allocator.Quantity { return allocator.Quantity(len(c.GPUs))*milli + c.Pool }
