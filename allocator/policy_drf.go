package allocator

// Dominant Resource Fairness (Ghodsi et al., NSDI 2011): a client's share is
// the largest fraction it holds of any one resource, divided by its weight.
// "drf" orders every role as a peer; "hdrf" orders nested roles as a tree
// (H-DRF, see hdrf.go), so that eng/ml and eng/web first share what eng is
// entitled to; "hdrf-naive" is the tree the Mesos sorter keeps, a subtree
// at the dominant share of everything in it, which the H-DRF paper shows
// can starve a leaf.

func init() {
	Register("drf", func(*Config) (Policy, error) { return drf{}, nil })
	Register("hdrf", func(*Config) (Policy, error) { return drf{hierarchical: true, rescale: true}, nil })
	Register("hdrf-naive", func(*Config) (Policy, error) { return drf{hierarchical: true}, nil })
}

type drf struct{ hierarchical, rescale bool }

var (
	_ Policy    = drf{}
	_ Hierarchy = drf{}
	_ rescaler  = drf{}
)

func (d drf) Hierarchical() bool { return d.hierarchical }
func (d drf) rescales() bool     { return d.rescale }

func (drf) Share(u *Usage) Ratio { return dominantShare(u).Quo(u.Weight) }

// dominantShare finds the largest fraction by cross-multiplying the
// quantities, and makes a Ratio of that one only.
func dominantShare(u *Usage) Ratio {
	best := -1
	for i, a := range u.Allocated {
		if a > 0 && u.Total[i] > 0 && (best < 0 || fracLess(u.Allocated[best], u.Total[best], a, u.Total[i])) {
			best = i
		}
	}
	if best < 0 {
		return Ratio{}
	}
	return Frac(u.Allocated[best], u.Total[best])
}
