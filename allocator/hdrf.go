package allocator

// H-DRF (Bhattacharya et al., "Hierarchical Scheduling for Diverse
// Datacenter Workloads", SoCC 2013) orders a tree of roles so that no leaf
// starves. The naive way, which the Mesos sorter takes ("hdrf-naive"),
// gives a subtree the dominant share of everything in it; a subtree whose
// children use different resources then looks richer than any of them, and
// a sibling subtree takes what a starving child of it frees (the paper's
// section 4.2). H-DRF computes a subtree's share from its demanding
// children only, each rescaled so that its weighted dominant share equals
// the smallest among them: the subtree is as poor as its poorest demanding
// child. Children that demand nothing are ignored (the paper's blocked
// nodes). A leaf is a role's own frameworks (the "." entry among its
// sub-roles); it demands when one of them is active (not suppressed), and,
// in progressive filling, when the next task of one of them fits on an
// agent.
//
// In shares of the cluster total, child i holding C_i at weighted share
// s_i rescaled to m = min s_i holds m * q_i, where q_i = (C_i / total) / s_i
// is its profile (its largest entry is its weight). The subtree holds
// m * sum(q_i), its weighted share is m * max(sum(q_i)) / w and its profile
// w * sum(q_i) / max(sum(q_i)). Everything is exact (Ratio).

type hnode struct {
	s         Ratio   // weighted dominant share after rescaling
	q         []Ratio // profile, by resource name; nil when s is 0
	demanding bool
}

type rescaler interface{ rescales() bool }

func rescales(p Policy) bool {
	r, ok := p.(rescaler)
	return ok && r.rescales()
}

// hdrfSelf computes the leaf of a role's own frameworks.
func (a *Allocator) hdrfSelf(r *role) hnode {
	own, total := a.dims.byName(r.own, nil), a.totals()
	var s Ratio
	for n, x := range own {
		if x > 0 {
			s = s.Max(Frac(x, total[n]))
		}
	}
	h := hnode{s: s, demanding: a.selfDemands(r)}
	if !s.IsZero() {
		h.q = make([]Ratio, len(own))
		for n, x := range own {
			h.q[n] = Frac(x, total[n]).Quo(s)
		}
	}
	return h
}

// hdrfSubtree computes a role's subtree from its children, whose nodes are
// up to date.
func (a *Allocator) hdrfSubtree(r *role) hnode {
	children := []*hnode{&r.hself}
	for _, k := range r.kids {
		children = append(children, &k.hsub)
	}
	var m Ratio
	var sum []Ratio
	demanding := false
	for _, c := range children {
		if !c.demanding {
			continue
		}
		if !demanding || c.s.Cmp(m) < 0 {
			m = c.s
		}
		demanding = true
		for n, x := range c.q {
			for len(sum) <= n {
				sum = append(sum, Ratio{})
			}
			sum[n] = sum[n].Add(x)
		}
	}
	if !demanding { // nothing to offer it: its share is everything it holds
		sub := Usage{Weight: r.wr, Allocated: a.dims.byName(r.sub, nil), Total: a.totals()}
		return hnode{s: dominantShare(&sub).Quo(r.wr)}
	}
	var top Ratio
	for _, x := range sum {
		top = top.Max(x)
	}
	h := hnode{s: m.Mul(top).Quo(r.wr), demanding: true}
	if !h.s.IsZero() {
		h.q = make([]Ratio, len(sum))
		for n, x := range sum {
			h.q[n] = x.Mul(r.wr).Quo(top)
		}
	}
	return h
}

// selfDemands reports whether a role's own frameworks want resources: one
// is active, and, during progressive filling, its next task fits somewhere.
func (a *Allocator) selfDemands(r *role) bool {
	demands := false
	r.frameworks.Ascend(func(it clientItem) bool {
		demands = a.filling == nil || a.filling.demands(a, it.c)
		return !demands
	})
	return demands
}
