package framework

// DotProduct places a task on the candidate whose free resources align
// best with the task's demand (Tetris, Grandl et al., SIGCOMM 2014): the
// largest dot product of the demand and the free vector, each dimension
// (CPU, memory, GPU) as a share of the agent's capacity.
type DotProduct struct{}

func init() {
	RegisterPlacement("dot-product", func(PlacementConfig) Placement { return DotProduct{} })
}

// Place implements Placement.
func (DotProduct) Place(t Shape, cands []Candidate) (Choice, bool) {
	return bestBy(t, cands, func(c *Candidate) float64 {
		dot := ratio(t.CPU, c.CPUCap)*ratio(c.CPU, c.CPUCap) + ratio(t.Mem, c.MemCap)*ratio(c.Mem, c.MemCap)
		if gpuCap(c) > 0 {
			dot += ratio(t.GPUs(), gpuCap(c)) * ratio(freeGPUs(c), gpuCap(c))
		}
		return -dot
	})
}
