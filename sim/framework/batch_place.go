package framework

import (
	"cmp"
	"slices"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/traces"
)

// Placing (BatchConfig.Placement): the framework places its tasks over
// every offer it holds at once with a Placement, instead of filling offers
// one by one, and launches each offer's tasks together. FGD measures
// fragmentation against the shapes of the tasks the framework has seen,
// brought up to date whenever they grow by a tenth.

// WorkloadAware is a placement that measures against the workload's
// shapes, which a framework may bring up to date as tasks arrive.
type WorkloadAware interface {
	SetWorkload(w []WeightedShape)
}

// TaskResources converts a trace task's resources as Resources does, with
// its GPUs as a device request when the trace says how they are spread
// (Resources.GPUDevices) or on which models (GPUModels): gpus[*]:0.46,
// gpus[V100M16|V100M32]:8. A request that is neither a fraction of one
// device nor whole devices, or names a model that is no model name, stays
// an amount.
func TaskResources(t traces.Task) allocator.Resources {
	out := Resources(t.Resources)
	if t.Resources.GPUDevices == 0 && t.GPUModels == "" {
		return out
	}
	dev := allocator.Device{Index: -1}
	if t.GPUModels != "" {
		d, err := allocator.ParseDevice(t.GPUModels)
		if err != nil || d.Placed() {
			return out
		}
		dev = d
	}
	for i, e := range out {
		if e.Name == "gpus" && (e.Value < allocator.Milli || e.Value%allocator.Milli == 0) {
			out[i].Device = dev.String()
		}
	}
	return out
}

// ShapeOf is a task's demand in placement's terms: its CPUs, memory and
// GPUs (a fraction of one device, or whole devices, of the models its
// device request allows); false when its GPUs are neither.
func ShapeOf(r allocator.Resources) (Shape, bool) {
	s := Shape{CPU: r.Sum("cpus"), Mem: r.Sum("mem")}
	q := r.Sum("gpus")
	for _, e := range r {
		if d, ok := e.Dev(); ok && e.Name == "gpus" && !d.Placed() {
			s.Models = d.Models
		}
	}
	switch {
	case q == 0:
	case q < allocator.Milli:
		s.GPU, s.Count = q, 1
	case q%allocator.Milli == 0:
		s.GPU, s.Count = allocator.Milli, int(q/allocator.Milli)
	default:
		return Shape{}, false
	}
	return s, true
}

// CandidateOf is what an offer has free, in placement's terms: its CPUs,
// memory and GPU devices, or its GPUs as a pool when they are not devices
// (an offer shows no capacity: its free amounts stand for it).
func CandidateOf(o Offer) Candidate {
	c := Candidate{CPU: o.Resources.Sum("cpus"), Mem: o.Resources.Sum("mem")}
	c.CPUCap, c.MemCap = c.CPU, c.Mem
	type dev struct {
		key   string
		index int
		free  allocator.Quantity
		model string
	}
	var devs []dev
	for _, e := range o.Resources {
		d, ok := e.Dev()
		if e.Name == "gpus" && !ok {
			c.Pool += e.Value
		}
		if e.Name != "gpus" || !ok || !d.Placed() {
			continue
		}
		if i := slices.IndexFunc(devs, func(x dev) bool { return x.key == e.Device }); i >= 0 {
			devs[i].free += e.Value
		} else {
			devs = append(devs, dev{e.Device, d.Index, e.Value, d.Model()})
		}
	}
	slices.SortFunc(devs, func(a, b dev) int { return cmp.Compare(a.index, b.index) })
	for _, d := range devs {
		c.GPUs, c.Devices = append(c.GPUs, d.free), append(c.Devices, d.key)
		c.Model = d.model
	}
	return c
}

// placed is task resources r with its GPUs on the devices of c that ch
// chooses for shape s (before Apply takes them).
func placed(r allocator.Resources, s Shape, c *Candidate, ch Choice) allocator.Resources {
	if len(c.GPUs) == 0 {
		return r // GPUs from a pool: the request as it is
	}
	out := slices.DeleteFunc(slices.Clone(r), func(e allocator.Resource) bool { return e.Name == "gpus" })
	switch {
	case s.Count == 0:
	case ch.Device >= 0:
		out = append(out, allocator.Resource{Name: "gpus", Device: c.Devices[ch.Device], Value: s.GPU})
	default:
		for i, n := 0, s.Count; i < len(c.GPUs) && n > 0; i++ {
			if c.GPUs[i] == allocator.Milli {
				out, n = append(out, allocator.Resource{Name: "gpus", Device: c.Devices[i], Value: allocator.Milli}), n-1
			}
		}
	}
	return out
}

// placeOffers places the queue's tasks over every offer, the jobs with
// the fewest running tasks first, and launches or declines each offer.
func (b *Batch) placeOffers(offers []Offer) {
	b.refreshWorkload()
	cands := make([]Candidate, len(offers))
	for i, o := range offers {
		cands[i] = CandidateOf(o)
	}
	launch := make([][]Task, len(offers))
	for g := b.queue.first(); g != nil; g = b.queue.first() {
		j := g.jobs.s[0]
		t := j.pending[0].task
		s, ok := ShapeOf(t.Resources)
		var ch Choice
		if ok {
			ch, ok = b.placement.Place(s, cands)
		}
		if !ok {
			// Every job of the group asks the same; the candidates
			// only shrink: none of them places now.
			b.queue.pass()
			continue
		}
		t.Resources = placed(t.Resources, s, &cands[ch.Cand], ch)
		Apply(s, &cands[ch.Cand], ch)
		b.launchPending(j, 0)
		launch[ch.Cand] = append(launch[ch.Cand], t)
	}
	b.queue.unpass()
	refuse := cmp.Or(b.cfg.IdleRefuse, b.declineFilter())
	for i, o := range offers {
		if len(launch[i]) == 0 {
			b.d.Decline(o.ID, refuse)
		} else {
			b.d.Launch(o.ID, launch[i], refuse)
		}
	}
}

// noteShape counts an arriving task's shape for the workload.
func (b *Batch) noteShape(r allocator.Resources) {
	if s, ok := ShapeOf(r); ok && b.placement != nil {
		b.shapes = append(b.shapes, s)
	}
}

// refreshWorkload gives a WorkloadAware placement the shapes seen, when
// they have grown by a tenth since it last had them.
func (b *Batch) refreshWorkload() {
	w, ok := b.placement.(WorkloadAware)
	if !ok || len(b.shapes) == 0 || 10*len(b.shapes) < 11*b.shapesSet && b.shapesSet > 0 {
		return
	}
	b.shapesSet = len(b.shapes)
	w.SetWorkload(TypicalShapes(b.shapes, TypicalCover))
}
