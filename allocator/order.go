package allocator

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/google/btree"
)

// The order in which clients are offered resources is kept incrementally in
// B-trees keyed by (share, allocation count, name): an allocation moves one
// framework and the entries of its role's lineage, O(depth · log n), instead
// of re-sorting every client for every agent. While one agent is being
// offered, keys go stale and are repositioned together afterwards (flush).

type sortKey struct {
	share  Ratio
	allocs uint64
	prefix uint64 // the name's first 8 bytes, big-endian, zero-padded
	name   string
}

func newKey(share Ratio, allocs uint64, name string) sortKey {
	var b [8]byte
	copy(b[:], name)
	return sortKey{share: share, allocs: allocs, prefix: binary.BigEndian.Uint64(b[:]), name: name}
}

// less orders keys by share, allocations and name; names whose prefixes
// differ are ordered as their prefixes are, without reading the strings.
func (k *sortKey) less(o *sortKey) bool {
	if c := k.share.cmp(&o.share); c != 0 {
		return c < 0
	}
	if k.allocs != o.allocs {
		return k.allocs < o.allocs
	}
	if k.prefix != o.prefix {
		return k.prefix < o.prefix
	}
	return k.name < o.name
}

// entry is a role in the role order: either its own frameworks (self) or,
// for hierarchical policies, the role with all its sub-roles.
type entry struct {
	key   sortKey
	role  *role
	self  bool
	tree  *btree.BTreeG[*entry]
	dirty bool
}

// clientItem is a client in its role's order, with its index: walking the
// order past the clients that filtered an agent reads their filter bits
// without reading the clients.
type clientItem struct {
	c   *client
	idx int32
}

func item(c *client) clientItem { return clientItem{c, c.idx} }

func entryLess(x, y *entry) bool      { return x.key.less(&y.key) }
func clientLess(x, y clientItem) bool { return x.c.key.less(&y.c.key) }

func (a *Allocator) insertEntry(e *entry, t *btree.BTreeG[*entry]) {
	e.tree = t
	t.ReplaceOrInsert(e)
}

// activate puts a client into its role's framework order.
func (a *Allocator) activate(c *client) {
	if !c.inTree && !c.suppressed {
		c.key = a.clientKey(c)
		c.role.frameworks.ReplaceOrInsert(item(c))
		c.inTree = true
		a.active++
		a.countStrong(c, +1)
		a.markEntries(c.role) // H-DRF: the role's frameworks may demand now
	}
}

// deactivate takes a client out of the order (suppressed or removed).
func (a *Allocator) deactivate(c *client) {
	if c.inTree {
		c.role.frameworks.Delete(item(c))
		c.inTree = false
		a.active--
		a.countStrong(c, -1)
		a.markEntries(c.role)
	}
}

func (a *Allocator) markClient(c *client) {
	if !c.dirty {
		c.dirty = true
		a.dirtyClients = append(a.dirtyClients, c)
	}
}

// markEntries marks the entries of r and its ancestors for repositioning.
func (a *Allocator) markEntries(r *role) {
	a.markEntry(r.self)
	for x := r; x != nil; x = x.parent {
		if x.subtree != nil {
			a.markEntry(x.subtree)
		}
	}
}

func (a *Allocator) markEntry(e *entry) {
	if !e.dirty {
		e.dirty = true
		a.dirtyEntries = append(a.dirtyEntries, e)
	}
}

// flush brings every key up to date and repositions what moved.
func (a *Allocator) flush() {
	if a.market != nil && a.market.Reprice(a.marketUsage()) {
		a.resortAll = true
	}
	if a.resortAll {
		a.resort()
		return
	}
	for _, c := range a.dirtyClients {
		c.dirty = false
		if c.inTree {
			c.role.frameworks.Delete(item(c))
			c.key = a.clientKey(c)
			c.role.frameworks.ReplaceOrInsert(item(c))
		}
	}
	if a.rescale { // H-DRF: children before their parents
		slices.SortFunc(a.dirtyEntries, func(x, y *entry) int { return cmp.Compare(y.depth(), x.depth()) })
	}
	for _, e := range a.dirtyEntries {
		e.dirty = false
		if !a.rescale && e.tree.Len() == 1 {
			// Alone in its tree, the entry is ordered against nothing: a
			// tree gains entries only in role(), which has every key
			// recomputed (resort). H-DRF's keys feed their parents'.
			continue
		}
		e.tree.Delete(e)
		e.key = a.entryKey(e)
		e.tree.ReplaceOrInsert(e)
	}
	a.dirtyClients, a.dirtyEntries = a.dirtyClients[:0], a.dirtyEntries[:0]
}

