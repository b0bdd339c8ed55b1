package allocator

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Equilibrium computes the competitive equilibrium from equal incomes
// (CEEI; with unequal incomes when they differ) of a market of divisible
// resources and users with Leontief demands, as in the DRF paper (Ghodsi
// et al., NSDI 2011, section 5): every user i buys x[i] units of its
// demand vector demands[i] with its income incomes[i] at the prices, and
// the prices clear the market. It is the allocation that maximises
// sum_i incomes[i] * log x[i] subject to sum_i x[i] * demands[i] <=
// capacity (Eisenberg and Gale), found as the minimum of the dual,
// prices . capacity - sum_i incomes[i] * log(prices . demands[i]) over
// non-negative prices, by projected Newton steps. Prices are scaled so that
// prices . capacity = sum of incomes; a resource nobody demands up to its
// capacity is free (price 0). The result is accurate to about 1e-12
// (relative); it is floating point because CEEI's prices can be
// irrational.
//
// On the paper's example (capacity <9 CPUs, 18 GB>, demands <1, 4> and
// <3, 1>, equal incomes) it gives x = 45/11 and 18/11.
func Equilibrium(capacity []float64, demands [][]float64, incomes []float64) (x, prices []float64, err error) {
	if len(demands) != len(incomes) {
		return nil, nil, fmt.Errorf("equilibrium: %d demands and %d incomes; want one income per demand", len(demands), len(incomes))
	}
	m := market{w: incomes, d: make([][]float64, len(demands))}
	for i, d := range demands {
		if len(d) != len(capacity) {
			return nil, nil, fmt.Errorf("equilibrium: demand %d has %d resources; the capacity has %d", i, len(d), len(capacity))
		}
		if !(incomes[i] > 0) || math.IsInf(incomes[i], 0) {
			return nil, nil, fmt.Errorf("equilibrium: income %d is %v; want a positive number", i, incomes[i])
		}
		// In units of the capacity, largest entry 1: the solution is the
		// same and the Newton system is well scaled.
		m.d[i] = make([]float64, len(d))
		top := 0.0
		for r, q := range d {
			switch {
			case q < 0 || math.IsNaN(q) || math.IsInf(q, 0):
				return nil, nil, fmt.Errorf("equilibrium: demand %d: %v of resource %d; want 0 or more", i, q, r)
			case q > 0 && !(capacity[r] > 0):
				return nil, nil, fmt.Errorf("equilibrium: demand %d wants resource %d, whose capacity is %v", i, r, capacity[r])
			case q > 0:
				m.d[i][r] = q / capacity[r]
				top = max(top, m.d[i][r])
			}
		}
		if top == 0 {
			return nil, nil, fmt.Errorf("equilibrium: demand %d is empty; want some resource", i)
		}
		for r := range m.d[i] {
			m.d[i][r] /= top
		}
	}
	mu := m.solve(len(capacity))
	x = make([]float64, len(demands))
	prices = make([]float64, len(capacity))
	for r := range mu {
		if mu[r] > 0 {
			prices[r] = mu[r] / capacity[r]
		}
	}
	for i, d := range demands {
		spend := 0.0
		for r, q := range d {
			spend += prices[r] * q
		}
		x[i] = incomes[i] / spend
	}
	return x, prices, nil
}

// market is the dual in capacity units: minimise f(mu) = sum(mu) -
// sum_i w[i] log(mu . d[i]) over mu >= 0.
type market struct {
	w []float64
	d [][]float64
}

const (
	marketTol   = 1e-12 // on the dual's projected gradient
	marketSteps = 200
)

func (m market) spend(mu []float64) ([]float64, bool) {
	s := make([]float64, len(m.d))
	for i, d := range m.d {
		for r, q := range d {
			s[i] += mu[r] * q
		}
		if !(s[i] > 0) {
			return nil, false
		}
	}
	return s, true
}

func (m market) f(mu []float64) float64 {
	s, ok := m.spend(mu)
	if !ok {
		return math.Inf(1)
	}
	v := 0.0
	for _, x := range mu {
		v += x
	}
	for i, w := range m.w {
		v -= w * math.Log(s[i])
	}
	return v
}

