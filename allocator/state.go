package allocator

import (
	"cmp"
	"math/bits"
	"slices"

	"github.com/google/btree"
)

// agent's fields are laid out in the order a cycle and a decline read them,
// what they read first together: they come to it from memory, agent after
// agent.
type agent struct {
	// Cycles visit only candidate agents (see candidates): an agent is
	// touched when what it could offer changes (its available resources,
	// the filters on it), and an agent that offered nothing because every
	// framework had filtered it or was suppressed is blocked until the set
	// of active frameworks changes.
	seq      uint64 // order of addition, never reused: the shuffle's key
	visited  uint64 // the cycle that last visited it
	idx      int    // dense index into filter bitsets; reused after removal
	touched  bool
	blocked  bool // in Allocator.blockedIdle
	inactive bool // not offered (its agent is disconnected); what it holds stays charged

	filters   agentFilters
	total     vec
	allocated vec      // offered and in use
	offers    []*offer // outstanding, in id order
	info      AgentInfo
	// inline holds total, allocated and the filters' high-water mark while
	// they have at most inlineDims dimensions, and offer1 the outstanding
	// offer while there is one: a cycle reads them with the agent rather
	// than from more places in memory.
	inline [3 * inlineDims]Quantity
	offer1 [1]*offer

	order int // position in Allocator.agents
	used  map[*client]*vec
}

type framework struct {
	id      FrameworkID
	roles   []string // as subscribed
	clients map[string]*client
}

// client is a framework inside one of its roles: what the role's framework
// sorter orders. What a cycle reads of it to pick among the clients that
// have not filtered an agent comes first, in the fewest cache lines.
type client struct {
	idx        int32 // dense index; reused after removal
	suppressed bool
	inTree     bool
	dirty      bool
	role       *role
	key        sortKey
	fw         *framework
	alloc      vec
	allocs     uint64
	filterBits bitset // agents (by index) on which the client has a filter
	used       map[*agent]*vec
}

type role struct {
	name     string
	up       *role // the parent role by name
	parent   *role // the parent in the order: up for hierarchical policies, else nil
	weight   float64
	wr       Ratio // weight, exact
	cfg      RoleConfig
	clients  int // subscribed clients, suppressed or not
	own      vec // allocation to the role's own frameworks
	sub      vec // allocation to the role and its sub-roles
	ownAlloc uint64
	subAlloc uint64
	reserved vec // reservations on agents for the role and its sub-roles

	guarantee []Quantity // by name
	limit     []Quantity // by name, where limitSet
	limitSet  []bool

	frameworks *btree.BTreeG[clientItem]
	self       *entry                // the role's own frameworks in the order
	subtree    *entry                // the role and its sub-roles (hierarchical policies)
	children   *btree.BTreeG[*entry] // hierarchical: sub-roles and self
	kids       []*role               // hierarchical: sub-roles
	hself      hnode                 // H-DRF: the role's own frameworks
	hsub       hnode                 // H-DRF: the role and its sub-roles
	dimOK      []bool                // per dimension: may the role be offered it?
}

const inlineDims = 4

// newAgent returns an agent of total resources, which its storage holds
// when they fit.
func newAgent(info AgentInfo, total vec) *agent {
	ag := &agent{info: info, used: map[*client]*vec{}}
	ag.offers = ag.offer1[:0]
	const k = inlineDims
	if len(total) > k {
		ag.total, ag.filters.hw = total, total.clone()
		return ag
	}
	ag.total = append(ag.inline[0:0:k], total...)
	ag.allocated = ag.inline[k : k : 2*k]
	ag.filters.hw = append(ag.inline[2*k:2*k:3*k], total...)
	return ag
}

func (ag *agent) available() vec { return ag.availableTo(nil) }

// availableTo sets out to what ag has available, in place when it fits.
func (ag *agent) availableTo(out vec) vec {
	out = append(out[:0], ag.total...)
	out.sub(ag.allocated)
	return out
}

// availableWithin reports whether what ag has available fits in v.
func (ag *agent) availableWithin(v vec) bool {
	for d := range max(len(ag.total), len(ag.allocated)) {
		if ag.total.at(d)-ag.allocated.at(d) > v.at(d) {
			return false
		}
	}
	return true
}

func (r *role) hasQuota() bool { return len(r.guarantee) > 0 || r.limit != nil }

// role returns the named role, creating it and its ancestors.
func (a *Allocator) role(name string) *role {
	if r := a.roles[name]; r != nil {
		return r
	}
	r := &role{name: name, weight: 1, wr: oneRatio, frameworks: btree.NewG(32, clientLess)}
	a.roles[name] = r
	if p := parentRole(name); p != "" {
		r.up = a.role(p)
	}
	if a.hier {
		r.parent = r.up
		if r.parent != nil {
			r.parent.kids = append(r.parent.kids, r)
		}
	}
	if a.hier {
		r.children = btree.NewG(8, entryLess)
		r.self = &entry{role: r, self: true, key: newKey(Ratio{}, 0, ".")}
		r.subtree = &entry{role: r, key: newKey(Ratio{}, 0, name)}
		a.insertEntry(r.self, r.children)
		parent := a.root
		if r.parent != nil {
			parent = r.parent.children
		}
		a.insertEntry(r.subtree, parent)
	} else {
		r.self = &entry{role: r, self: true, key: newKey(Ratio{}, 0, name)}
		a.insertEntry(r.self, a.root)
	}
	a.resortAll = true
	return r
}

// addReservations adds (sign +1) or removes (-1) an agent's reservations to
// the roles they are for and every ancestor.
func (a *Allocator) addReservations(total vec, sign Quantity) {
	for d, q := range total {
		name := a.dims.keys[d].role
		if q == 0 || name == "" {
			continue
		}
		one := make(vec, d+1)
		one[d] = sign * q
		for r := a.role(name); r != nil; r = r.up {
			r.reserved.add(one)
		}
	}
}

func sortedClients(m map[*client]*vec) []*client {
	cs := make([]*client, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(x, y *client) int {
		return cmp.Or(cmp.Compare(x.fw.id, y.fw.id), cmp.Compare(x.role.name, y.role.name))
	})
	return cs
}

func sortedAgents(m map[*agent]*vec) []*agent {
	as := make([]*agent, 0, len(m))
	for ag := range m {
		as = append(as, ag)
	}
	slices.SortFunc(as, func(x, y *agent) int { return cmp.Compare(x.info.ID, y.info.ID) })
	return as
}

// bitset is a growable set of small non-negative integers.
type bitset []uint64

func (b bitset) has(i int) bool {
	w := i >> 6
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

func (b *bitset) set(i int) {
	w := i >> 6
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

// put adds i when in is true and removes it otherwise.
func (b *bitset) put(i int, in bool) {
	if in {
		b.set(i)
	} else {
		b.clear(i)
	}
}

func (b bitset) clear(i int) {
	if w := i >> 6; w < len(b) {
		b[w] &^= 1 << (uint(i) & 63)
	}
}

// each calls f with every member, in increasing order.
func (b bitset) each(f func(int)) {
	for w, word := range b {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			f(w<<6 | i)
			word &= word - 1
		}
	}
}
