package allocator

// Asset fairness, the DRF paper's comparison policy: every resource is valued
// by its scarcity (one unit is worth 1/total of the cluster), and a client's
// share is the summed value of everything it holds, divided by its weight.
// On 9 CPUs and 18 GB one CPU is worth as much as two GB.

func init() {
	Register("asset", func(*Config) (Policy, error) { return asset{}, nil })
}

type asset struct{}

var _ Policy = asset{}

func (asset) Share(u *Usage) Ratio {
	var sum Ratio
	for i, a := range u.Allocated {
		if a > 0 {
			sum = sum.Add(Frac(a, u.Total[i]))
		}
	}
	return sum.Quo(u.Weight)
}
