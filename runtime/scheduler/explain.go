package scheduler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
)

// Unfit says why no agent can take a task of want in role, from a
// master's /state: the task is larger than any agent; the only agents large
// enough hold part of it reserved for other roles; the role's limit, or
// other roles' unmet guarantees, leave too little; or the resources are in
// use by tasks now. want is unreserved amounts.
func Unfit(want allocator.Resources, role string, st master.Summary) string {
	var agents []master.AgentState
	for _, a := range st.Agents {
		if a.State == "active" {
			agents = append(agents, a)
		}
	}
	if len(agents) == 0 {
		return "the master has no active agent"
	}
	if why := tooLarge(want, agents); why != "" {
		return why
	}
	var why []string
	for _, w := range []string{reservedForOthers(want, role, agents), overLimit(want, role, st.Roles), heldForGuarantees(want, role, st)} {
		if w != "" {
			why = append(why, w)
		}
	}
	if len(why) == 0 {
		return busy(want, role, agents)
	}
	return strings.Join(why, "; and ")
}

// tooLarge: no agent has the task's resources in all.
func tooLarge(want allocator.Resources, agents []master.AgentState) string {
	for _, a := range agents {
		if a.Resources.Total.Resources().Flatten().Contains(want) {
			return ""
		}
	}
	var why []string
	for _, e := range want {
		best, has := "", allocator.Quantity(0)
		for _, a := range agents {
			if q := a.Resources.Total.Resources().Sum(e.Name); q > has || best == "" {
				best, has = a.ID, q
			}
		}
		if e.Value > has {
			why = append(why, fmt.Sprintf("%s: the task wants %s, but the largest agent, %s, has %s in all", e.Name, e.Value, best, has))
		}
	}
	if len(why) == 0 {
		return fmt.Sprintf("no agent has %s together (each has less of one of them)", want)
	}
	return strings.Join(why, "; ")
}

// usable is what an agent's total offers a role: unreserved amounts and
// those reserved for the role or a role above it.
func usable(total allocator.Resources, role string) allocator.Resources {
	var out allocator.Resources
	for _, e := range total {
		if e.Role == "" || within(role, e.Role) {
			out = out.Add(allocator.Resources{{Name: e.Name, Value: e.Value}})
		}
	}
	return out
}

// within reports whether role is r or a role below it (r/x).
func within(role, r string) bool { return role == r || strings.HasPrefix(role, r+"/") }

// reservedForOthers: the agents large enough have part of it reserved for
// other roles.
func reservedForOthers(want allocator.Resources, role string, agents []master.AgentState) string {
	var why []string
	for _, a := range agents {
		total := a.Resources.Total.Resources()
		if usable(total, role).Contains(want) {
			return ""
		}
		if total.Flatten().Contains(want) {
			why = append(why, fmt.Sprintf("agent %s has %s, of which %s is reserved for other roles", a.ID, total.Flatten(), reservedNot(total, role)))
		}
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf("%s; role %s may use only unreserved resources and its own reservations", strings.Join(why, "; "), role)
}

func reservedNot(total allocator.Resources, role string) allocator.Resources {
	var out allocator.Resources
	for _, e := range total.Reserved() {
		if !within(role, e.Role) {
			out = append(out, e)
		}
	}
	return out
}

// overLimit: the role, or a role above it, would pass its limit.
func overLimit(want allocator.Resources, role string, roles []master.RoleState) string {
	for _, r := range roles {
		if !within(role, r.Name) || len(r.Limit) == 0 {
			continue
		}
		limit, held := r.Limit.Resources(), r.Allocated.Resources().Flatten()
		for _, e := range want {
			l := limit.Get(e.Name, "")
			if slices.Contains(limit.Names(), e.Name) && held.Get(e.Name, "")+e.Value > l {
				return fmt.Sprintf("%s: role %s's limit is %s and it holds %s, so it may take %s more; the task wants %s",
					e.Name, r.Name, l, held.Get(e.Name, ""), l-min(l, held.Get(e.Name, "")), e.Value)
			}
		}
	}
	return ""
}

// heldForGuarantees: what is free would hold the task, but other roles'
// unmet guarantees hold it back.
func heldForGuarantees(want allocator.Resources, role string, st master.Summary) string {
	var free, held allocator.Resources
	for _, a := range st.Agents {
		if a.State == "active" {
			free = free.Add(usable(a.Resources.Total.Resources(), role).Sub(usable(a.Resources.Used.Resources(), role)))
		}
	}
	var whose []string
	for _, r := range st.Roles {
		if within(role, r.Name) || within(r.Name, role) || len(r.Guarantee) == 0 {
			continue
		}
		lack := r.Guarantee.Resources().Sub(r.Allocated.Resources().Flatten())
		if !lack.IsEmpty() {
			held = held.Add(lack)
			whose = append(whose, fmt.Sprintf("role %s is guaranteed %s and holds %s", r.Name, r.Guarantee.Resources(), amounts(r.Allocated.Resources().Flatten())))
		}
	}
	for _, e := range want {
		f, h := free.Get(e.Name, ""), held.Get(e.Name, "")
		if e.Value <= f && e.Value > f-min(f, h) {
			return fmt.Sprintf("%s: %s of the %s free are held back for other roles' guarantees (%s); the task wants %s",
				e.Name, min(f, h), f, strings.Join(whose, "; "), e.Value)
		}
	}
	return ""
}

// busy: the task fits an agent, but not beside the tasks running now.
func busy(want allocator.Resources, role string, agents []master.AgentState) string {
	best, most := "", allocator.Resources(nil)
	for _, a := range agents {
		free := usable(a.Resources.Total.Resources(), role).Sub(usable(a.Resources.Used.Resources(), role))
		if best == "" || cover(free, want) > cover(most, want) {
			best, most = a.ID, free
		}
	}
	return fmt.Sprintf("the agents are busy: the most free is agent %s's %s; the task can start when tasks end", best, amounts(most))
}

// amounts writes resources, or "nothing".
func amounts(r allocator.Resources) string {
	if r.IsEmpty() {
		return "nothing"
	}
	return r.String()
}

// cover is how much of want r holds: 1 for each resource it holds whole,
// a fraction for one it holds in part.
func cover(r, want allocator.Resources) float64 {
	c := 0.0
	for _, e := range want {
		if e.Value > 0 {
			c += min(r.Get(e.Name, "").Float()/e.Value.Float(), 1)
		}
	}
	return c
}

// Take is the part of an offer a task of want uses: the offer's
// reservations first, then unreserved amounts, GPUs on devices by the
// device rules (allocator.Resources.Take); false if the offer does not
// hold it.
func Take(offer, want allocator.Resources) (allocator.Resources, bool) {
	_, taken, ok := offer.Take(want)
	return taken, ok
}
