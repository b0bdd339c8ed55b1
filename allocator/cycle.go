package allocator

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"time"
)

// Cycle is what one allocation cycle did.
type Cycle struct {
	Offers    []Offer // new offers, in the order they were made
	Rescinded []Offer // offers withdrawn because they outlived the offer timeout
}

// pass is the state of one allocation cycle.
type pass struct {
	now    time.Time
	stage  int // 1: quota guarantees; 2: fair sharing
	made   []*offer
	paired map[pairKey]*offer // (agent, role) -> its offer this cycle
	buf    vec
}

type pairKey struct {
	ag *agent
	r  *role
}

// Allocate runs one allocation cycle at time now, with the semantics of the
// Mesos hierarchical allocator: offers past the offer timeout are rescinded
// and expired filters dropped; then, agent by agent (a fresh seeded shuffle
// each cycle unless Config.KeepAgentOrder), roles in the policy's order are
// offered first what their quota guarantees still lack (stage 1) and then a
// fair share up to their limits (stage 2), never taking the headroom that
// other roles' unmet guarantees need. Inside a role the first framework in
// the policy's order that has not filtered the resources gets them all: each
// (agent, role) pair becomes at most one offer per cycle.
func (a *Allocator) Allocate(now time.Time) Cycle {
	var out Cycle
	out.Rescinded = a.expireOffers(now)
	a.cycles++
	if cs, ok := a.policy.(CycleStarter); ok {
		cs.StartCycle(a.rng)
		a.resortAll = true
	}
	a.flush()
	p := &pass{now: now, made: a.madeBuf[:0]}
	nonce := a.rng.Uint64()
	if a.quotas > 0 {
		p.paired = map[pairKey]*offer{}
		p.stage = 1
		for _, ag := range a.order(a.agents, nonce) {
			a.sweep(ag, now.UnixNano())
			if a.offerAgent(p, ag) == offered {
				a.flush()
			}
		}
	}
	p.stage = 2
	ags := a.order(a.candidates(now), nonce)
	for i, ag := range ags {
		if i%warmBatch == 0 {
			a.warm(ags[i:min(i+warmBatch, len(ags))])
		}
		a.sweep(ag, now.UnixNano())
		v := blocked
		if a.noIdleCache || !a.blocked(ag) {
			v = a.offerAgent(p, ag)
		}
		if v == offered {
			a.flush()
		}
		if v == blocked && !ag.blocked {
			a.blockedIdle[ag], ag.blocked = true, true
		} else if v != blocked && ag.blocked {
			delete(a.blockedIdle, ag)
			ag.blocked = false
		}
	}
	out.Offers = a.publish(p.made)
	a.madeBuf = p.made
	a.releaseBuffers()
	return out
}

// releaseBuffers empties the buffers a cycle reuses, so that they hold no
// agent or offer past it.
func (a *Allocator) releaseBuffers() {
	clear(a.madeBuf)
	clear(a.candBuf)
	clear(a.orderBuf)
}

// publish returns the offers made.
func (a *Allocator) publish(made []*offer) []Offer {
	if len(made) == 0 {
		return nil
	}
	out := make([]Offer, len(made))
	for i, o := range made {
		out[i] = a.public(o)
	}
	return out
}

// candidates returns the agents a cycle must visit: every agent touched
// since the last cycle, every agent whose earliest filter has expired, and,
// when the set of active frameworks changed, every agent that was blocked.
// The others offered nothing last time and nothing that decided it has
// changed. Quotas make every agent depend on every allocation, so with
// quotas (and in tests that check this exactness) every agent is visited.
func (a *Allocator) candidates(now time.Time) []*agent {
	defer func() { a.touched, a.allDirty, a.seenEpoch = a.touched[:0], false, a.epoch }()
	for _, ag := range a.touched {
		ag.touched = false
	}
	if a.noIdleCache || a.allDirty || a.quotas > 0 {
		return a.agents
	}
	out := a.candBuf[:0]
	defer func() { a.candBuf = out }()
	add := func(ag *agent) {
		if ag.visited != a.cycles && a.agentByIdx.at[ag.idx] == ag {
			ag.visited = a.cycles
			out = append(out, ag)
		}
	}
	for _, ag := range a.touched {
		add(ag)
	}
	for len(a.expiries) > 0 && a.expiries[0].at <= now.UnixNano() {
		add(heap.Pop(&a.expiries).(expiry).ag)
	}
	if a.epoch != a.seenEpoch {
		for ag := range a.blockedIdle {
			add(ag)
		}
	}
	return out
}

