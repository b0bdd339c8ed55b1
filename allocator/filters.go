package allocator

import (
	"container/heap"
	"math"
	"slices"
	"time"
)

// Decline filters. A framework (in one role) that declines resources on an
// agent, or leaves part of an accepted offer unused, is not offered a subset
// of those resources there again until the filter expires, it revives, or
// the agent can offer more than it refused.
//
// Filters live with their agent, as plain values (no pointers: millions of
// them cost the garbage collector nothing to scan), next to the distinct
// refused vectors they point into. Each agent keeps a high-water mark of
// its available resources and counts the filters of active clients that
// refused at least that much ("strong" filters): while every active client
// has one, nothing on the agent can be offered and the cycle skips the agent
// in O(1). Expiry is lazy: an agent whose earliest filter has expired is
// swept when a cycle reaches it.

type filter struct {
	expires int64  // unix nanoseconds
	refused uint16 // index into agentFilters.refused
	strong  bool   // refused covers the agent's high-water mark
}

type agentFilters struct {
	minExpiry int64
	strong    int // strong filters of active clients
	strongAll int // strong filters, active clients or not
	byClient  filterSet
	hw        vec // high-water mark of the agent's available resources
	refused   []vec
	// The clients that set a filter here since cycle youngCycle began: a
	// filter lives through the cycle after the one it was set in, and
	// keeping who set one last, rather than a cycle in every filter, keeps
	// a filter at 16 bytes.
	young      []int32
	youngCycle uint64
}

// isYoung reports whether c's filter was set since the last cycle began, so
// must live through the cycle now running (cycles counts it).
func (af *agentFilters) isYoung(c int32, cycles uint64) bool {
	return af.youngCycle+1 >= cycles && slices.Contains(af.young, c)
}

// addFilter filters ag for c until now + refuse, and in any case through the
// next allocation cycle, as Mesos does: a filter always outlives at least
// one allocation interval.
func (a *Allocator) addFilter(c *client, ag *agent, refused vec, refuse time.Duration, now time.Time) {
	if refuse <= 0 {
		return
	}
	a.removeFilter(c, ag)
	af := &ag.filters
	if af.byClient.n == 0 {
		af.minExpiry = math.MaxInt64
	}
	expires := now.UnixNano() + min(int64(refuse), math.MaxInt64-now.UnixNano())
	f := filter{expires: expires, refused: af.intern(refused)}
	if af.youngCycle != a.cycles {
		af.young, af.youngCycle = af.young[:0], a.cycles
	}
	af.young = append(af.young, c.idx)
	if af.byClient.n <= lowerLimit && !af.refused[f.refused].contains(af.hw) && ag.availableWithin(af.refused[f.refused]) {
		a.lowerHighWater(ag)
	}
	f.strong = af.refused[f.refused].contains(af.hw)
	if f.strong {
		af.strongAll++
	}
	af.byClient.put(c.idx, f, len(a.clients.at), a.tableAt(ag))
	if f.strong && c.inTree {
		af.strong++
	}
	if expires < af.minExpiry {
		af.minExpiry = expires
		heap.Push(&a.expiries, expiry{expires, ag})
	}
	c.filterBits.set(ag.idx)
	a.touch(ag)
}

// tableAt is how many filters ag must hold for them to move to a table:
// tableMin and an eighth of the clients, plus up to as many again drawn by
// agent, so that agents that fill alike (every framework declining every
// agent in turn) do not all allocate their tables in the same cycle.
func (a *Allocator) tableAt(ag *agent) int {
	at := max(a.tableMin, (len(a.clients.at)+7)/8)
	if at == math.MaxInt {
		return at
	}
	return at + int(splitmix64(ag.seq)%uint64(at))
}

func (af *agentFilters) intern(v vec) uint16 {
	for i, have := range af.refused {
		if have.equal(v) {
			return uint16(i)
		}
	}
	if len(af.refused) >= math.MaxUint16 || len(af.refused) > 2*af.byClient.n+16 {
		af.compact()
	}
	af.refused = append(af.refused, v.clone())
	return uint16(len(af.refused) - 1)
}

// compact drops refused vectors no filter points to any more.
func (af *agentFilters) compact() {
	old := af.refused
	af.refused = nil
	af.byClient.each(func(_ int32, f *filter) { f.refused = af.internFresh(old[f.refused]) })
}

func (af *agentFilters) internFresh(v vec) uint16 {
	for i, have := range af.refused {
		if have.equal(v) {
			return uint16(i)
		}
	}
	af.refused = append(af.refused, v)
	return uint16(len(af.refused) - 1)
}

func (a *Allocator) removeFilter(c *client, ag *agent) {
	af := &ag.filters
	f := af.byClient.get(c.idx) // the agent's own set: in cache, unlike c.filterBits
	if f == nil {
		return
	}
	if f.strong {
		af.strongAll--
		if c.inTree {
			af.strong--
		}
	}
	af.byClient.del(c.idx)
	c.filterBits.clear(ag.idx)
	a.touch(ag)
}

// removeFilters drops every filter of c.
func (a *Allocator) removeFilters(c *client) {
	c.filterBits.each(func(i int) { a.removeFilter(c, a.agentByIdx.at[i]) })
}

