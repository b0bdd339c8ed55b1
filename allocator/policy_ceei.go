package allocator

import (
	"math"
	"slices"
)

// Competitive equilibrium from equal incomes (CEEI), the DRF paper's
// market-based comparison policy (Ghodsi et al., NSDI 2011, section 5):
// every role gets an income (its weight), resources get prices, and each
// role buys as much of its demand vector as its income pays for, at prices
// that clear the market (Equilibrium).
//
// CEEI divides divisible goods among users whose demands are known; an
// online allocator offers whole agents' resources to frameworks that do not
// declare their tasks. apron maps one onto the other so: a role's demand
// vector is the direction of what it holds now (its allocation, reduced by
// the greatest common divisor of its amounts, so that more of the same
// tasks is the same demand); the market is every role that holds
// something, priced at every change (and only re-solved when a demand's
// direction, a weight or the cluster changes); and a client's share is what
// it holds, valued at the equilibrium prices, over its income. A share of
// 1 is exactly the role's CEEI allocation, below 1 the role is short of it,
// so the role furthest below its target is offered first. A role that holds
// nothing has a share of 0 and goes first; it joins the market with its
// first task. Frameworks inside a role are ordered by the same prices.
// The prices are floating point (CEEI's can be irrational), so CEEI's ties
// are only as exact as the prices. On the DRF paper's example the targets
// are its A <45/11 CPUs, 180/11 GB> and B <54/11 CPUs, 18/11 GB>.

func init() {
	Register("ceei", func(*Config) (Policy, error) { return &ceei{}, nil })
}

type ceei struct {
	market []int64   // the market priced last: capacities, then each user's weight bits and demand
	prices []float64 // per resource name, per thousandth of a unit
}

var (
	_ Policy = (*ceei)(nil)
	_ Market = (*ceei)(nil)
)

func (p *ceei) Share(u *Usage) Ratio {
	v := 0.0
	for i, a := range u.Allocated {
		if i < len(p.prices) {
			v += p.prices[i] * float64(a)
		}
	}
	return FloatRatio(v / u.Weight.Float64())
}

func (p *ceei) Reprice(roles []Usage) bool {
	var market []int64
	var capacity, incomes []float64
	var demands [][]float64
	for i := range roles {
		u := &roles[i]
		if i == 0 {
			for _, t := range u.Total {
				market = append(market, int64(t))
				capacity = append(capacity, float64(t))
			}
		}
		d := direction(u.Allocated)
		if d == nil {
			continue
		}
		w := u.Weight.Float64()
		market = append(market, int64(math.Float64bits(w)))
		market = append(market, d...)
		incomes = append(incomes, w)
		demands = append(demands, make([]float64, len(d)))
		for r, q := range d {
			demands[len(demands)-1][r] = float64(q)
		}
	}
	if slices.Equal(market, p.market) && p.market != nil {
		return false
	}
	p.market = market
	prices := make([]float64, len(capacity))
	if len(demands) > 0 {
		// The inputs are an allocator's: every demand is within its
		// capacity and every weight positive, so no error can arise.
		_, prices, _ = Equilibrium(capacity, demands, incomes)
	}
	changed := !slices.Equal(prices, p.prices)
	p.prices = prices
	return changed
}

// direction returns v divided by the greatest common divisor of its
// amounts, nil for a zero vector.
func direction(v []Quantity) []int64 {
	var g int64
	for _, q := range v {
		g = gcd(g, int64(q))
	}
	if g == 0 {
		return nil
	}
	d := make([]int64, len(v))
	for i, q := range v {
		d[i] = int64(q) / g
	}
	return d
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
