package core

import (
	"fmt"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Core is a master's protocol logic. It is not safe for concurrent use:
// the shell serialises every call, and gives each the time.
type Core struct {
	cfg   Config
	reg   *Registry
	now   time.Time
	start time.Time // when this core began leading

	alloc     *allocator.Allocator
	gen       int // allocator generation; offer ids carry it
	pending   *PolicyRecord
	lastError string // why the last pending policy was not applied

	streams      map[string]string    // stream -> the framework or agent id it belongs to
	recoverUntil time.Time            // until then, unknown tasks may exist (see Config.Fresh)
	reregister   map[string]time.Time // agents of the registry not yet back, with their deadline
	soon         bool                 // allocate at the next Tick
	nextAlloc    time.Time
	nextBeat     time.Time
	nextSample   time.Time
	nextHealth   time.Time
	history      *history
	stats        Stats
	cluster      *ClusterView
	masterInfo   *api.MasterInfo // for SUBSCRIBED; the shell sets it
	ready        Ready
	applyErrors  []error
}

// Ready is what the shell must do after an input, in order: persist the
// commands (replicate them, for a replicated master), then send the
// messages. A message is never sent before the commands it follows are
// durable, so no client sees a decision a new leader would not know.
type Ready struct {
	Commands []Command
	Messages []Message
}

// Message is one event for one stream. Close ends the stream after the
// event (Event and AgentEvent may then both be nil).
type Message struct {
	Stream     string
	Event      *api.Event      // to a framework
	AgentEvent *api.AgentEvent // to an agent
	Close      bool
}

// Stats count what the master did, for /metrics.
type Stats struct {
	Cycles                                 uint64
	Offers, Rescinded, Declined, Accepted  uint64
	Launched, Dropped, Invalid, AgentsLost uint64
	Refused                                uint64 // calls refused with a 4xx
	CallsDropped                           uint64 // calls taken (202) and dropped, as Mesos drops them
}

// New returns the core of a master that starts with an empty registry.
func New(cfg Config, now time.Time) (*Core, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	reg := NewRegistry(cfg.Limits)
	c, err := recoverCore(cfg, reg, now)
	if err != nil {
		return nil, err
	}
	c.apply(Command{Op: OpSetPolicy, Policy: &PolicyRecord{Config: c.alloc.Config(), Source: cfg.PolicySource, AppliedAt: now}})
	if !cfg.Fresh {
		c.recoverUntil = now.Add(cfg.ReregisterTimeout)
	}
	return c, nil
}

// recovering says whether tasks the master does not know may still run:
// it started with no memory of them, less than the re-register timeout
// ago.
func (c *Core) recovering() bool { return c.now.Before(c.recoverUntil) }

// Recover returns the core of a master that takes over reg (a new leader,
// or a master restarted from its log). Agents of the registry have
// Config.ReregisterTimeout to come back; frameworks are disconnected until
// they resubscribe, within their failover timeouts from now.
func Recover(cfg Config, reg *Registry, now time.Time) (*Core, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	known := reg.policy.Source != "" || reg.policy.Config.Policy != ""
	if known {
		cfg.Policy, cfg.PolicySource = reg.policy.Config, reg.policy.Source
	}
	c, err := recoverCore(cfg, reg, now)
	if err == nil && !known { // the cluster's first leader records its policy
		c.apply(Command{Op: OpSetPolicy, Policy: &PolicyRecord{Config: c.alloc.Config(), Source: cfg.PolicySource, AppliedAt: now}})
	}
	return c, err
}

func recoverCore(cfg Config, reg *Registry, now time.Time) (*Core, error) {
	a, err := allocator.New(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", cfg.PolicySource, err)
	}
	c := &Core{cfg: cfg, reg: reg, now: now, start: now, alloc: a, gen: 1, streams: map[string]string{},
		reregister: map[string]time.Time{}, history: newHistory(cfg.Sample, time.Hour), soon: true,
		nextBeat: now.Add(cfg.Heartbeat)}
	for _, id := range sortedKeys(reg.frameworks) {
		f := reg.frameworks[id]
		f.stream, f.disconnected = "", now
		if err := c.alloc.AddFramework(allocator.FrameworkID(id), f.Roles...); err != nil {
			return nil, fmt.Errorf("framework %s: %w", id, err)
		}
		_ = c.alloc.Suppress(allocator.FrameworkID(id))
	}
	for _, id := range reg.agentOrder {
		ag := reg.agents[id]
		ag.stream, ag.inAlloc = "", false
		for _, t := range ag.Tasks {
			t.charged = false
		}
		for _, e := range ag.executors {
			e.charged = false
		}
		switch ag.State {
		case AgentActive:
			// Until it re-registers it is not offered, but what its
			// tasks use stays charged to their frameworks, as while
			// it is disconnected.
			c.reregister[id] = now.Add(cfg.ReregisterTimeout)
			c.addToAllocator(ag)
			_, _ = c.alloc.DeactivateAgent(allocator.AgentID(id)) // no offers yet
		case AgentUnreachable:
			ag.unreachable = now
		}
	}
	return c, nil
}

// Registry is the core's registry, for a replicated master's snapshots
// and for tests. It must not be changed but through the core.
func (c *Core) Registry() *Registry { return c.reg }

// Ready returns what the inputs since the last call asked for, and
// forgets it.
func (c *Core) Ready() Ready {
	r := c.ready
	c.ready = Ready{}
	return r
}

// ApplyErrors returns the commands the core made that did not fit its
// registry: a bug, which tests check never happens.
func (c *Core) ApplyErrors() []error { return c.applyErrors }

// apply changes the registry and queues the command to persist.
func (c *Core) apply(cmd Command) {
	cmd.At = c.now
	if err := c.reg.Apply(cmd); err != nil {
		c.applyErrors = append(c.applyErrors, err)
		return
	}
	c.ready.Commands = append(c.ready.Commands, cmd)
}

func (c *Core) toFw(f *Framework, e api.Event) {
	if f != nil && f.stream != "" {
		c.ready.Messages = append(c.ready.Messages, Message{Stream: f.stream, Event: &e})
	}
}

func (c *Core) toAgent(ag *Agent, e api.AgentEvent) {
	if ag != nil && ag.stream != "" {
		c.ready.Messages = append(c.ready.Messages, Message{Stream: ag.stream, AgentEvent: &e})
	}
}

// closeStream ends a stream, with a last event if one is given.
func (c *Core) closeStream(stream string, last *api.Event) {
	delete(c.streams, stream)
	c.ready.Messages = append(c.ready.Messages, Message{Stream: stream, Event: last, Close: true})
}

// Deadline is when Tick next has something to do.
func (c *Core) Deadline() time.Time {
	if c.soon {
		return c.now
	}
	return minTime(c.nextAlloc, c.nextBeat, c.nextSample, c.nextHealth)
}

// healthEvery is how often agents' heartbeats and frameworks' failover
// timeouts are checked: a tenth of the agent timeout, at most a second.
func (c *Core) healthEvery() time.Duration { return min(c.cfg.AgentTimeout/10, time.Second) }

func minTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if !t.IsZero() && (m.IsZero() || t.Before(m)) {
			m = t
		}
	}
	return m
}