// countStrong adds sign times c's strong filters to their agents' counts:
// c entered (+1) or left (-1) the order.
func (a *Allocator) countStrong(c *client, sign int) {
	c.filterBits.each(func(i int) {
		af := &a.agentByIdx.at[i].filters
		if f := af.byClient.get(c.idx); f != nil && f.strong {
			af.strong += sign
		}
	})
}

// filtered reports whether client c (an index) refused, on ag, everything
// it would now be offered there.
func filtered(ag *agent, c int32, offerable vec) bool {
	af := &ag.filters
	if af.byClient.isStrong(c) {
		return true
	}
	f := af.byClient.get(c)
	return f != nil && (f.strong || af.refused[f.refused].contains(offerable))
}

// firstUnfiltered returns the first client of r in the order that has not
// filtered res on ag, or nil. It walks the order past the clients that
// filtered it, unless few clients have no filter on ag and every filter
// there is strong (so filters whatever ag offers): then it looks only at
// those few and takes the one with the smallest key, which is the one the
// walk would reach first, in O(clients/64 + few) rather than a walk that
// grows as filters accumulate.
func (a *Allocator) firstUnfiltered(r *role, ag *agent, res vec) *client {
	var pick *client
	if a.fewUnfiltered(ag) {
		ag.filters.byClient.eachWithout(len(a.clients.at), func(i int) {
			c := a.clients.at[i]
			if c != nil && c.inTree && c.role == r && (pick == nil || c.key.less(&pick.key)) {
				pick = c
			}
		})
		return pick
	}
	r.frameworks.Ascend(func(it clientItem) bool {
		if filtered(ag, it.idx, res) {
			return true
		}
		pick = it.c
		return false
	})
	return pick
}

// fewUnfiltered reports whether firstUnfiltered should look at the clients
// with no filter on ag rather than walk: it may when ag's filters are in
// table form and all strong, and it pays when the u clients without one
// are few, u² < 4·clients (the walk's expected length, clients/(u+1),
// then exceeds about u/4).
func (a *Allocator) fewUnfiltered(ag *agent) bool {
	af := &ag.filters
	if af.byClient.table == nil || af.strongAll != af.byClient.n {
		return false
	}
	n := len(a.clients.at)
	u := n - af.byClient.n
	return a.scanAll || u*u < 4*n
}

// blocked reports whether every active client has a strong filter on ag.
func (a *Allocator) blocked(ag *agent) bool {
	return a.active > 0 && ag.filters.strong >= a.active
}

// raiseHighWater follows an increase of ag's available resources: when they
// pass the high-water mark, the mark rises and every filter is rechecked.
func (a *Allocator) raiseHighWater(ag *agent) {
	af := &ag.filters
	over := false
	for d, t := range ag.total {
		if q := t - ag.allocated.at(d); q > af.hw.at(d) {
			af.hw = af.hw.grow(d + 1)
			af.hw[d] = q
			over = true
		}
	}
	if over && af.strongAll > 0 { // a rising mark only weakens filters
		a.recheck(ag)
	}
}

// recheck recomputes which filters of ag are strong against its mark.
func (a *Allocator) recheck(ag *agent) {
	af := &ag.filters
	af.byClient.each(func(c int32, f *filter) {
		strong := af.refused[f.refused].contains(af.hw)
		if strong == f.strong {
			return
		}
		af.byClient.setStrong(c, f, strong)
		if strong {
			af.strongAll++
		} else {
			af.strongAll--
		}
		switch {
		case !a.clients.at[c].inTree:
		case strong:
			af.strong++
		default:
			af.strong--
		}
	})
}

// lowerLimit is how many filters an agent may hold for a decline to lower
// its mark: lowering rechecks them all, and an agent with many filters is
// left to the per-framework check rather than paying that on every decline.
const lowerLimit = 16

// lowerHighWater sets ag's mark to what is available now and rechecks every
// filter: a decline that covers the agent's available resources but not its
// old mark makes the agent skippable again.
func (a *Allocator) lowerHighWater(ag *agent) {
	af := &ag.filters
	af.hw = ag.availableTo(af.hw)
	a.recheck(ag)
}

// sweep drops the filters of ag that have expired by now and have lived
// through a cycle already.
func (a *Allocator) sweep(ag *agent, now int64) {
	af := &ag.filters
	if now < af.minExpiry {
		return
	}
	af.minExpiry = math.MaxInt64
	var gone []int32
	af.byClient.each(func(c int32, f *filter) {
		if f.expires <= now && !af.isYoung(c, a.cycles) {
			gone = append(gone, c)
		} else {
			af.minExpiry = min(af.minExpiry, f.expires)
		}
	})
	for _, k := range gone {
		a.removeFilter(a.clients.at[k], ag)
	}
	if af.minExpiry != math.MaxInt64 {
		heap.Push(&a.expiries, expiry{af.minExpiry, ag})
	}
}

// expiry says that an agent's earliest filter expires at a time: the cycle
// after it must visit the agent to sweep it.
type expiry struct {
	at int64
	ag *agent
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
