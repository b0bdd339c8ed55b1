package core

import (
	"fmt"
	"math"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// reserve applies a RESERVE: unreserved resources of the offers become
// reserved for the offers' role, by the principal each names (the
// framework's own, when it has one), and stay so (in the registry) until
// an UNRESERVE. An operation that is not valid is dropped
// (OPERATION_ERROR, if it has an id).
func (run *acceptRun) reserve(field string, op api.Operation) {
	parts, msg := run.checkReserve(field, op)
	run.change(op, OpReserve, parts, msg)
}

// change applies the parts of a checked RESERVE or UNRESERVE (cmd), each
// converted in the offers and recorded, or drops the operation (msg says
// why). The operation's status lists the resources as they are after it.
func (run *acceptRun) change(op api.Operation, cmd string, parts []ReservationRecord, msg string) {
	if msg != "" {
		run.drop(op, msg)
		return
	}
	var converted []api.Resource
	for _, p := range parts {
		amounts, _ := allocator.ParseResources(p.Resources)
		if cmd == OpReserve {
			run.convert(amounts, p.Role)
			byP := func(string, string) []api.DynamicPart {
				return []api.DynamicPart{{Principal: p.Principal, Amount: math.MaxFloat64}}
			}
			converted = append(converted, api.MarkReservations(api.FromResources(withRole(amounts, p.Role)), run.f.Info.Has(api.ReservationRefinement), byP)...)
		} else {
			run.convert(withRole(amounts, p.Role), "")
			converted = append(converted, api.FromResources(amounts)...)
		}
		run.c.apply(Command{Op: cmd, Reservation: &p})
	}
	run.c.operationStatus(run.f, op, api.OperationFinished, "", run.agent.ID, converted)
}

// checkReserve checks a RESERVE as Mesos does and returns what it
// reserves, by principal.
func (run *acceptRun) checkReserve(field string, op api.Operation) ([]ReservationRecord, string) {
	r := op.Reserve
	field += ".reserve"
	switch {
	case r == nil || len(r.Resources) == 0:
		return nil, field + ".resources: empty; give the resources to reserve, each reserved for the offers' role"
	case len(r.Source) > 0:
		return nil, field + ".source: apron does not update reservations in place (Mesos 1.10's re-reservation); UNRESERVE, then RESERVE"
	}
	principal := run.f.Info.Principal
	var principals []string
	by := map[string]allocator.Resources{}
	for i, res := range r.Resources {
		rf := fmt.Sprintf("%s.resources[%d]", field, i)
		rsv, err := api.ReservationOf(rf, res)
		switch {
		case err != nil:
			return nil, err.Error()
		case !rsv.Dynamic:
			return nil, fmt.Sprintf("%s: not dynamically reserved; give role %q with a reservation (or reservations [{type: DYNAMIC, role: %q}])", rf, mesosRole(run.role), mesosRole(run.role))
		case wireRole(rsv.Role) != run.role:
			return nil, fmt.Sprintf("%s: reserved for role %.64q, but the offers are allocated to %q: a framework reserves for the role of its offers", rf, rsv.Role, mesosRole(run.role))
		case run.role == wireRole("*"):
			return nil, fmt.Sprintf("%s: resources cannot be reserved for role *", rf)
		case principal != "" && rsv.Principal != principal:
			return nil, fmt.Sprintf("%s: a reserve operation was attempted by principal %q, but the reservation names principal %.64q; name the framework's own", rf, principal, rsv.Principal)
		case len(rsv.Principal) > run.c.cfg.Limits.MaxName:
			return nil, fmt.Sprintf("%s.reservation.principal: %d bytes; at most %d", rf, len(rsv.Principal), run.c.cfg.Limits.MaxName)
		}
		one, err := api.ToResources(rf, []api.Resource{res})
		if err != nil {
			return nil, err.Error()
		}
		if by[rsv.Principal] == nil {
			principals = append(principals, rsv.Principal)
		}
		by[rsv.Principal] = by[rsv.Principal].Add(one.Flatten())
	}
	if d := run.c.decide(principal, auth.ReserveResources, mesosRole(run.role)); d != "" {
		return nil, field + ": " + d
	}
	var all allocator.Resources
	var out []ReservationRecord
	fresh := 0
	for _, p := range principals {
		all = all.Add(by[p])
		if run.agent.reserved[reservationKey{run.role, p}] == nil {
			fresh++
		}
		out = append(out, ReservationRecord{Agent: run.agent.ID, Role: run.role, Principal: p, Resources: by[p].String()})
	}
	if have := run.left.Unreserved(); !have.Contains(all) {
		return nil, fmt.Sprintf("%s.resources: %s is more than what is left unreserved of the offers, %s", field, all, have)
	}
	if n := len(run.agent.reserved) + fresh; n > run.c.cfg.Limits.MaxReservations {
		return nil, fmt.Sprintf("%s: agent %s would hold %d reservations (role and principal); at most %d", field, run.agent.ID, n, run.c.cfg.Limits.MaxReservations)
	}
	return out, ""
}

// unreserve applies an UNRESERVE: dynamically reserved resources of the
// offers go back to the unreserved pool. Only what the offers hold can be
// unreserved: resources in use by a task are not offered, and an
// UNRESERVE of them is dropped, as Mesos drops it.
func (run *acceptRun) unreserve(field string, op api.Operation) {
	parts, msg := run.checkUnreserve(field, op)
	run.change(op, OpUnreserve, parts, msg)
}

// checkUnreserve checks an UNRESERVE and returns what it takes from each
// reservation (role, principal).
func (run *acceptRun) checkUnreserve(field string, op api.Operation) ([]ReservationRecord, string) {
	field += ".unreserve"
	if op.Unreserve == nil || len(op.Unreserve.Resources) == 0 {
		return nil, field + ".resources: empty; give the dynamically reserved resources to unreserve"
	}
	var keys []reservationKey
	by := map[reservationKey]allocator.Resources{}
	for i, res := range op.Unreserve.Resources {
		rf := fmt.Sprintf("%s.resources[%d]", field, i)
		rsv, err := api.ReservationOf(rf, res)
		switch {
		case err != nil:
			return nil, err.Error()
		case !rsv.Dynamic:
			return nil, rf + ": not dynamically reserved; only dynamic reservations can be unreserved (static ones are the agent's --resources or the policy's)"
		}
		one, err := api.ToResources(rf, []api.Resource{res})
		if err != nil {
			return nil, err.Error()
		}
		k := reservationKey{wireRole(rsv.Role), rsv.Principal}
		if by[k] == nil {
			keys = append(keys, k)
		}
		by[k] = by[k].Add(one.Flatten())
	}
	var out []ReservationRecord
	var all allocator.Resources
	for _, k := range keys {
		have := run.agent.reserved[k]
		if !have.Contains(by[k]) {
			return nil, fmt.Sprintf("%s.resources: %s for role %q by principal %q; agent %s holds %s so reserved", field, by[k], mesosRole(k.role), k.principal, run.agent.ID, have)
		}
		if d := run.c.decide(run.f.Info.Principal, auth.UnreserveResources, k.principal); d != "" {
			return nil, field + ": " + d
		}
		all = all.Add(withRole(by[k], k.role))
		out = append(out, ReservationRecord{Agent: run.agent.ID, Role: k.role, Principal: k.principal, Resources: by[k].String()})
	}
	if !run.left.Contains(all) {
		return nil, fmt.Sprintf("%s.resources: %s is more than what is left of the offers, %s (reserved resources in use by a task are not offered, and cannot be unreserved)", field, all, run.left)
	}
	return out, ""
}
