package allocator

import "fmt"

// Demand is one framework's work for progressive filling: identical tasks in
// one of its roles.
type Demand struct {
	Framework FrameworkID
	Role      string
	Task      Resources // one task's resources, unreserved by name
	Tasks     int       // how many tasks; Unlimited for no bound
}

// Unlimited is a Demand.Tasks that never runs out.
const Unlimited = -1

// Pick is one task placed by Fill.
type Pick struct {
	Framework FrameworkID
	Role      string
	Agent     AgentID
	Resources Resources
}

type want struct {
	c    *client
	task []Quantity // by name
	left int
}

// Fill runs progressive filling at task granularity, the DRF paper's
// procedure: repeatedly take the first framework in the policy's order
// whose next task can be placed, and place it on the first agent (in the
// order agents were added) where it fits and the policy allows it, roles
// with unmet guarantees first. It stops when no framework's next task can be
// placed, and returns the picks in order. Placed tasks stay allocated, as if
// launched; Release returns them.
func (a *Allocator) Fill(demands []Demand) ([]Pick, error) {
	wants, err := a.wants(demands)
	if err != nil {
		return nil, err
	}
	a.filling = &filling{wants: wants}
	defer func() { a.filling = nil }()
	var picks []Pick
	for {
		if a.rescale { // which leaves demand changes with every pick
			a.resortAll = true
		}
		a.flush()
		pick, ok := a.fillOne(wants)
		if !ok {
			return picks, nil
		}
		picks = append(picks, pick)
	}
}

func (a *Allocator) wants(demands []Demand) (map[*client]*want, error) {
	wants := map[*client]*want{}
	for i, d := range demands {
		fw := a.frameworks[d.Framework]
		if fw == nil {
			return nil, fmt.Errorf("demand %d: no such framework %q", i, d.Framework)
		}
		c := fw.clients[d.Role]
		if c == nil {
			return nil, fmt.Errorf("demand %d: framework %q is not subscribed to role %q; its roles: %v", i, d.Framework, d.Role, fw.roles)
		}
		if wants[c] != nil {
			return nil, fmt.Errorf("demand %d: framework %q in role %q has a demand already", i, d.Framework, d.Role)
		}
		if d.Task.IsEmpty() || !d.Task.Reserved().IsEmpty() {
			return nil, fmt.Errorf("demand %d: task %q must be non-empty and unreserved; reservations are the agents' to make", i, d.Task)
		}
		if d.Tasks < Unlimited {
			return nil, fmt.Errorf("demand %d: tasks %d; want 0 or more, or %d for unlimited", i, d.Tasks, Unlimited)
		}
		wants[c] = &want{c: c, task: a.byNameOf(d.Task), left: d.Tasks}
	}
	return wants, nil
}

// fillOne places one task of the first framework, in order, that can place
// one.
func (a *Allocator) fillOne(wants map[*client]*want) (Pick, bool) {
	var pick Pick
	placed := false
	for stage := 1; stage <= 2 && !placed; stage++ {
		if stage == 1 && a.quotas == 0 {
			continue
		}
		a.eachRole(func(r *role) bool {
			r.frameworks.Ascend(func(it clientItem) bool {
				w := wants[it.c]
				if w == nil || w.left == 0 {
					return true
				}
				pick, placed = a.place(stage, w)
				return !placed
			})
			return !placed
		})
	}
	return pick, placed
}

func (a *Allocator) place(stage int, w *want) (Pick, bool) {
	ag, take := a.fit(stage, w)
	if ag == nil {
		return Pick{}, false
	}
	a.charge(w.c, ag, take, true)
	if ag.used[w.c] == nil {
		ag.used[w.c] = new(vec)
		w.c.used[ag] = ag.used[w.c]
	}
	ag.used[w.c].add(take)
	if w.left > 0 {
		w.left--
	}
	return Pick{Framework: w.c.fw.id, Role: w.c.role.name, Agent: ag.info.ID, Resources: a.dims.resources(take)}, true
}

// fit returns the first agent, in the order added, where the next task of
// w fits in stage, and what it takes there; nil when none.
func (a *Allocator) fit(stage int, w *want) (*agent, vec) {
	var buf vec
	for _, ag := range a.agents {
		buf = a.offerable(stage, ag, w.c.role, buf[:0])
		if take, ok := a.take(buf, w.task); ok {
			return ag, take
		}
	}
	return nil, nil
}

// filling is what progressive filling wants, while it runs.
type filling struct{ wants map[*client]*want }

// demands reports whether c has a task left that fits somewhere.
func (f *filling) demands(a *Allocator, c *client) bool {
	w := f.wants[c]
	if w == nil || w.left == 0 {
		return false
	}
	if ag, _ := a.fit(2, w); ag != nil {
		return true
	}
	ag, _ := a.fit(1, w)
	return a.quotas > 0 && ag != nil
}

// take picks, from the dimensions of v, amounts by name that cover need,
// reservations first; it reports false when v cannot cover need.
func (a *Allocator) take(v vec, need []Quantity) (vec, bool) {
	var out vec
	for n, q := range need {
		for pass := 0; pass < 2 && q > 0; pass++ {
			for d, have := range v {
				reserved := a.dims.keys[d].role != ""
				if a.dims.nameOf[d] != n || have == 0 || reserved != (pass == 0) {
					continue
				}
				got := min(have, q)
				out = out.grow(d + 1)
				out[d] += got
				q -= got
			}
		}
		if q > 0 {
			return nil, false
		}
	}
	return out, true
}
