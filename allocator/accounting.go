package allocator

import (
	"cmp"
	"slices"
)

// charge records v as allocated (offered or in use) to client c on agent ag:
// the agent, the client, its role and every ancestor role move, and so do
// their places in the order. An offer counts as one more allocation.
func (a *Allocator) charge(c *client, ag *agent, v vec, isOffer bool) {
	ag.allocated.add(v)
	a.free.sub(v)
	if ag.filters.byClient.n == 0 {
		ag.filters.hw = ag.availableTo(ag.filters.hw)
	}
	c.alloc.add(v)
	r := c.role
	r.own.add(v)
	if isOffer {
		c.allocs++
		r.ownAlloc++
	}
	for x := r; x != nil; x = x.up {
		x.sub.add(v)
		if isOffer {
			x.subAlloc++
		}
	}
	a.moved(c, ag)
}

// uncharge returns v from client c on agent ag.
func (a *Allocator) uncharge(c *client, ag *agent, v vec) {
	ag.allocated.sub(v)
	a.free.add(v)
	a.raiseHighWater(ag)
	c.alloc.sub(v)
	c.role.own.sub(v)
	for x := c.role; x != nil; x = x.up {
		x.sub.sub(v)
	}
	a.moved(c, ag)
}

func (a *Allocator) moved(c *client, ag *agent) {
	a.touch(ag)
	a.markClient(c)
	a.markEntries(c.role)
	if a.quotas > 0 {
		a.epoch++ // headroom and limits depend on every allocation
	}
}

// consumed returns, by name, the quota a role has consumed: its subtree's
// unreserved allocation plus every reservation made for the subtree,
// allocated or not (as in Mesos 1.9 and later).
func (a *Allocator) consumed(r *role, out []Quantity) []Quantity {
	out = a.dims.byName(r.reserved, out)
	for d, q := range r.sub {
		if a.dims.keys[d].role == "" {
			out[a.dims.nameOf[d]] += q
		}
	}
	return out
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
