package allocator

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The property tests drive allocators through random clusters and random
// sequences of calls and check invariants after every call. They live inside
// the package so that they can also run a twin allocator with the O(1) skip
// of idle and blocked agents turned off and demand identical offers.

var propRoles = []string{"a", "b", "c", "a/x", "a/y"}

type world struct {
	cfg        Config
	agents     []agentSpec
	frameworks []fwSpec
}

type agentSpec struct {
	id  AgentID
	res Resources
}

type fwSpec struct {
	id    FrameworkID
	roles []string
}

func drawWorld(t *rapid.T) world {
	var w world
	w.cfg.Policy = rapid.SampledFrom([]string{"drf", "hdrf", "asset", "random", "static", "ceei", "hdrf-naive"}).Draw(t, "policy")
	w.cfg.Seed = rapid.Uint64().Draw(t, "seed")
	if w.cfg.Policy == "static" {
		for _, r := range []string{"a", "b", "c"} {
			w.cfg.Partitions = append(w.cfg.Partitions, Partition{Role: r, Size: float64(rapid.IntRange(1, 3).Draw(t, "size"))})
		}
	}
	for _, r := range propRoles {
		rc := RoleConfig{Name: r, Weight: float64(rapid.IntRange(1, 4).Draw(t, "weight"))}
		if rapid.IntRange(0, 3).Draw(t, "quota") == 0 {
			g := rapid.IntRange(0, 8).Draw(t, "guarantee")
			rc.Guarantee = MustParseResources(fmt.Sprintf("cpus:%d", g))
			rc.Limit = MustParseResources(fmt.Sprintf("cpus:%d", g+rapid.IntRange(0, 8).Draw(t, "headroom")))
		}
		w.cfg.Roles = append(w.cfg.Roles, rc)
	}
	for i := range rapid.IntRange(1, 8).Draw(t, "agents") {
		res := fmt.Sprintf("cpus:%d;mem:%d", rapid.IntRange(1, 16).Draw(t, "cpus"), 256*rapid.IntRange(1, 32).Draw(t, "mem"))
		if rapid.IntRange(0, 3).Draw(t, "reserve") == 0 {
			res += fmt.Sprintf(";cpus(%s):%d", rapid.SampledFrom(propRoles).Draw(t, "for"), rapid.IntRange(1, 4).Draw(t, "reserved"))
		}
		w.agents = append(w.agents, agentSpec{AgentID(fmt.Sprintf("s%d", i)), MustParseResources(res)})
	}
	for i := range rapid.IntRange(1, 5).Draw(t, "frameworks") {
		roles := rapid.SliceOfNDistinct(rapid.SampledFrom(propRoles), 1, 2, rapid.ID[string]).Draw(t, "roles")
		w.frameworks = append(w.frameworks, fwSpec{FrameworkID(fmt.Sprintf("f%d", i)), roles})
	}
	return w
}

