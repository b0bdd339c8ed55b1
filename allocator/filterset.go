package allocator

import (
	"math/bits"
	"slices"
)

// filterSet holds an agent's filters by client. While the agent has few
// filters, relative to the clients there are, they sit in a small slice
// sorted by client, beside the slice of their clients that a search reads
// (4 bytes a filter, not 16): cheaper than a map to search, change and
// walk. New filters gather in a short unsorted tail after the sorted run
// and are merged into it tailMax at a time, so that adding one does not
// move half the slice. Once it has many (the Mesos benchmark's agents end
// with a filter of every framework) they move to a table indexed by
// client, so that adding, finding and removing one stays O(1) however
// many accumulate, with a bitset of the clients that have one and one of
// those whose filter is strong (so that walking the order past filtered
// clients reads bits, not the table). Both forms walk in client order.
type filterSet struct {
	n      int
	ids    []int32  // in sorted form: the clients (indexes into Allocator.clients), in order up to head
	sorted []filter // in sorted form: their filters
	head   int      // in sorted form: ids[:head] are in order, ids[head:] the tail, as added
	table  []filter // by client index, in table form
	has    bitset   // in table form: the clients with a filter
	strong bitset   // in table form: the clients with a strong filter
}

// tailMax is how many filters the sorted form's tail holds before they are
// merged into the sorted run: a search reads them all, 4 bytes each.
const tailMax = 16

// find returns where c's filter is in sorted form, and whether it is
// there: in the sorted run, or in the tail.
func (s *filterSet) find(c int32) (int, bool) {
	if i, ok := slices.BinarySearch(s.ids[:s.head], c); ok {
		return i, true
	}
	if i := slices.Index(s.ids[s.head:], c); i >= 0 {
		return s.head + i, true
	}
	return 0, false
}

// get returns c's filter, or nil.
func (s *filterSet) get(c int32) *filter {
	if s.table != nil {
		if s.has.has(int(c)) {
			return &s.table[c]
		}
		return nil
	}
	if i, ok := s.find(c); ok {
		return &s.sorted[i]
	}
	return nil
}

// put sets c's filter. clients is how many client indexes there are, and
// tableAt how many filters the agent must hold for them to move to a table.
func (s *filterSet) put(c int32, f filter, clients, tableAt int) {
	if s.table != nil {
		for len(s.table) <= int(c) {
			s.table = append(s.table, filter{})
		}
		if !s.has.has(int(c)) {
			s.has.set(int(c))
			s.n++
		}
		s.table[c] = f
		s.strong.put(int(c), f.strong)
		return
	}
	if i, ok := s.find(c); ok {
		s.sorted[i] = f
		return
	}
	s.ids = append(s.ids, c)
	s.sorted = append(s.sorted, f)
	s.n++
	if s.n >= tableAt {
		s.toTable(clients)
	} else if s.n-s.head >= tailMax {
		s.merge()
	}
}

// merge sorts the tail into the sorted run, from the back, each filter
// moving once.
func (s *filterSet) merge() {
	var ids [tailMax]int32
	var fs [tailMax]filter
	k := copy(ids[:], s.ids[s.head:])
	copy(fs[:], s.sorted[s.head:])
	for i := 1; i < k; i++ { // insertion sort of the few
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	i, w := s.head-1, s.n-1
	for j := k - 1; j >= 0; w-- {
		if i >= 0 && s.ids[i] > ids[j] {
			s.ids[w], s.sorted[w] = s.ids[i], s.sorted[i]
			i--
		} else {
			s.ids[w], s.sorted[w] = ids[j], fs[j]
			j--
		}
	}
	s.head = s.n
}

func (s *filterSet) toTable(clients int) {
	s.table = make([]filter, clients)
	s.has = make(bitset, (clients+63)/64)
	s.strong = make(bitset, (clients+63)/64)
	for i, c := range s.ids {
		s.table[c] = s.sorted[i]
		s.has.set(int(c))
		s.strong.put(int(c), s.sorted[i].strong)
	}
	s.ids, s.sorted, s.head = nil, nil, 0
}

// isStrong reports whether c has a strong filter, in table form only (it
// reads a bit, not the filter): false in sorted form.
func (s *filterSet) isStrong(c int32) bool { return s.strong.has(int(c)) }

// setStrong sets whether c's filter f (from get or each) is strong.
func (s *filterSet) setStrong(c int32, f *filter, strong bool) {
	f.strong = strong
	if s.table != nil {
		s.strong.put(int(c), strong)
	}
}

// del removes c's filter, if any. A table emptied goes back to the sorted
// form, giving its memory back.
func (s *filterSet) del(c int32) {
	if s.table != nil {
		if s.has.has(int(c)) {
			s.has.clear(int(c))
			s.strong.clear(int(c))
			s.table[c] = filter{}
			if s.n--; s.n == 0 {
				s.table, s.has, s.strong = nil, nil, nil
			}
		}
		return
	}
	if i, ok := s.find(c); ok {
		s.ids = slices.Delete(s.ids, i, i+1)
		s.sorted = slices.Delete(s.sorted, i, i+1)
		s.n--
		if i < s.head {
			s.head--
		}
	}
}

// each calls f with every filter, in client order; f may change the filter
// but not add or remove one.
func (s *filterSet) each(f func(c int32, fl *filter)) {
	if s.table != nil {
		s.has.each(func(i int) { f(int32(i), &s.table[i]) })
		return
	}
	if s.head < s.n {
		s.merge()
	}
	for i, c := range s.ids {
		f(c, &s.sorted[i])
	}
}

// clients returns the clients with a filter, in order.
func (s *filterSet) clients() []int32 {
	out := make([]int32, 0, s.n)
	s.each(func(c int32, _ *filter) { out = append(out, c) })
	return out
}

// eachWithout calls f with every client index below n that has no filter in
// table form, in order, a word of the bitset at a time.
func (s *filterSet) eachWithout(n int, f func(int)) {
	for w := 0; w*64 < n; w++ {
		var free uint64 = ^uint64(0)
		if w < len(s.has) {
			free = ^s.has[w]
		}
		if left := n - w*64; left < 64 {
			free &= 1<<uint(left) - 1
		}
		for free != 0 {
			f(w<<6 | bits.TrailingZeros64(free))
			free &= free - 1
		}
	}
}