// Tick does what is due at now: allocation, health checks, framework
// failovers, heartbeats, samples. It reports whether it ran an allocation
// cycle, so the shell can time cycles.
func (c *Core) Tick(now time.Time) (allocated bool) {
	c.now = now
	if !now.Before(c.nextHealth) {
		c.nextHealth = now.Add(c.healthEvery())
		c.checkAgents()
		c.failovers()
	}
	if c.soon || !now.Before(c.nextAlloc) {
		c.allocate()
		allocated = true
	}
	if !now.Before(c.nextBeat) {
		c.nextBeat = now.Add(c.cfg.Heartbeat)
		for _, id := range sortedKeys(c.reg.frameworks) {
			c.toFw(c.reg.frameworks[id], api.Event{Type: api.EventHeartbeat})
		}
	}
	if !now.Before(c.nextSample) {
		c.nextSample = now.Add(c.cfg.Sample)
		c.sample()
	}
	return allocated
}

// allocate runs one allocation cycle and sends its offers and rescinds.
func (c *Core) allocate() {
	c.soon = false
	c.applyPending()
	c.nextAlloc = c.now.Add(c.alloc.Config().AllocationInterval)
	cyc := c.alloc.Allocate(c.now)
	c.stats.Cycles++
	for _, o := range cyc.Rescinded {
		c.rescinded(o)
	}
	byFw := map[allocator.FrameworkID][]api.Offer{}
	var order []allocator.FrameworkID
	for _, o := range cyc.Offers {
		if byFw[o.Framework] == nil {
			order = append(order, o.Framework)
		}
		byFw[o.Framework] = append(byFw[o.Framework], c.wireOffer(o))
	}
	c.stats.Offers += uint64(len(cyc.Offers))
	for _, id := range order {
		c.toFw(c.reg.frameworks[string(id)], api.Event{Type: api.EventOffers, Offers: &api.Offers{Offers: byFw[id]}})
	}
}

