package framework

import "slices"

// GPUClustering places a task with tasks of the same GPU demand: first an
// agent that holds one with the same per-device demand, then an agent that
// holds no task, then any; the first among equals (the paper's GPU
// Clustering baseline). It reads Candidate.Demands.
type GPUClustering struct{}

func init() {
	RegisterPlacement("gpu-clustering", func(PlacementConfig) Placement { return GPUClustering{} })
}

// Place implements Placement.
func (GPUClustering) Place(t Shape, cands []Candidate) (Choice, bool) {
	return bestBy(t, cands, func(c *Candidate) float64 {
		switch {
		case slices.Contains(c.Demands, t.GPU):
			return 0
		case len(c.Demands) == 0:
			return 1
		}
		return 2
	})
}
