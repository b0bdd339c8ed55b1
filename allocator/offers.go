package allocator

import (
	"fmt"
	"slices"
	"time"
)

// OfferID names an offer. IDs count up from 1 in the order offers are made,
// so the same calls give the same ids.
type OfferID uint64

// Offer is resources of one agent offered to one framework in one role.
type Offer struct {
	ID        OfferID
	Framework FrameworkID
	Role      string
	Agent     AgentID
	Resources Resources // may be shared with other offers: read it, do not write into it
	Made      time.Time
}

type offer struct {
	id     OfferID
	c      *client
	ag     *agent
	agent  AgentID // ag's: publishing a cycle's offers reads it here, not from agents long out of cache
	v      vec
	made   time.Time
	gone   bool
	inline [inlineDims]Quantity // holds v while it fits: one allocation, not two
}

// public returns an offer as callers see it, its resources shared with
// offers of the same amounts (bags).
func (a *Allocator) public(o *offer) Offer {
	return Offer{ID: o.id, Framework: o.c.fw.id, Role: o.c.role.name, Agent: o.agent, Resources: a.bags.of(a.dims, o.v), Made: o.made}
}

func (a *Allocator) makeOffer(c *client, ag *agent, v vec, now time.Time) *offer {
	a.nextOfferID++
	o := a.newOffer()
	*o = offer{id: a.nextOfferID, c: c, ag: ag, agent: ag.info.ID, made: now}
	o.v = append(o.inline[:0], v...)
	a.offers.add(o)
	ag.offers = append(ag.offers, o)
	if a.cfg.OfferTimeout > 0 {
		a.offerQueue = append(a.offerQueue, o)
	}
	a.charge(c, ag, o.v, true)
	return o
}

// newOffer returns an offer to fill in: one that ended, if any.
func (a *Allocator) newOffer() *offer {
	if n := len(a.spareOffers); n > 0 {
		o := a.spareOffers[n-1]
		a.spareOffers[n-1] = nil
		a.spareOffers = a.spareOffers[:n-1]
		return o
	}
	return new(offer)
}

// recycle keeps an offer that ended, and that nothing points to any more,
// for newOffer. The offer timeout's queue may still point to it.
func (a *Allocator) recycle(o *offer) {
	if a.cfg.OfferTimeout == 0 {
		a.spareOffers = append(a.spareOffers, o)
	}
}

// grow adds v to an offer made in the same cycle.
func (a *Allocator) grow(o *offer, v vec) {
	o.v.add(v)
	a.charge(o.c, o.ag, v, false)
}

// dropOffer withdraws an offer and returns its resources, with no filter.
func (a *Allocator) dropOffer(o *offer) {
	o.gone = true
	a.offers.remove(o.id)
	o.ag.offers = slices.DeleteFunc(o.ag.offers, func(x *offer) bool { return x == o })
	a.uncharge(o.c, o.ag, o.v)
}

func (a *Allocator) lookupOffer(id OfferID) (*offer, error) {
	o := a.offers.get(id)
	if o == nil {
		return nil, fmt.Errorf("offer %d: no such outstanding offer (it was accepted, declined, rescinded or never made)", id)
	}
	return o, nil
}

// Accept launches work on part of an offer: used must fit in the offer and
// stays allocated to the framework until Release. The rest of the offer goes
// back with a filter of refuse (Config.DefaultRefuse when 0; negative for
// none), as a Mesos ACCEPT does.
func (a *Allocator) Accept(id OfferID, used Resources, refuse time.Duration, now time.Time) error {
	o, err := a.lookupOffer(id)
	if err != nil {
		return err
	}
	u := a.dims.vecIn(a.vbuf, used)
	a.vbuf = u
	if !o.v.contains(u) {
		return fmt.Errorf("accept offer %d: %s does not fit in the offer %s", id, used, a.dims.resources(o.v))
	}
	a.dropOffer(o)
	c, ag := o.c, o.ag
	a.use(c, ag, u)
	rest := append(a.vbuf2[:0], o.v...)
	a.vbuf2 = rest
	rest.sub(u)
	if !rest.isZero() {
		a.addFilter(c, ag, rest, a.refuse(refuse), now) // it keeps a copy
	}
	a.recycle(o)
	return nil
}

func (a *Allocator) use(c *client, ag *agent, u vec) {
	if u.isZero() {
		return
	}
	a.charge(c, ag, u, false)
	held := ag.used[c]
	if held == nil {
		held = newUsed()
		ag.used[c], c.used[ag] = held, held
	}
	held.add(u)
}

// newUsed returns an empty vector for what a client uses on an agent, with
// room for inlineDims dimensions in the same allocation.
func newUsed() *vec {
	p := &struct {
		v      vec
		inline [inlineDims]Quantity
	}{}
	p.v = p.inline[:0]
	return &p.v
}

