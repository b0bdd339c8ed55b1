package allocator

import (
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The DRF paper's CEEI example (Ghodsi et al. 2011, section 5.2): on
// <9 CPUs, 18 GB>, A's tasks <1 CPU, 4 GB> and B's <3 CPUs, 1 GB>. CEEI
// maximises x*y subject to x + 3y <= 9 and 4x + y <= 18: both constraints
// bind, x = 45/11 and y = 18/11, so A gets <45/11 CPUs, 180/11 GB> (4.09,
// 16.36) and B <54/11 CPUs, 18/11 GB> (4.91, 1.64). (Both multipliers of the
// optimality conditions, 162/121 and 9/121, are positive.) The prices that
// clear the market with incomes of 1 are 1/5 per CPU and 1/90 per GB.
func TestEquilibriumDRFPaperExample(t *testing.T) {
	x, prices, err := Equilibrium([]float64{9, 18}, [][]float64{{1, 4}, {3, 1}}, []float64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"A's tasks", x[0], 45.0 / 11}, {"B's tasks", x[1], 18.0 / 11},
		{"CPU price", prices[0], 1.0 / 5}, {"GB price", prices[1], 1.0 / 90},
	} {
		if math.Abs(c.got-c.want) > 1e-9*c.want {
			t.Errorf("%s: %v; want %v", c.what, c.got, c.want)
		}
	}
}

// A resource nobody demands up to its capacity is free, and a user alone
// takes all it can: one user of <1, 4> on <9, 18> buys 4.5 units (memory
// binds, CPU has a price of 0).
func TestEquilibriumSlackResource(t *testing.T) {
	x, prices, err := Equilibrium([]float64{9, 18, 5}, [][]float64{{1, 4, 0}}, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(x[0]-4.5) > 1e-9 || prices[0] != 0 || prices[2] != 0 || math.Abs(prices[1]-1.0/18) > 1e-12 {
		t.Fatalf("x %v, prices %v; want 4.5 units, prices 0, 1/18, 0", x, prices)
	}
}

// The equilibrium is feasible, clears every resource that has a price,
// and gives each user what its income buys (the optimality conditions of
// the Eisenberg-Gale program); incomes scale the allocation as weights.
func TestEquilibriumProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 5).Draw(t, "resources")
		capacity := make([]float64, k)
		for r := range capacity {
			capacity[r] = float64(rapid.IntRange(1, 100).Draw(t, "capacity"))
		}
		var demands [][]float64
		var incomes []float64
		for range rapid.IntRange(1, 12).Draw(t, "users") {
			d := make([]float64, k)
			for r := range d {
				d[r] = float64(rapid.IntRange(0, 5).Draw(t, "demand"))
			}
			d[rapid.IntRange(0, k-1).Draw(t, "some")] += 1
			demands = append(demands, d)
			incomes = append(incomes, float64(rapid.IntRange(1, 4).Draw(t, "income")))
		}
		x, prices, err := Equilibrium(capacity, demands, incomes)
		if err != nil {
			t.Fatal(err)
		}
		for r := range capacity {
			used := 0.0
			for i, d := range demands {
				used += x[i] * d[r]
			}
			if used > capacity[r]*(1+1e-9) {
				t.Fatalf("resource %d: %v used of %v", r, used, capacity[r])
			}
			if prices[r] > 1e-9 && used < capacity[r]*(1-1e-9) {
				t.Fatalf("resource %d has price %v but %v of %v is used", r, prices[r], used, capacity[r])
			}
		}
		for i, d := range demands {
			spend := 0.0
			for r := range d {
				spend += prices[r] * d[r]
			}
			if math.Abs(x[i]*spend-incomes[i]) > 1e-9*incomes[i] {
				t.Fatalf("user %d spends %v of its income %v", i, x[i]*spend, incomes[i])
			}
		}
	})
}

func TestEquilibriumErrors(t *testing.T) {
	for _, c := range []struct {
		capacity []float64
		demands  [][]float64
		incomes  []float64
		want     string
	}{
		{[]float64{1}, [][]float64{{1}}, nil, "1 demands and 0 incomes"},
		{[]float64{1}, [][]float64{{1, 2}}, []float64{1}, "demand 0 has 2 resources; the capacity has 1"},
		{[]float64{1}, [][]float64{{0}}, []float64{1}, "demand 0 is empty"},
		{[]float64{0}, [][]float64{{1}}, []float64{1}, "whose capacity is 0"},
		{[]float64{1}, [][]float64{{1}}, []float64{-1}, "income 0 is -1"},
	} {
		if _, _, err := Equilibrium(c.capacity, c.demands, c.incomes); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v; want %q", err, c.want)
		}
	}
}
