package allocator

import (
	"fmt"
	"slices"
)

// Convert changes part of an outstanding offer in place, as the Mesos
// allocator's updateAllocation does for a dynamic RESERVE or UNRESERVE:
// from (which must be in the offer) becomes to, which holds the same
// amounts by name under other reservations. The agent's total changes with
// it, and so do the reservations of the roles involved; the offer stays
// outstanding, to be accepted or declined as usual.
func (a *Allocator) Convert(id OfferID, from, to Resources) error {
	o, err := a.lookupOffer(id)
	if err != nil {
		return err
	}
	vf, vt := a.dims.vec(from), a.dims.vec(to)
	if !o.v.contains(vf) {
		return fmt.Errorf("convert offer %d: %s is not in the offer %s", id, from, a.dims.resources(o.v))
	}
	if !slices.Equal(a.dims.byName(vf, nil), a.dims.byName(vt, nil)) {
		return fmt.Errorf("convert offer %d: %s and %s are not the same amounts by name", id, from, to)
	}
	c, ag := o.c, o.ag
	a.uncharge(c, ag, vf)
	o.v.sub(vf)
	for _, v := range []*vec{&ag.total, &a.total, &a.free} {
		v.sub(vf)
		v.add(vt)
	}
	a.addReservations(vf, -1)
	a.addReservations(vt, +1)
	o.v.add(vt)
	a.charge(c, ag, vt, false)
	a.totalsChanged()
	return nil
}
