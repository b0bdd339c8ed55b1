package framework

import (
	"slices"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/traces"
)

// Resources converts a trace task's resources to the allocator's form:
// cpus, mem and disk in MiB, gpus; zero amounts are left out.
func Resources(r traces.Resources) allocator.Resources {
	var out allocator.Resources
	for _, e := range []struct {
		name string
		v    float64
	}{{"cpus", r.CPUs}, {"mem", r.MemMiB}, {"disk", r.DiskMiB}, {"gpus", r.GPUs}} {
		if q, err := allocator.QuantityOf(e.v); err == nil && q > 0 {
			out = append(out, allocator.Resource{Name: e.name, Value: q})
		}
	}
	return out
}

// maxEach returns the entrywise maximum of a and b.
func maxEach(a, b allocator.Resources) allocator.Resources {
	out := a.Sub(nil)
	for _, e := range b {
		if d := e.Value - out.Get(e.Name, e.Role); d > 0 {
			out = out.Add(allocator.Resources{{Name: e.Name, Role: e.Role, Value: d}})
		}
	}
	return out
}

// addEntry adds e to the bag r, in place.
func addEntry(r allocator.Resources, e allocator.Resource) allocator.Resources {
	for i := range r {
		if r[i].Name == e.Name && r[i].Role == e.Role {
			r[i].Value += e.Value
			return r
		}
	}
	return append(r, e)
}

// Take takes need (amounts by name) from have, reserved entries of have
// first; it returns what is left and the entries taken, or false, taking
// nothing, when have lacks any of need.
func Take(have, need allocator.Resources) (rest, taken allocator.Resources, ok bool) {
	for _, e := range need {
		if have.Sum(e.Name) < e.Value {
			return have, nil, false
		}
	}
	rest = slices.Clone(have)
	taken = make(allocator.Resources, 0, len(need))
	for _, e := range need {
		q := e.Value
		for pass := 0; pass < 2 && q > 0; pass++ {
			for i := range rest {
				h := &rest[i]
				if h.Name != e.Name || q == 0 || h.Value == 0 || (h.Role != "") != (pass == 0) {
					continue
				}
				got := min(h.Value, q)
				h.Value -= got
				q -= got
				taken = addEntry(taken, allocator.Resource{Name: h.Name, Role: h.Role, Value: got})
			}
		}
	}
	rest = slices.DeleteFunc(rest, func(r allocator.Resource) bool { return r.Value == 0 })
	return rest, taken, true
}