// resort recomputes every key: the cluster total or the policy's view of
// every client changed. Trees are rebuilt in order of depth (deepest
// first, as H-DRF computes a subtree from its children), then name, so that
// the result does not depend on map iteration.
func (a *Allocator) resort() {
	a.resortAll = false
	for _, c := range a.dirtyClients {
		c.dirty = false
	}
	for _, e := range a.dirtyEntries {
		e.dirty = false
	}
	a.dirtyClients, a.dirtyEntries = a.dirtyClients[:0], a.dirtyEntries[:0]
	a.root.Clear(false)
	for _, name := range sortedKeys(a.roles) {
		r := a.roles[name]
		r.frameworks.Clear(false)
		if r.children != nil {
			r.children.Clear(false)
		}
	}
	for _, fw := range a.sortedFrameworks() {
		for _, c := range fw.clients {
			if c.inTree {
				c.key = a.clientKey(c)
				c.role.frameworks.ReplaceOrInsert(item(c))
			}
		}
	}
	names := sortedKeys(a.roles) // after the frameworks: H-DRF asks which roles have active ones
	slices.SortStableFunc(names, func(x, y string) int { return cmp.Compare(depth(y), depth(x)) })
	for _, name := range names {
		r := a.roles[name]
		r.self.key = a.entryKey(r.self)
		r.self.tree.ReplaceOrInsert(r.self)
		if r.subtree != nil {
			r.subtree.key = a.entryKey(r.subtree)
			r.subtree.tree.ReplaceOrInsert(r.subtree)
		}
	}
}

// clientKey returns c's key now: its name (and prefix) are those it was
// given when it subscribed.
func (a *Allocator) clientKey(c *client) sortKey {
	k := c.key
	k.share, k.allocs = a.share(string(c.fw.id), oneRatio, c.allocs, c.alloc), c.allocs
	return k
}

// entryKey returns e's key now: its name (and prefix) are those it was
// given when its role was made ("." for a role's own frameworks among its
// sub-roles).
func (a *Allocator) entryKey(e *entry) sortKey {
	k := e.key
	r := e.role
	switch {
	case !e.self && a.rescale:
		r.hsub = a.hdrfSubtree(r)
		k.share, k.allocs = r.hsub.s, r.subAlloc
	case !e.self:
		k.share, k.allocs = a.share(r.name, r.wr, r.subAlloc, r.sub), r.subAlloc
	case a.rescale:
		r.hself = a.hdrfSelf(r)
		k.share, k.allocs = r.hself.s, r.ownAlloc
	case a.hier: // the role's own frameworks among its sub-roles
		k.share, k.allocs = a.share(r.name, oneRatio, r.ownAlloc, r.own), r.ownAlloc
	default:
		k.share, k.allocs = a.share(r.name, r.wr, r.ownAlloc, r.own), r.ownAlloc
	}
	return k
}

// totals returns the cluster total by resource name.
func (a *Allocator) totals() []Quantity {
	if len(a.totalBy) != len(a.dims.names) {
		a.totalBy = a.dims.byName(a.total, a.totalBy)
	}
	return a.totalBy
}

// depth orders entries children first: a role's own frameworks sit below
// the role's subtree, sub-roles below their parent.
func (e *entry) depth() int {
	d := 2 * depth(e.role.name)
	if e.self {
		d++
	}
	return d
}

func depth(role string) int { return strings.Count(role, "/") }

func (a *Allocator) share(name string, weight Ratio, allocs uint64, alloc vec) Ratio {
	u := &a.usage
	u.Name, u.Weight, u.Allocations = name, weight, allocs
	u.Resources = a.dims.names
	u.Allocated = a.dims.byName(alloc, u.Allocated)
	u.Total = a.totals()
	return a.policy.Share(u)
}

// marketUsage returns the usage of every role that holds resources, by
// name, for a Market policy.
func (a *Allocator) marketUsage() []Usage {
	var out []Usage
	for _, name := range sortedKeys(a.roles) {
		r := a.roles[name]
		if r.own.isZero() {
			continue
		}
		out = append(out, Usage{Name: name, Weight: r.wr, Allocations: r.ownAlloc, Resources: a.dims.names,
			Allocated: a.dims.byName(r.own, nil), Total: a.totals()})
	}
	return out
}

// eachRole visits the roles in the policy's order until visit returns false.
func (a *Allocator) eachRole(visit func(*role) bool) {
	a.walk(a.root, visit)
}

func (a *Allocator) walk(t *btree.BTreeG[*entry], visit func(*role) bool) bool {
	more := true
	t.Ascend(func(e *entry) bool {
		if e.self {
			more = visit(e.role)
		} else {
			more = a.walk(e.role.children, visit)
		}
		return more
	})
	return more
}
