package framework

import (
	"slices"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/traces"
)

// Resources converts a trace task's resources to the allocator's form:
// cpus, mem and disk in MiB, gpus; zero amounts are left out.
func Resources(r traces.Resources) allocator.Resources {
	var all [4]allocator.Resource
	n := 0
	for _, e := range [...]struct {
		name string
		v    float64
	}{{"cpus", r.CPUs}, {"mem", r.MemMiB}, {"disk", r.DiskMiB}, {"gpus", r.GPUs}} {
		if q, err := allocator.QuantityOf(e.v); err == nil && q > 0 {
			all[n] = allocator.Resource{Name: e.name, Value: q}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return slices.Clone(all[:n]) // one allocation, of the entries there are
}

// maxEach returns the entrywise maximum of a and b; a, which holds no
// entry of zero or less (nil, or what maxEach returned), comes back as it
// is when b exceeds none of it.
func maxEach(a, b allocator.Resources) allocator.Resources {
	if !slices.ContainsFunc(b, func(e allocator.Resource) bool { return e.Value > a.Get(e.Name, e.Role) }) {
		return a
	}
	out := a.Sub(nil)
	for _, e := range b {
		if d := e.Value - out.Get(e.Name, e.Role); d > 0 {
			out = out.Add(allocator.Resources{{Name: e.Name, Role: e.Role, Value: d}})
		}
	}
	return out
}

// Take takes need (amounts by name) from have, reserved entries of have
// first, GPUs on devices by the device rules (allocator.Resources.Take);
// it returns what is left and the entries taken, or false, taking nothing,
// when have lacks any of need.
func Take(have, need allocator.Resources) (rest, taken allocator.Resources, ok bool) {
	return have.Take(need)
}
