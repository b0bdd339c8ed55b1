package allocator

// warmBatch is how many agents warm brings into cache at a time.
const warmBatch = 8

// warm reads the memory that visiting each of ags will read, so that the
// cache misses of one agent after another overlap in a short loop rather
// than each stalling the long visit that needs it: the agents come in a
// fresh random order every cycle, from anywhere in memory. It changes
// nothing.
func (a *Allocator) warm(ags []*agent) {
	var sum uint64
	for _, ag := range ags {
		sum += warmAgent(ag)
	}
	for _, ag := range ags { // then what the agents point to
		s := &ag.filters.byClient
		for w := 0; w < len(s.strong); w += 8 { // a word a line
			sum += s.strong[w] + s.has[w]
		}
		for i := 0; i < len(s.ids); i += 16 {
			sum += uint64(s.ids[i])
		}
	}
	a.warmSink += sum
}

// warmDeclines warms, when a decline reaches offer id and the offers
// warmed before are behind it, the next warmBatch offers' agents and the
// filters a decline of each would set: declines come, as a rule, in the
// order their offers were made, a cycle's offers in its random order of
// agents.
func (a *Allocator) warmDeclines(id OfferID) {
	if id >= a.warmedTo || id+warmBatch < a.warmedTo {
		a.warmedTo = id + warmBatch
		var sum uint64
		for i := id; i < a.warmedTo; i++ {
			if o := a.offers.get(i); o != nil {
				sum += warmAgent(o.ag) + uint64(len(o.c.filterBits))
			}
		}
		for i := id; i < a.warmedTo; i++ {
			if o := a.offers.get(i); o != nil {
				sum += warmFilter(o.ag, o.c)
			}
		}
		a.warmSink += sum
	}
}

// warmFilter reads what setting c's filter on ag reads beyond ag itself.
func warmFilter(ag *agent, c *client) uint64 {
	f := &ag.filters
	s := &f.byClient
	sum := uint64(len(f.refused) + len(f.young))
	if len(f.refused) > 0 && len(f.refused[0]) > 0 {
		sum += uint64(f.refused[0][0])
	}
	if len(f.young) > 0 {
		sum += uint64(f.young[0])
	}
	if int(c.idx) < len(s.table) {
		sum += s.has[c.idx>>6] + s.strong[c.idx>>6] + uint64(s.table[c.idx].expires)
	}
	if len(s.ids) > 0 {
		sum += uint64(s.ids[len(s.ids)/2])
	}
	if w := ag.idx >> 6; w < len(c.filterBits) {
		sum += c.filterBits[w]
	}
	return sum
}

// warmAgent reads ag's fields at most 64 bytes apart, a cache line's
// worth: every line of the agent that a visit or a decline reads.
func warmAgent(ag *agent) uint64 {
	f := &ag.filters
	return ag.seq + uint64(f.byClient.n+len(f.byClient.table)+len(f.byClient.strong)+len(f.hw)+len(f.young)) +
		uint64(len(ag.total)+len(ag.offers)+len(ag.info.ID)+len(ag.used)) + uint64(ag.inline[3]+ag.inline[11])
}