// order returns the agents in this cycle's order: a shuffle keyed by the
// cycle's nonce and each agent's sequence number, so that any subset of the
// agents comes in the same relative order as it would among all of them.
// The keys are distinct (sequence numbers are, and splitmix64 is a
// bijection), so any sort gives the same order.
func (a *Allocator) order(agents []*agent, nonce uint64) []*agent {
	ks := slices.Grow(a.keyBuf[:0], len(agents))
	for _, ag := range agents {
		k := keyedAgent{ag.seq, ag}
		if !a.cfg.KeepAgentOrder {
			k.key = splitmix64(nonce ^ ag.seq)
		}
		ks = append(ks, k)
	}
	ks, a.keyBuf2 = radixSort(ks, slices.Grow(a.keyBuf2[:0], len(ks))[:len(ks)])
	out := slices.Grow(a.orderBuf[:0], len(ks))[:len(ks)]
	a.orderBuf = out
	for i, k := range ks {
		out[i] = k.ag
		ks[i].ag, a.keyBuf2[i].ag = nil, nil // hold no agent past the cycle
	}
	a.keyBuf = ks
	return out
}

const radixMin = 256

type keyedAgent struct {
	key uint64
	ag  *agent
}

// radixSort sorts ks by key, a byte at a time from the lowest, using tmp
// (as long as ks) as the other buffer; it returns the sorted slice and the
// other buffer. Bytes that every key shares take no pass. Fewer keys than
// radixMin are sorted in place by comparison, which costs less than a
// radix sort's passes over its 256 counts.
func radixSort(ks, tmp []keyedAgent) (sorted, other []keyedAgent) {
	if len(ks) < radixMin {
		slices.SortFunc(ks, func(x, y keyedAgent) int { return cmp.Compare(x.key, y.key) })
		return ks, tmp
	}
	for shift := 0; shift < 64; shift += 8 {
		var at [256]int
		for _, k := range ks {
			at[byte(k.key>>shift)]++
		}
		if at[byte(ks[0].key>>shift)] == len(ks) {
			continue
		}
		sum := 0
		for d, n := range at {
			at[d] = sum
			sum += n
		}
		for _, k := range ks {
			d := byte(k.key >> shift)
			tmp[at[d]] = k
			at[d]++
		}
		ks, tmp = tmp, ks
	}
	return ks, tmp
}

// touch marks an agent whose offerable resources or filters changed.
func (a *Allocator) touch(ag *agent) {
	if !ag.touched {
		ag.touched = true
		a.touched = append(a.touched, ag)
	}
}

type verdict int

const (
	offered verdict = iota
	full            // nothing allocatable for any role with frameworks
	blocked         // something allocatable, but every framework filtered it or is suppressed
)

// offerAgent offers what ag has to the roles in order, and says whether it
// made or grew an offer, or why not.
func (a *Allocator) offerAgent(p *pass, ag *agent) verdict {
	v := full
	if ag.inactive {
		return full // ActivateAgent touches it again
	}
	a.eachRole(func(r *role) bool {
		if r.clients == 0 {
			return true
		}
		res := a.offerable(p.stage, ag, r, p.buf[:0])
		p.buf = res
		if !a.allocatable(res) {
			return true
		}
		if o := p.paired[pairKey{ag, r}]; o != nil {
			a.grow(o, res)
			v = offered
			return !a.exhausted(ag)
		}
		pick := a.firstUnfiltered(r, ag, res)
		if pick == nil {
			if v == full {
				v = blocked
			}
			return true
		}
		o := a.makeOffer(pick, ag, res, p.now)
		p.made = append(p.made, o)
		if p.paired != nil {
			p.paired[pairKey{ag, r}] = o
		}
		v = offered
		return !a.exhausted(ag)
	})
	return v
}

func (a *Allocator) exhausted(ag *agent) bool {
	for d, q := range ag.total {
		if q > ag.allocated.at(d) {
			return false
		}
	}
	return true
}