func (w world) build(t *rapid.T, noSkip bool) *Allocator {
	a, err := New(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.noIdleCache = noSkip
	if noSkip { // filters in sorted slices, picked by walking the order
		a.tableMin = math.MaxInt
	} else { // filters in tables early, picked by scanning whenever exact
		a.tableMin, a.scanAll = 1, true
	}
	for _, s := range w.agents {
		if err := a.AddAgent(AgentInfo{ID: s.id}, s.res); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range w.frameworks {
		if err := a.AddFramework(f.id, f.roles...); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// step is one call, drawn once and applied to every twin alike.
type step struct {
	kind   int
	pick   int // which offer, framework or agent
	frac   int // how much of an offer to use, in eighths
	refuse time.Duration
}

func drawStep(t *rapid.T) step {
	return step{
		kind:   rapid.IntRange(0, 12).Draw(t, "kind"),
		pick:   rapid.IntRange(0, 1000).Draw(t, "pick"),
		frac:   rapid.IntRange(0, 8).Draw(t, "frac"),
		refuse: time.Duration(rapid.SampledFrom([]int{-1, 0, 1, 3, 30}).Draw(t, "refuse")) * time.Second,
	}
}

// apply runs s on a and returns a transcript line; twins must print the same.
func (s step) apply(a *Allocator, w world, now time.Time) string {
	offers := a.Offers()
	switch s.kind {
	case 0, 1, 2:
		c := a.Allocate(now)
		return fmt.Sprintf("cycle %v rescinded %v", c.Offers, c.Rescinded)
	case 3, 4:
		if len(offers) == 0 {
			return "no offer"
		}
		o := offers[s.pick%len(offers)]
		use := scale(o.Resources, s.frac)
		return fmt.Sprintf("accept %d %s: %v", o.ID, use, a.Accept(o.ID, use, s.refuse, now))
	case 5:
		if len(offers) == 0 {
			return "no offer"
		}
		o := offers[s.pick%len(offers)]
		return fmt.Sprintf("decline %d: %v", o.ID, a.Decline(o.ID, s.refuse, now))
	case 6:
		fw := a.Frameworks()
		if len(fw) == 0 {
			return "no framework"
		}
		f := fw[s.pick%len(fw)]
		for _, ag := range a.Agents() {
			for _, role := range f.Roles {
				used := a.usedOn(a.frameworks[f.ID].clients[role], a.agentByID[ag.ID])
				if !used.IsEmpty() {
					part := scale(used, max(1, s.frac))
					return fmt.Sprintf("release %s %s %s %s: %v", f.ID, role, ag.ID, part, a.Release(f.ID, role, ag.ID, part))
				}
			}
		}
		return "nothing to release"
	case 7, 10, 11: // often: suppression is what blocks agents
		f := w.frameworks[s.pick%len(w.frameworks)]
		if s.frac%2 == 0 {
			return fmt.Sprintf("suppress %s: %v", f.id, a.Suppress(f.id))
		}
		return fmt.Sprintf("revive %s: %v", f.id, a.Revive(f.id))
	case 12:
		if len(offers) == 0 {
			return "no offer"
		}
		o := offers[s.pick%len(offers)]
		from := scale(o.Resources.Unreserved(), s.frac)
		to := reserveFor(from, o.Role)
		if s.frac%2 == 1 { // give back what is reserved for the offer's own role
			to = scale(o.Resources.filter(func(e Resource) bool { return e.Role == o.Role }), s.frac)
			from, to = to, to.Flatten()
		}
		return fmt.Sprintf("convert %d %s to %s: %v", o.ID, from, to, a.Convert(o.ID, from, to))
	case 8:
		ag := w.agents[s.pick%len(w.agents)]
		if _, ok := a.agentByID[ag.id]; ok {
			r, err := a.RemoveAgent(ag.id)
			return fmt.Sprintf("remove %s: %v %v", ag.id, r, err)
		}
		return fmt.Sprintf("add %s: %v", ag.id, a.AddAgent(AgentInfo{ID: ag.id}, ag.res))
	default:
		f := w.frameworks[s.pick%len(w.frameworks)]
		if _, ok := a.frameworks[f.id]; ok {
			return fmt.Sprintf("remove %s: %v", f.id, a.RemoveFramework(f.id))
		}
		return fmt.Sprintf("add %s: %v", f.id, a.AddFramework(f.id, f.roles...))
	}
}

// reserveFor is r reserved for role.
func reserveFor(r Resources, role string) Resources {
	var out Resources
	for _, e := range r {
		out = out.Add(Resources{{Name: e.Name, Role: role, Value: e.Value}})
	}
	return out
}

// scale returns frac eighths of r, rounded down to whole milli-units.
func scale(r Resources, frac int) Resources {
	var out Resources
	for _, e := range r {
		out = append(out, Resource{Name: e.Name, Role: e.Role, Value: e.Value * Quantity(frac) / 8})
	}
	return out.Sub(nil)
}

func checkInvariants(t *rapid.T, a *Allocator) {
	var agentsAlloc, fwAlloc Resources
	for _, ag := range a.Agents() {
		if !ag.Total.Contains(ag.Allocated) {
			t.Fatalf("agent %s: allocated %s exceeds total %s", ag.ID, ag.Allocated, ag.Total)
		}
		for _, e := range ag.Allocated {
			if e.Value < 0 {
				t.Fatalf("agent %s: negative allocation %s", ag.ID, ag.Allocated)
			}
		}
		agentsAlloc = agentsAlloc.Add(ag.Allocated)
	}
	for _, f := range a.Frameworks() {
		fwAlloc = fwAlloc.Add(f.Allocated)
	}
	if !agentsAlloc.Equal(fwAlloc) {
		t.Fatalf("agents hold %s allocated, frameworks %s", agentsAlloc, fwAlloc)
	}
	for _, o := range a.Offers() {
		for _, e := range o.Resources {
			if e.Role != "" && !IsWithin(o.Role, e.Role) {
				t.Fatalf("offer %d to role %s holds %s reserved for %s", o.ID, o.Role, e.Name, e.Role)
			}
		}
	}
	for _, r := range a.Roles() {
		if r.Limit.IsEmpty() {
			continue
		}
		unres := r.Allocated.Unreserved()
		if got, lim := unres.Get("cpus", ""), r.Limit.Get("cpus", ""); got > lim && a.roles[r.Name].reserved.isZero() {
			t.Fatalf("role %s holds %s unreserved cpus past its limit %s", r.Name, got, lim)
		}
	}
}

// TestPropertyInvariants: whatever the calls, no agent is allocated more
// than it has, allocations balance, reserved resources reach only their
// role and its sub-roles, and limits hold.
func TestPropertyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := drawWorld(t)
		a := w.build(t, false)
		now := time.Unix(0, 0)
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			now = now.Add(time.Second)
			drawStep(t).apply(a, w, now)
			checkInvariants(t, a)
		}
	})
}