// Restore records resources already in use by a framework's tasks on an
// agent, without an offer: what a master that rebuilds its allocator (after
// a failover, or to swap the policy) tells it of the tasks that run, as the
// Mesos allocator's addSlave does with its used resources. They stay in use
// until Release.
func (a *Allocator) Restore(fw FrameworkID, role string, id AgentID, used Resources) error {
	c, ag, err := a.clientOn("restore", fw, role, id)
	if err != nil {
		return err
	}
	u := a.dims.vec(used)
	if !ag.available().contains(u) {
		return fmt.Errorf("restore: %s does not fit in what agent %q has left, %s", used, id, a.dims.resources(ag.available()))
	}
	a.use(c, ag, u)
	return nil
}

func (a *Allocator) clientOn(op string, fw FrameworkID, role string, id AgentID) (*client, *agent, error) {
	f, ok := a.frameworks[fw]
	if !ok {
		return nil, nil, fmt.Errorf("%s: no such framework %q", op, fw)
	}
	c := f.clients[role]
	if c == nil {
		return nil, nil, fmt.Errorf("%s: framework %q is not subscribed to role %q; its roles: %v", op, fw, role, f.roles)
	}
	ag, ok := a.agentByID[id]
	if !ok {
		return nil, nil, fmt.Errorf("%s: no such agent %q", op, id)
	}
	return c, ag, nil
}

// Decline returns a whole offer with a filter of refuse (Config.DefaultRefuse
// when 0; negative for none).
func (a *Allocator) Decline(id OfferID, refuse time.Duration, now time.Time) error {
	a.warmDeclines(id)
	o, err := a.lookupOffer(id)
	if err != nil {
		return err
	}
	a.dropOffer(o)
	a.addFilter(o.c, o.ag, o.v, a.refuse(refuse), now) // it keeps a copy
	a.recycle(o)
	return nil
}

// Rescind withdraws an outstanding offer with no filter: the master took it
// back.
func (a *Allocator) Rescind(id OfferID) error {
	o, err := a.lookupOffer(id)
	if err != nil {
		return err
	}
	a.dropOffer(o)
	return nil
}

func (a *Allocator) refuse(d time.Duration) time.Duration {
	if d == 0 {
		return a.cfg.DefaultRefuse
	}
	return d
}

// Release returns resources a framework's tasks used on an agent in a role
// (tasks finished, failed or were killed).
func (a *Allocator) Release(fw FrameworkID, role string, id AgentID, res Resources) error {
	c, ag, err := a.clientOn("release", fw, role, id)
	if err != nil {
		return err
	}
	return a.release(c, ag, res)
}

// ClientRef is a framework in one of its roles, looked up once: Release
// by refs (ReleaseRef) finds it without hashing its names.
type ClientRef struct{ c *client }

// AgentRef is an agent, looked up once, for ReleaseRef.
type AgentRef struct{ ag *agent }

// ClientRef returns the ref of a framework in one of its roles; it stays
// valid until the framework is removed.
func (a *Allocator) ClientRef(fw FrameworkID, role string) (ClientRef, error) {
	f, ok := a.frameworks[fw]
	if !ok || f.clients[role] == nil {
		return ClientRef{}, fmt.Errorf("client ref: framework %q is not subscribed to role %q", fw, role)
	}
	return ClientRef{f.clients[role]}, nil
}

// AgentRef returns the ref of an agent; it stays valid until the agent is
// removed.
func (a *Allocator) AgentRef(id AgentID) (AgentRef, error) {
	ag, ok := a.agentByID[id]
	if !ok {
		return AgentRef{}, fmt.Errorf("agent ref: no such agent %q", id)
	}
	return AgentRef{ag}, nil
}

// ReleaseRef is Release by refs.
func (a *Allocator) ReleaseRef(c ClientRef, ag AgentRef, res Resources) error {
	if c.c == nil || a.clients.at[c.c.idx] != c.c || ag.ag == nil || a.agentByIdx.at[ag.ag.idx] != ag.ag {
		return fmt.Errorf("release: the framework or the agent of a ref was removed")
	}
	return a.release(c.c, ag.ag, res)
}

func (a *Allocator) release(c *client, ag *agent, res Resources) error {
	v := a.dims.vecIn(a.vbuf, res)
	a.vbuf = v
	u := ag.used[c]
	if u == nil || !u.contains(v) {
		return fmt.Errorf("release: framework %q in role %q uses %s on agent %q, less than %s", c.fw.id, c.role.name, a.usedOn(c, ag), ag.info.ID, res)
	}
	u.sub(v)
	a.uncharge(c, ag, v)
	if u.isZero() {
		delete(ag.used, c)
		delete(c.used, ag)
	}
	return nil
}

func (a *Allocator) usedOn(c *client, ag *agent) Resources {
	if u := ag.used[c]; u != nil {
		return a.dims.resources(*u)
	}
	return nil
}

// expireOffers rescinds the offers older than the offer timeout and returns
// them in the order they were made.
func (a *Allocator) expireOffers(now time.Time) []Offer {
	var out []Offer
	for len(a.offerQueue) > 0 {
		o := a.offerQueue[0]
		if !o.gone {
			if a.cfg.OfferTimeout == 0 || now.Sub(o.made) < a.cfg.OfferTimeout {
				break
			}
			out = append(out, a.public(o))
			a.dropOffer(o)
		}
		a.offerQueue[0] = nil
		a.offerQueue = a.offerQueue[1:]
	}
	return out
}