func (c *Core) rescinded(o allocator.Offer) {
	c.stats.Rescinded++
	c.toFw(c.reg.frameworks[string(o.Framework)], api.Event{Type: api.EventRescind, Rescind: &api.Rescind{OfferID: api.ID{Value: c.offerID(o.ID)}}})
}

// wireOffer is an offer as Mesos sends it: allocated to its role (Mesos'
// name for it), with the agent's attributes as Attribute objects.
func (c *Core) wireOffer(o allocator.Offer) api.Offer {
	ag := c.reg.agents[string(o.Agent)]
	role := mesosRole(o.Role)
	return api.Offer{
		ID: api.ID{Value: c.offerID(o.ID)}, FrameworkID: api.ID{Value: string(o.Framework)},
		AgentID: api.ID{Value: string(o.Agent)}, Hostname: ag.Hostname, AllocationInfo: &api.AllocationInfo{Role: role},
		Resources: api.Allocated(c.wireResources(c.reg.frameworks[string(o.Framework)], ag, o.Resources), role), Attributes: api.AttributesOf(ag.Attributes),
	}
}

// offerID is an offer's wire id: the master's id, the allocator's
// generation and the allocator's number, so that an offer of another
// master (before a restart or a failover) or of an allocator replaced by
// a policy swap is never taken for a new one.
func (c *Core) offerID(id allocator.OfferID) string {
	return fmt.Sprintf("%s.O%d-%d", c.cfg.ID, c.gen, id)
}

// parseOfferID returns the allocator's id of a wire offer id, or false for
// an id of another master or generation, or none at all.
func (c *Core) parseOfferID(s string) (allocator.OfferID, bool) {
	var gen int
	var id uint64
	rest, ok := strings.CutPrefix(s, c.cfg.ID+".O")
	if !ok {
		return 0, false
	}
	if n, err := fmt.Sscanf(rest, "%d-%d", &gen, &id); n != 2 || err != nil || gen != c.gen || rest != fmt.Sprintf("%d-%d", gen, id) {
		return 0, false
	}
	return allocator.OfferID(id), true
}

// ownOffer says whether a wire offer id is one of this master's, of any
// generation: an ACCEPT of another master's offers (one sent before a
// failover) may have launched its tasks there, which this master may not
// know, so it tells the framework nothing of them.
func (c *Core) ownOffer(s string) bool { return strings.HasPrefix(s, c.cfg.ID+".O") }

// Stats returns the counts of what the master did.
func (c *Core) Stats() Stats { return c.stats }

// AllocateNow runs an allocation cycle at once, whatever its interval
// says: for benchmarks and tests.
func (c *Core) AllocateNow(now time.Time) {
	c.now = now
	c.allocate()
}

// Offers is the number of outstanding offers.
func (c *Core) Offers() int { return len(c.alloc.Offers()) }

// SetCluster gives the replicated masters' view, for /state.
func (c *Core) SetCluster(v *ClusterView) { c.cluster = v }