// TestPropertyDeterministicAndSkipExact: two allocators built alike and
// driven alike make identical offers, byte for byte; so does a third that
// never skips idle or blocked agents, which shows the skip is exact.
func TestPropertyDeterministicAndSkipExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := drawWorld(t)
		twins := []*Allocator{w.build(t, false), w.build(t, false), w.build(t, true)}
		now := time.Unix(0, 0)
		for range rapid.IntRange(1, 80).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.IntRange(1, 3).Draw(t, "dt")) * time.Second)
			s := drawStep(t)
			var lines []string
			for _, a := range twins {
				lines = append(lines, s.apply(a, w, now))
			}
			if lines[0] != lines[1] || lines[0] != lines[2] {
				t.Fatalf("twins diverged:\n%s", strings.Join(lines, "\n"))
			}
		}
	})
}

// The progressive-filling properties run DRF-style policies with no quota,
// one framework per role, on random clusters and demands.
type fillWorld struct {
	agents []Resources
	tasks  []Resources
	counts []int
}

func drawFillWorld(t *rapid.T) fillWorld {
	var fw fillWorld
	for range rapid.IntRange(1, 6).Draw(t, "agents") {
		fw.agents = append(fw.agents, MustParseResources(fmt.Sprintf("cpus:%d;mem:%d;gpus:%d",
			rapid.IntRange(1, 32).Draw(t, "cpus"), 512*rapid.IntRange(1, 64).Draw(t, "mem"), rapid.IntRange(0, 4).Draw(t, "gpus"))))
	}
	for range rapid.IntRange(1, 5).Draw(t, "frameworks") {
		task := fmt.Sprintf("cpus:%d;mem:%d", rapid.IntRange(1, 8).Draw(t, "tcpus"), 256*rapid.IntRange(1, 16).Draw(t, "tmem"))
		if rapid.Bool().Draw(t, "gpu") {
			task += ";gpus:1"
		}
		fw.tasks = append(fw.tasks, MustParseResources(task))
		fw.counts = append(fw.counts, rapid.SampledFrom([]int{Unlimited, 1, 3, 10}).Draw(t, "count"))
	}
	return fw
}

