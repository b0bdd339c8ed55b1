package core

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// ReservationRecord is a dynamic reservation: unreserved resources of an
// agent that a principal reserved for a role (Mesos' RESERVE). In a
// RESERVE or UNRESERVE command it is the amounts added or taken away.
type ReservationRecord struct {
	Agent     string `json:"agent"`
	Role      string `json:"role"` // the allocator's name
	Principal string `json:"principal,omitempty"`
	Resources string `json:"resources"` // by name, unreserved form: cpus:2;mem:1024
}

type reservationKey struct{ role, principal string }

func (k reservationKey) compare(o reservationKey) int {
	return cmp.Or(cmp.Compare(k.role, o.role), cmp.Compare(k.principal, o.principal))
}

// reservations returns the agent's dynamic reservations, by role and
// principal.
func (ag *Agent) reservations() []ReservationRecord {
	keys := make([]reservationKey, 0, len(ag.reserved))
	for k := range ag.reserved {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, reservationKey.compare)
	out := make([]ReservationRecord, 0, len(keys))
	for _, k := range keys {
		out = append(out, ReservationRecord{Agent: ag.ID, Role: k.role, Principal: k.principal, Resources: ag.reserved[k].String()})
	}
	return out
}

// Total is what the agent holds: the resources it registered with, its
// dynamic reservations moved from the unreserved ones to their roles.
func (ag *Agent) Total() allocator.Resources { return ag.effective }

// reshape recomputes the agent's total from what it registered with and
// its dynamic reservations. A reservation that no longer fits (the agent
// came back with less) is taken as far as it does; the core unreserves
// the rest when the agent registers (fitReservations).
func (ag *Agent) reshape() {
	total := ag.total
	for _, r := range ag.reservations() {
		for _, e := range ag.reserved[reservationKey{r.Role, r.Principal}] {
			q := min(e.Value, total.Get(e.Name, ""))
			total = total.Sub(allocator.Resources{{Name: e.Name, Value: q}}).Add(allocator.Resources{{Name: e.Name, Role: r.Role, Value: q}})
		}
	}
	ag.effective = total
}

// dynamicParts is how much of (name, role) on the agent each principal
// reserved dynamically, by principal.
func (ag *Agent) dynamicParts(name, role string) []api.DynamicPart {
	var out []api.DynamicPart
	for _, r := range ag.reservations() {
		if r.Role != role {
			continue
		}
		if q := ag.reserved[reservationKey{r.Role, r.Principal}].Get(name, ""); q > 0 {
			out = append(out, api.DynamicPart{Principal: r.Principal, Amount: q.Float()})
		}
	}
	return out
}

// applyReservation adds (OpReserve) or takes away (OpUnreserve) a
// reservation's amounts.
func (r *Registry) applyReservation(c Command) error {
	rec := c.Reservation
	if rec == nil {
		return fmt.Errorf("%s: no reservation", c.Op)
	}
	ag := r.agents[rec.Agent]
	if ag == nil {
		return fmt.Errorf("%s: no agent %q", c.Op, rec.Agent)
	}
	res, err := allocator.ParseResources(rec.Resources)
	if err != nil || !res.Equal(res.Unreserved()) {
		return fmt.Errorf("%s on %s: resources %q: want unreserved amounts by name (%v)", c.Op, rec.Agent, rec.Resources, err)
	}
	k := reservationKey{rec.Role, rec.Principal}
	have := ag.reserved[k]
	if c.Op == OpUnreserve {
		if !have.Contains(res) {
			return fmt.Errorf("%s on %s: %s for %s by %q; only %s is reserved", c.Op, rec.Agent, res, rec.Role, rec.Principal, have)
		}
		have = have.Sub(res)
	} else {
		have = have.Add(res)
	}
	if have.IsEmpty() {
		delete(ag.reserved, k)
	} else {
		ag.reserved[k] = have
	}
	ag.reshape()
	return nil
}

// fitReservations unreserves what of an agent's dynamic reservations no
// longer fits in the resources it registers with now.
func (c *Core) fitReservations(ag *Agent, total allocator.Resources) {
	for _, r := range ag.reservations() {
		res := ag.reserved[reservationKey{r.Role, r.Principal}]
		lost := res.Sub(overlap(total.Unreserved(), res))
		total = total.Sub(res.Sub(lost))
		if !lost.IsEmpty() {
			r.Resources = lost.String()
			c.apply(Command{Op: OpUnreserve, Reservation: &r})
		}
	}
}

// wireResources writes resources of an agent for a framework: reserved
// ones say whether they are reserved statically or dynamically, and by
// whom, in the format the framework reads.
func (c *Core) wireResources(f *Framework, ag *Agent, res allocator.Resources) []api.Resource {
	out := api.FromResources(res)
	if ag == nil || len(ag.reserved) == 0 && res.Equal(res.Unreserved()) {
		return out
	}
	refine := f != nil && f.Info.Has(api.ReservationRefinement)
	return api.MarkReservations(out, refine, ag.dynamicParts)
}