// solve returns the minimising mu: projected Newton steps on the free
// prices (those not held at 0 by a positive gradient), with a backtracking
// line search along the projected path.
func (m market) solve(k int) []float64 {
	total := 0.0
	for _, w := range m.w {
		total += w
	}
	mu := make([]float64, k) // resources nobody demands stay free
	for _, d := range m.d {
		for r, q := range d {
			if q > 0 {
				mu[r] = total / float64(k)
			}
		}
	}
	for range marketSteps {
		s, _ := m.spend(mu)
		g, h := m.gradient(mu, s)
		var free []int
		done := true
		for r := range mu {
			if mu[r] > 0 || g[r] < 0 {
				free = append(free, r)
				done = done && math.Abs(g[r]) <= marketTol
			}
		}
		if done {
			break
		}
		step := newtonStep(free, g, h)
		if !m.descend(mu, g, step) && !m.descend(mu, g, negate(g)) {
			break // no decrease is possible: a minimum to rounding
		}
	}
	return mu
}

func (m market) gradient(mu, s []float64) ([]float64, *mat.SymDense) {
	k := len(mu)
	g := make([]float64, k)
	h := mat.NewSymDense(k, nil)
	for r := range g {
		g[r] = 1
	}
	for i, d := range m.d {
		for r, q := range d {
			if q == 0 {
				continue
			}
			g[r] -= m.w[i] * q / s[i]
			for c := r; c < k; c++ {
				h.SetSym(r, c, h.At(r, c)+m.w[i]*q*d[c]/(s[i]*s[i]))
			}
		}
	}
	return g, h
}

// newtonStep solves the Newton system on the free prices; a singular one
// (demands that do not tell two resources apart) gets a small ridge. The
// system has a row per resource name, a handful: gonum factors it with
// its unblocked, serial routine (no goroutines below 64 rows).
func newtonStep(free []int, g []float64, h *mat.SymDense) []float64 {
	step := make([]float64, len(g))
	if len(free) == 0 {
		return step
	}
	sub := mat.NewSymDense(len(free), nil)
	rhs := mat.NewVecDense(len(free), nil)
	scale := 0.0
	for a, r := range free {
		rhs.SetVec(a, -g[r])
		for b, c := range free {
			sub.SetSym(a, b, h.At(r, c))
		}
		scale = max(scale, h.At(r, r))
	}
	var ch mat.Cholesky
	for ridge := 0.0; ; ridge = max(ridge*100, 1e-12*scale) {
		for a := range free {
			sub.SetSym(a, a, h.At(free[a], free[a])+ridge)
		}
		if ch.Factorize(sub) {
			break
		}
		if ridge > scale {
			return negate(g) // hopeless: a gradient step
		}
	}
	var x mat.VecDense
	var ill mat.Condition // ill-conditioned (the ridge): the solution is still the step
	if err := ch.SolveVecTo(&x, rhs); err != nil && !errors.As(err, &ill) {
		return negate(g)
	}
	for a, r := range free {
		step[r] = x.AtVec(a)
	}
	return step
}

// descend moves mu along the projected path mu + t*step (t = 1, 1/2, ...)
// to the first point that decreases f enough (Armijo); near the minimum,
// where the decrease is below what rounding lets f show, it takes the whole
// step. It reports whether it moved.
func (m market) descend(mu, g, step []float64) bool {
	f0 := m.f(mu)
	next := make([]float64, len(mu))
	for t := 1.0; t > 1e-20; t /= 2 {
		slope := 0.0
		for r := range mu {
			next[r] = max(0, mu[r]+t*step[r])
			slope += g[r] * (next[r] - mu[r])
		}
		if slope >= 0 {
			continue
		}
		f1 := m.f(next)
		if f1 <= f0+1e-4*slope || t == 1 && -slope < 1e-12*(1+math.Abs(f0)) && !math.IsInf(f1, 1) {
			copy(mu, next)
			return true
		}
	}
	return false
}

func negate(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = -x
	}
	return out
}
