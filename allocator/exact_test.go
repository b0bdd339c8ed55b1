package allocator_test

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"pgregory.net/rapid"
)

// The order never depends on a floating-point path: progressive filling
// gives the same picks when every quantity is scaled, when frameworks and
// roles are given in another order, and when every weight is written
// scaled by a decimal factor; and the picks are those of a reference
// progressive filling in math/big's exact arithmetic, ties going to fewer
// allocations, then to the smaller name.

type instance struct {
	policy  string
	agents  [][2]int64 // cpus, mem in units
	fws     []inst     // one framework per role, named as its role
	weights []string   // per framework, as written
}

type inst struct {
	name string
	task [2]int64
	left int
}

func drawInstance(t *rapid.T) instance {
	in := instance{policy: rapid.SampledFrom([]string{"drf", "asset", "hdrf", "hdrf-naive"}).Draw(t, "policy")}
	for range rapid.IntRange(1, 3).Draw(t, "agents") {
		in.agents = append(in.agents, [2]int64{rapid.Int64Range(1, 24).Draw(t, "cpus"), rapid.Int64Range(1, 24).Draw(t, "mem")})
	}
	for i := range rapid.IntRange(2, 4).Draw(t, "frameworks") {
		in.fws = append(in.fws, inst{
			name: string(rune('a' + i)),
			task: [2]int64{rapid.Int64Range(0, 4).Draw(t, "task cpus"), rapid.Int64Range(1, 4).Draw(t, "task mem")},
			left: rapid.SampledFrom([]int{allocator.Unlimited, 1, 3}).Draw(t, "tasks"),
		})
		in.weights = append(in.weights, strconv.Itoa(rapid.IntRange(1, 6).Draw(t, "weight")))
	}
	return in
}

func (in instance) res(v [2]int64, scale int64) allocator.Resources {
	s := fmt.Sprintf("mem:%d", v[1]*scale)
	if v[0] > 0 {
		s = fmt.Sprintf("cpus:%d;", v[0]*scale) + s
	}
	return allocator.MustParseResources(s)
}

// fill runs progressive filling with every quantity times scale, the
// frameworks in the order perm gives, and the weights as written.
func (in instance) fill(t *rapid.T, scale int64, perm []int, weights []string) string {
	cfg := allocator.Config{Policy: in.policy}
	for _, i := range perm {
		w, err := strconv.ParseFloat(weights[i], 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Roles = append(cfg.Roles, allocator.RoleConfig{Name: in.fws[i].name, Weight: w})
	}
	a, err := allocator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, ag := range in.agents {
		if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(fmt.Sprint("s", i))}, in.res(ag, scale)); err != nil {
			t.Fatal(err)
		}
	}
	var demands []allocator.Demand
	for _, i := range perm {
		f := in.fws[i]
		if err := a.AddFramework(allocator.FrameworkID(f.name), f.name); err != nil {
			t.Fatal(err)
		}
		demands = append(demands, allocator.Demand{Framework: allocator.FrameworkID(f.name), Role: f.name, Task: in.res(f.task, scale), Tasks: f.left})
	}
	picks, err := a.Fill(demands)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range picks {
		fmt.Fprintf(&b, "%s@%s ", p.Framework, p.Agent)
	}
	return b.String()
}

// reference is progressive filling in exact arithmetic, written from the
// documentation: the framework with the smallest weighted share (dominant
// share for drf and hdrf, the sum of shares for asset) whose task fits
// goes next, ties to fewer tasks, then to the smaller name; its task goes
// on the first agent where it fits.
func (in instance) reference() string {
	var total [2]int64
	free := slices.Clone(in.agents)
	for _, ag := range in.agents {
		total[0], total[1] = total[0]+ag[0], total[1]+ag[1]
	}
	held := make([]int, len(in.fws))
	share := func(i int) *big.Rat {
		s := new(big.Rat)
		for r := range 2 {
			x := big.NewRat(int64(held[i])*in.fws[i].task[r], total[r])
			if in.policy == "asset" {
				s.Add(s, x)
			} else if x.Cmp(s) > 0 {
				s = x
			}
		}
		w, _ := new(big.Rat).SetString(in.weights[i])
		return s.Quo(s, w)
	}
	var b strings.Builder
	for {
		order := make([]int, len(in.fws))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(x, y int) int {
			if c := share(x).Cmp(share(y)); c != 0 {
				return c
			}
			if held[x] != held[y] {
				return held[x] - held[y]
			}
			return strings.Compare(in.fws[x].name, in.fws[y].name)
		})
		placed := false
		for _, i := range order {
			f := in.fws[i]
			if f.left >= 0 && held[i] >= f.left {
				continue
			}
			for j, ag := range free {
				if ag[0] >= f.task[0] && ag[1] >= f.task[1] {
					free[j] = [2]int64{ag[0] - f.task[0], ag[1] - f.task[1]}
					held[i]++
					fmt.Fprintf(&b, "%s@s%d ", f.name, j)
					placed = true
					break
				}
			}
			if placed {
				break
			}
		}
		if !placed {
			return b.String()
		}
	}
}

func TestOrderIsExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := drawInstance(t)
		ident := make([]int, len(in.fws))
		for i := range ident {
			ident[i] = i
		}
		base := in.fill(t, 1, ident, in.weights)
		if want := in.reference(); base != want {
			t.Fatalf("picks %s; the exact reference gives %s", base, want)
		}
		scale := rapid.SampledFrom([]int64{2, 3, 7, 1000}).Draw(t, "scale")
		if got := in.fill(t, scale, ident, in.weights); got != base {
			t.Fatalf("quantities x%d: picks %s; want %s", scale, got, base)
		}
		perm := rapid.Permutation(ident).Draw(t, "perm")
		if got := in.fill(t, 1, perm, in.weights); got != base {
			t.Fatalf("frameworks in order %v: picks %s; want %s", perm, got, base)
		}
		factor := rapid.SampledFrom([]string{"0.1", "0.3", "10", "2.5", "0.07"}).Draw(t, "factor")
		scaled := make([]string, len(in.weights))
		for i, w := range in.weights {
			x, _ := new(big.Rat).SetString(w)
			f, _ := new(big.Rat).SetString(factor)
			scaled[i] = x.Mul(x, f).FloatString(4)
		}
		if got := in.fill(t, 1, ident, scaled); got != base {
			t.Fatalf("weights %v: picks %s; want %s", scaled, got, base)
		}
	})
}