// offerable returns, in out, what role r may be offered of ag in a stage:
// the agent's available reservations for r or an ancestor of r, and its
// available unreserved resources where the policy admits r, within r's
// quota rules.
func (a *Allocator) offerable(stage int, ag *agent, r *role, out vec) vec {
	ok := a.dimsFor(r)
	admit := a.gate == nil || a.gate.Admit(r.name, ag.info.ID)
	for d, t := range ag.total {
		q := t - ag.allocated.at(d)
		if q < 0 || !ok[d] || !admit && a.dims.keys[d].role == "" {
			q = 0
		}
		out = append(out, q)
	}
	if a.quotas > 0 && !a.capUnreserved(stage, r, out) {
		return out[:0]
	}
	return out
}

// dimsFor returns, per dimension, whether role r may be offered it: every
// unreserved dimension, and reservations for r or an ancestor of r.
func (a *Allocator) dimsFor(r *role) []bool {
	for d := len(r.dimOK); d < len(a.dims.keys); d++ {
		res := a.dims.keys[d].role
		r.dimOK = append(r.dimOK, res == "" || IsWithin(r.name, res))
	}
	return r.dimOK
}

// allocatable reports whether v holds at least one of the minimum
// allocatable alternatives in full.
func (a *Allocator) allocatable(v vec) bool {
	if v.isZero() {
		return false
	}
	by := a.dims.byName(v, a.scratch)
	a.scratch = by
	for _, alt := range a.minAlloc {
		fits := true
		for n, q := range alt {
			if q > 0 && (n >= len(by) || by[n] < q) {
				fits = false
				break
			}
		}
		if fits {
			return true
		}
	}
	return false
}

// capUnreserved applies quota to the unreserved part of out: limits of r and
// its ancestors, the headroom that other roles' unmet guarantees need, and
// in stage 1 r's own unmet guarantee. It reports whether anything may be
// offered in this stage.
func (a *Allocator) capUnreserved(stage int, r *role, out vec) bool {
	unmet := a.unmet(r, nil)
	if stage == 1 {
		some := false
		for _, q := range unmet {
			some = some || q > 0
		}
		if !some {
			return false
		}
	}
	required := a.requiredHeadroom()
	gave := false
	for n, ds := range a.dims.unres {
		var offered, free Quantity // a name's unreserved dimensions: the scalar and each device
		for _, d := range ds {
			if d < len(out) {
				offered += out[d]
			}
			free += a.free.at(d)
		}
		if offered == 0 {
			continue
		}
		c := Quantity(math.MaxInt64)
		for x := r; x != nil; x = x.up {
			if n < len(x.limitSet) && x.limitSet[n] {
				c = min(c, x.limit[n]-a.consumedName(x, n))
			}
		}
		mine := at(unmet, n)
		if need := at(required, n) - mine; need > 0 {
			c = min(c, free-need)
		}
		if stage == 1 && n < len(r.guarantee) && r.guarantee[n] > 0 {
			c = min(c, mine)
		}
		for _, d := range ds { // the cap spread over the dimensions in order
			if d >= len(out) {
				continue
			}
			out[d] = max(0, min(out[d], c))
			c -= out[d]
			gave = gave || stage == 1 && out[d] > 0 && mine > 0
		}
	}
	return stage == 2 || gave
}

func at(qs []Quantity, i int) Quantity {
	if i < len(qs) {
		return qs[i]
	}
	return 0
}

// unmet returns, by name, what r's guarantee still lacks.
func (a *Allocator) unmet(r *role, out []Quantity) []Quantity {
	out = out[:0]
	if len(r.guarantee) == 0 {
		return out
	}
	used := a.consumed(r, a.scratch2)
	a.scratch2 = used
	for n, g := range r.guarantee {
		out = append(out, max(0, g-at(used, n)))
	}
	return out
}

func (a *Allocator) consumedName(r *role, n int) Quantity {
	used := a.consumed(r, a.scratch2)
	a.scratch2 = used
	return at(used, n)
}

// requiredHeadroom sums, by name, every role's unmet guarantee.
func (a *Allocator) requiredHeadroom() []Quantity {
	var sum []Quantity
	for _, r := range a.guaranteed {
		for n, q := range a.unmet(r, nil) {
			for len(sum) <= n {
				sum = append(sum, 0)
			}
			sum[n] += q
		}
	}
	return sum
}
