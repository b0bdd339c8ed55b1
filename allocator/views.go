package allocator

// Views: read-only copies of the allocator's state, for the playground,
// the simulator's metrics and the live master's /state.

// AgentView is one agent's resources.
type AgentView struct {
	ID         AgentID
	Attributes map[string]string
	Total      Resources
	Allocated  Resources // offered and in use
	Available  Resources
}

// FrameworkView is one framework's allocation.
type FrameworkView struct {
	ID            FrameworkID
	Roles         []string
	Allocated     Resources // offered and in use, every role
	Used          Resources // in use (accepted or placed), every role
	DominantShare float64   // of the cluster total, unweighted
	Suppressed    []string  // roles it has suppressed
}

// RoleView is one role's allocation and configuration.
type RoleView struct {
	Name          string
	Weight        float64
	Allocated     Resources // the role and its sub-roles
	DominantShare float64
	Guarantee     Resources
	Limit         Resources
	Reserved      Resources // reservations for the role and its sub-roles
}

// Total returns the cluster's total resources.
func (a *Allocator) Total() Resources { return a.dims.resources(a.total) }

// Agents returns every agent, in the order added.
func (a *Allocator) Agents() []AgentView {
	out := make([]AgentView, 0, len(a.agents))
	for _, ag := range a.agents {
		avail := ag.total.clone()
		avail.sub(ag.allocated)
		out = append(out, AgentView{ID: ag.info.ID, Attributes: ag.info.Attributes, Total: a.dims.resources(ag.total), Allocated: a.dims.resources(ag.allocated), Available: a.dims.resources(avail)})
	}
	return out
}

// Frameworks returns every framework, sorted by id.
func (a *Allocator) Frameworks() []FrameworkView {
	total := a.Total()
	var out []FrameworkView
	for _, fw := range a.sortedFrameworks() {
		v := FrameworkView{ID: fw.id, Roles: append([]string(nil), fw.roles...)}
		var alloc, used vec
		for _, name := range fw.roles {
			c := fw.clients[name]
			alloc.add(c.alloc)
			for _, ag := range sortedAgents(c.used) {
				used.add(*c.used[ag])
			}
			if c.suppressed {
				v.Suppressed = append(v.Suppressed, name)
			}
		}
		v.Allocated, v.Used = a.dims.resources(alloc), a.dims.resources(used)
		v.DominantShare = v.Allocated.DominantShare(total)
		out = append(out, v)
	}
	return out
}

// Roles returns every role the allocator knows, sorted by name.
func (a *Allocator) Roles() []RoleView {
	total := a.Total()
	var out []RoleView
	for _, name := range sortedKeys(a.roles) {
		r := a.roles[name]
		alloc := a.dims.resources(r.sub)
		out = append(out, RoleView{Name: name, Weight: r.weight, Allocated: alloc, DominantShare: alloc.DominantShare(total),
			Guarantee: r.cfg.Guarantee, Limit: r.cfg.Limit, Reserved: a.dims.resources(r.reserved)})
	}
	return out
}

// Offers returns the outstanding offers, by id.
func (a *Allocator) Offers() []Offer {
	var out []Offer
	for _, o := range a.offers.sorted() {
		out = append(out, a.public(o))
	}
	return out
}

// RoleOrder returns the roles with frameworks in the order the policy would
// offer them resources now.
func (a *Allocator) RoleOrder() []string {
	a.flush()
	var out []string
	a.eachRole(func(r *role) bool {
		if r.clients > 0 {
			out = append(out, r.name)
		}
		return true
	})
	return out
}

// Offer returns an outstanding offer.
func (a *Allocator) Offer(id OfferID) (Offer, bool) {
	o := a.offers.get(id)
	if o == nil {
		return Offer{}, false
	}
	return a.public(o), true
}

// Admits reports whether the policy lets role use agent id's unreserved
// resources (always, but for policies that confine roles to agents).
func (a *Allocator) Admits(role string, id AgentID) bool {
	return a.gate == nil || a.gate.Admit(role, id)
}

// Allocated returns everything allocated (offered or in use), cluster wide.
func (a *Allocator) Allocated() Resources {
	v := a.total.clone()
	v.sub(a.free)
	return a.dims.resources(v)
}

// FrameworkAllocation returns what a framework holds (offered or in use)
// in every role; it is O(roles), unlike Frameworks.
func (a *Allocator) FrameworkAllocation(id FrameworkID) Resources {
	fw := a.frameworks[id]
	if fw == nil {
		return nil
	}
	var v vec
	for _, name := range fw.roles {
		v.add(fw.clients[name].alloc)
	}
	return a.dims.resources(v)
}
