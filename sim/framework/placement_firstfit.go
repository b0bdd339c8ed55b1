package framework

// FirstFit places a task on the first candidate that holds it, and a
// fraction of a GPU on the first device that holds it.
type FirstFit struct{}

func init() { RegisterPlacement("first-fit", func(PlacementConfig) Placement { return FirstFit{} }) }

// Place implements Placement.
func (FirstFit) Place(t Shape, cands []Candidate) (Choice, bool) {
	for i := range cands {
		if c := &cands[i]; Fits(t, c) {
			return Choice{Cand: i, Device: firstDevice(t, c)}, true
		}
	}
	return Choice{}, false
}

// firstDevice is the first device that holds a fraction (-1 otherwise).
func firstDevice(t Shape, c *Candidate) int {
	if t.Count != 1 || t.GPU >= milli {
		return -1
	}
	for i, f := range c.GPUs {
		if f >= t.GPU {
			return i
		}
	}
	return -1
}
