package allocator

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// The random policy is the baseline with no notion of fairness: every cycle
// it draws a new order of the clients, weighted so that a client of weight w
// comes first w times as often as one of weight 1 (sampling without
// replacement by exponential keys, Efraimidis and Spirakis 2006). The draw
// comes from the allocator's seeded source, so a seed fixes every order.

func init() {
	Register("random", func(*Config) (Policy, error) { return &random{}, nil })
}

type random struct{ nonce uint64 }

var (
	_ Policy       = (*random)(nil)
	_ CycleStarter = (*random)(nil)
)

func (p *random) StartCycle(r *rand.Rand) { p.nonce = r.Uint64() }

// Share is an Exp(1) draw divided by the weight; the draw is a hash of the
// cycle's nonce and the client's name, so it does not depend on the order in
// which clients are asked.
func (p *random) Share(u *Usage) Ratio {
	h := fnv.New64a()
	h.Write([]byte(u.Name))
	x := splitmix64(h.Sum64() ^ p.nonce)
	unit := (float64(x>>11) + 0.5) / (1 << 53) // in (0, 1)
	return FloatRatio(-math.Log(unit) / u.Weight.Float64())
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
