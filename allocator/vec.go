package allocator

// vec is the allocator's internal form of Resources: one Quantity per
// (name, role, device) dimension, indexed by the dimension numbers of one
// dims table. Vectors may be shorter than the table; missing entries are zero.
// Arithmetic on vecs is a loop over a handful of ints, with no string
// comparison and, in place, no allocation.
type vec []Quantity

type dimKey struct{ name, role, device string }

// dims interns the (name, role, device) keys one allocator has seen. It
// only grows. The devices of a name are dimensions of that name: shares,
// quotas and minimum allocations count them by name.
type dims struct {
	index  map[dimKey]int
	keys   []dimKey
	names  []string // distinct resource names, by first appearance
	nameOf []int    // dimension -> index in names
	unres  [][]int  // name -> its unreserved dimensions (the scalar and each device), in order
}

func newDims() *dims { return &dims{index: map[dimKey]int{}} }

// dim interns the scalar (name, role).
func (d *dims) dim(name, role string) int { return d.dimOf(dimKey{name, role, ""}) }

func (d *dims) dimOf(k dimKey) int {
	name, role := k.name, k.role
	if i, ok := d.index[k]; ok {
		return i
	}
	i := len(d.keys)
	d.index[k] = i
	d.keys = append(d.keys, k)
	n := -1
	for j, have := range d.names {
		if have == name {
			n = j
		}
	}
	if n < 0 {
		n = len(d.names)
		d.names = append(d.names, name)
		d.unres = append(d.unres, nil)
	}
	d.nameOf = append(d.nameOf, n)
	if role == "" {
		d.unres[n] = append(d.unres[n], i)
	}
	return i
}

// vec converts r, interning any new dimension.
func (d *dims) vec(r Resources) vec { return d.vecIn(nil, r) }

// vecIn is vec in the array of buf, for a vector the caller keeps no longer
// than buf.
func (d *dims) vecIn(buf vec, r Resources) vec {
	v := buf[:0]
	for _, e := range r {
		i := d.find(e)
		v = v.grow(i + 1)
		v[i] += e.Value
	}
	return v
}

// scanDims is how many of the first dimensions find compares before it
// hashes: a few string comparisons cost less than hashing three strings.
const scanDims = 8

// find returns the dimension of e's key, interning it if new.
func (d *dims) find(e Resource) int {
	for i := range min(len(d.keys), scanDims) {
		if k := &d.keys[i]; k.name == e.Name && k.role == e.Role && k.device == e.Device {
			return i
		}
	}
	return d.dimOf(dimKey{e.Name, e.Role, e.Device})
}

// resources converts v back, in dimension order.
func (d *dims) resources(v vec) Resources {
	r, _ := d.appendResources(nil, v)
	return r
}

// appendResources appends v's entries to buf and returns them as a bag of
// their own (its capacity ends where it does, so appending to it copies)
// and the grown buf, so that many bags can share one allocation.
func (d *dims) appendResources(buf Resources, v vec) (Resources, Resources) {
	start := len(buf)
	for i, q := range v {
		if q != 0 {
			buf = append(buf, Resource{Name: d.keys[i].name, Role: d.keys[i].role, Device: d.keys[i].device, Value: q})
		}
	}
	if len(buf) == start {
		return nil, buf
	}
	return buf[start:len(buf):len(buf)], buf
}

// byName sums v over roles into out, one entry per name of d.
func (d *dims) byName(v vec, out []Quantity) []Quantity {
	out = out[:0]
	for range d.names {
		out = append(out, 0)
	}
	for i, q := range v {
		out[d.nameOf[i]] += q
	}
	return out
}

func (v vec) grow(n int) vec {
	for len(v) < n {
		v = append(v, 0)
	}
	return v
}

func (v vec) clone() vec { return append(vec(nil), v...) }

// add adds o to v in place, growing v as needed.
func (v *vec) add(o vec) {
	if len(*v) < len(o) {
		*v = v.grow(len(o))
	}
	w := *v
	for i, q := range o {
		w[i] += q
	}
}

// sub subtracts o from v in place.
func (v *vec) sub(o vec) {
	if len(*v) < len(o) {
		*v = v.grow(len(o))
	}
	w := *v
	for i, q := range o {
		w[i] -= q
	}
}

func (v vec) at(i int) Quantity {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// contains reports whether o fits in v, dimension by dimension.
func (v vec) contains(o vec) bool {
	for i, q := range o {
		if q > v.at(i) {
			return false
		}
	}
	return true
}

func (v vec) isZero() bool {
	for _, q := range v {
		if q != 0 {
			return false
		}
	}
	return true
}

// equal reports whether v and o hold the same amounts (a missing entry is
// zero).
func (v vec) equal(o vec) bool {
	if len(v) < len(o) {
		v, o = o, v
	}
	for i, q := range v {
		if q != o.at(i) {
			return false
		}
	}
	return true
}

// bags converts vectors of at most inlineDims dimensions to Resources as
// dims.resources does, one bag for equal vectors while it remembers them:
// offers of the same amounts, which many are, share their resources. It
// remembers a bag a slot, the slot chosen by the amounts, the last one
// made there.
type bags struct {
	slot []bag
	buf  Resources // room for the bags to come
}

type bag struct {
	k [inlineDims]Quantity
	r Resources
}

const bagBits = 12 // 4,096 slots

func (b *bags) of(d *dims, v vec) Resources {
	if len(v) > inlineDims {
		return d.resources(v)
	}
	var k [inlineDims]Quantity
	copy(k[:], v)
	if b.slot == nil {
		b.slot = make([]bag, 1<<bagBits)
	}
	h := uint64(0)
	for _, q := range k {
		h = (h ^ uint64(q)) * 0x9e3779b97f4a7c15
	}
	s := &b.slot[h>>(64-bagBits)]
	if s.r != nil && s.k == k {
		return s.r
	}
	if cap(b.buf)-len(b.buf) < len(v) {
		b.buf = make(Resources, 0, 4*inlineDims) // small: a bag the table remembers keeps its whole chunk
	}
	s.k = k
	s.r, b.buf = d.appendResources(b.buf, v)
	return s.r
}