func (fw fillWorld) run(t *rapid.T, policy string, weights []float64) (*Allocator, []Pick) {
	cfg := Config{Policy: policy}
	for i, wt := range weights {
		cfg.Roles = append(cfg.Roles, RoleConfig{Name: fmt.Sprintf("r%d", i), Weight: wt})
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range fw.agents {
		if err := a.AddAgent(AgentInfo{ID: AgentID(fmt.Sprintf("s%d", i))}, res); err != nil {
			t.Fatal(err)
		}
	}
	var ds []Demand
	for i, task := range fw.tasks {
		id := FrameworkID(fmt.Sprintf("f%d", i))
		if err := a.AddFramework(id, fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, Demand{Framework: id, Role: fmt.Sprintf("r%d", i), Task: task, Tasks: fw.counts[i]})
	}
	picks, err := a.Fill(ds)
	if err != nil {
		t.Fatal(err)
	}
	return a, picks
}

func taskCounts(picks []Pick) map[FrameworkID]int {
	n := map[FrameworkID]int{}
	for _, p := range picks {
		n[p.Framework]++
	}
	return n
}

// TestPropertyFillParetoEfficient: when progressive filling stops, no
// framework with tasks left has a next task that fits on any agent.
func TestPropertyFillParetoEfficient(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fw := drawFillWorld(t)
		policy := rapid.SampledFrom([]string{"drf", "asset", "random"}).Draw(t, "policy")
		a, picks := fw.run(t, policy, nil)
		n := taskCounts(picks)
		for i, task := range fw.tasks {
			id := FrameworkID(fmt.Sprintf("f%d", i))
			if fw.counts[i] != Unlimited && n[id] >= fw.counts[i] {
				continue
			}
			for _, ag := range a.Agents() {
				if ag.Available.Contains(task) {
					t.Fatalf("%s stopped at %d tasks but %s fits on %s (available %s)", id, n[id], task, ag.ID, ag.Available)
				}
			}
		}
	})
}

// TestPropertyDRFEnvyFreeWithinOneTask: the DRF paper's bound for discrete
// tasks. When framework i took its last task it had the smallest dominant
// share among the frameworks still able to place one, so in the end no
// framework j that was still placing then holds less than i's share less
// one of i's tasks.
func TestPropertyDRFEnvyFreeWithinOneTask(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fw := drawFillWorld(t)
		a, picks := fw.run(t, "drf", nil)
		total := a.Total()
		final := map[FrameworkID]float64{}
		for _, f := range a.Frameworks() {
			final[f.ID] = f.DominantShare
		}
		lastPick := map[FrameworkID]int{}
		for k, p := range picks {
			lastPick[p.Framework] = k
		}
		const eps = 1e-9
		for i := range fw.tasks {
			fi := FrameworkID(fmt.Sprintf("f%d", i))
			k, ok := lastPick[fi]
			if !ok {
				continue
			}
			d := fw.tasks[i].DominantShare(total)
			for j := range fw.tasks {
				fj := FrameworkID(fmt.Sprintf("f%d", j))
				// j was still placing at pick k if it placed a task at or after k.
				if lj, ok := lastPick[fj]; fj == fi || !ok || lj < k {
					continue
				}
				if final[fi]-d > final[fj]+eps {
					t.Fatalf("%s ends at share %.4f, %s at %.4f: more than one task (%.4f) apart", fi, final[fi], fj, final[fj], d)
				}
			}
		}
	})
}

// TestPropertyWeightMonotone: doubling a role's weight never lowers its
// dominant share by more than the one-task granularity of progressive
// filling on a single pooled agent.
func TestPropertyWeightMonotone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fw := drawFillWorld(t)
		fw.agents = fw.agents[:1]
		weights := make([]float64, len(fw.tasks))
		for i := range weights {
			weights[i] = float64(rapid.IntRange(1, 4).Draw(t, "weight"))
		}
		who := rapid.IntRange(0, len(fw.tasks)-1).Draw(t, "who")
		before, _ := fw.run(t, "drf", weights)
		doubled := slices.Clone(weights)
		doubled[who] *= 2
		after, _ := fw.run(t, "drf", doubled)
		id := FrameworkID(fmt.Sprintf("f%d", who))
		share := func(a *Allocator) float64 {
			for _, f := range a.Frameworks() {
				if f.ID == id {
					return f.DominantShare
				}
			}
			return 0
		}
		d := fw.tasks[who].DominantShare(before.Total())
		if share(after) < share(before)-d-1e-9 {
			t.Fatalf("doubling %s's weight lowered its share from %.4f to %.4f", id, share(before), share(after))
		}
	})
}
