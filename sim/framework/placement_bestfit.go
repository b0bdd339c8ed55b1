package framework

// BestFit places a task on the candidate with the least left after it:
// the sum over CPU, memory and GPU of what is left as a share of the
// agent's capacity (the paper's Best-fit, every dimension weighted alike).
type BestFit struct{}

func init() { RegisterPlacement("best-fit", func(PlacementConfig) Placement { return BestFit{} }) }

// Place implements Placement.
func (BestFit) Place(t Shape, cands []Candidate) (Choice, bool) {
	return bestBy(t, cands, func(c *Candidate) float64 {
		s := ratio(c.CPU-t.CPU, c.CPUCap) + ratio(c.Mem-t.Mem, c.MemCap)
		if gpuCap(c) > 0 {
			s += ratio(freeGPUs(c)-t.GPUs(), gpuCap(c))
		}
		return s
	})
}
