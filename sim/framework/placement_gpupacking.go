package framework

// GPUPacking places a task where it leaves the most GPUs whole: first a
// partly used device that holds its fraction, then an agent with GPUs in
// use, then an idle agent; among equals the agent with the fewest free
// milli-GPUs, then the first (the paper's GPU Packing baseline).
type GPUPacking struct{}

func init() {
	RegisterPlacement("gpu-packing", func(PlacementConfig) Placement { return GPUPacking{} })
}

// Place implements Placement.
func (GPUPacking) Place(t Shape, cands []Candidate) (Choice, bool) {
	return bestBy(t, cands, func(c *Candidate) float64 {
		tier := 2.0
		for _, f := range c.GPUs {
			switch {
			case f < milli && f > 0 && t.Count == 1 && t.GPU < milli && f >= t.GPU:
				tier = 0
			case f < milli:
				tier = min(tier, 1)
			}
		}
		return tier*1e6 + ratio(freeGPUs(c), milli)
	})
}
