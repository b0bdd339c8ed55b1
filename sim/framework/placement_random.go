package framework

import "math/rand/v2"

// Random places a task on a candidate drawn uniformly from those that hold
// it, and a fraction of a GPU on a device drawn from those that hold it,
// from its own source seeded by PlacementConfig.Seed.
type Random struct{ rng *rand.Rand }

func init() {
	RegisterPlacement("random", func(c PlacementConfig) Placement {
		return &Random{rng: rand.New(rand.NewPCG(c.Seed, 0x706c6163))}
	})
}

// Place implements Placement.
func (r *Random) Place(t Shape, cands []Candidate) (Choice, bool) {
	n, pick := 0, -1
	for i := range cands { // reservoir sampling: one pass, one draw per fit
		if Fits(t, &cands[i]) {
			n++
			if r.rng.IntN(n) == 0 {
				pick = i
			}
		}
	}
	if pick < 0 {
		return Choice{}, false
	}
	ch := Choice{Cand: pick, Device: -1}
	if t.Count == 1 && t.GPU < milli {
		n = 0
		for i, f := range cands[pick].GPUs {
			if f >= t.GPU {
				n++
				if r.rng.IntN(n) == 0 {
					ch.Device = i
				}
			}
		}
	}
	return ch, true
}
