package allocator

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/google/btree"
)

// AgentID names an agent (a machine that offers resources).
type AgentID string

// FrameworkID names a framework (a second-level scheduler).
type FrameworkID string

// AgentInfo is what the allocator knows of an agent besides its resources.
type AgentInfo struct {
	ID         AgentID
	Attributes map[string]string
}

// Allocator holds the state of a two-level allocator in the manner of the
// Mesos hierarchical allocator: agents and their resources, roles with
// weights and quotas, frameworks, outstanding offers, decline filters and
// resources in use. It is not safe for concurrent use; whoever drives it (the
// simulator, the live master) serialises the calls. Time is always an
// argument: the allocator never reads a clock.
type Allocator struct {
	cfg     Config
	policy  Policy
	gate    AgentGate // nil unless the policy confines roles to agents
	market  Market    // nil unless the policy prices resources
	hier    bool
	rescale bool // H-DRF: subtrees rescaled to their neediest child
	rng     *rand.Rand
	dims    *dims

	agents     []*agent // in the order added
	agentByID  map[AgentID]*agent
	agentByIdx slots[agent]  // by dense index
	clients    slots[client] // by dense index
	active     int           // clients in the order (not suppressed)
	frameworks map[FrameworkID]*framework
	roles      map[string]*role
	root       *btree.BTreeG[*entry]

	total    vec        // cluster total, every dimension
	free     vec        // cluster total less allocations, every dimension
	totalBy  []Quantity // total by resource name
	minAlloc [][]Quantity

	offers      offerTable
	offerQueue  []*offer // by creation time, for the offer timeout
	spareOffers []*offer // offers that ended, to make new ones in
	bags        bags     // published offers' resources
	nextOfferID OfferID
	cycles      uint64 // allocation cycles run

	dirtyClients []*client
	dirtyEntries []*entry
	resortAll    bool
	epoch        uint64 // bumps whenever the set of active frameworks changes
	seenEpoch    uint64 // the epoch the last cycle saw
	allDirty     bool   // every agent is a candidate at the next cycle
	touched      []*agent
	keyBuf       []keyedAgent // order's buffers
	keyBuf2      []keyedAgent
	orderBuf     []*agent // what order, candidates and a cycle's offers reuse
	candBuf      []*agent
	madeBuf      []*offer
	blockedIdle  map[*agent]bool
	expiries     expiryHeap
	nextSeq      uint64
	quotas       int     // roles with a guarantee or a limit
	guaranteed   []*role // roles with a guarantee, by name
	noIdleCache  bool    // tests compare the cache against a full scan
	tableMin     int     // filters on an agent before they may move to a table (filterSet)
	scanAll      bool    // pick by scanning the unfiltered whenever exact (tests)

	filling  *filling // progressive filling's demands, while Fill runs
	scratch  []Quantity
	scratch2 []Quantity
	vbuf     vec // what Accept and Release convert, while they run
	vbuf2    vec
	usage    Usage
	warmSink uint64  // what warm read, so that its reads are not optimised away
	warmedTo OfferID // warmDeclines warmed the offers before this one
}

// New validates cfg and returns an empty allocator.
func New(cfg Config) (*Allocator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p, err := NewPolicy(&cfg)
	if err != nil {
		return nil, err
	}
	a := &Allocator{
		cfg:         cfg,
		policy:      p,
		hier:        isHierarchical(p),
		rescale:     rescales(p),
		rng:         rand.New(rand.NewPCG(cfg.Seed, 0x61707230)),
		dims:        newDims(),
		agentByID:   map[AgentID]*agent{},
		frameworks:  map[FrameworkID]*framework{},
		roles:       map[string]*role{},
		root:        btree.NewG(8, entryLess),
		blockedIdle: map[*agent]bool{},
		tableMin:    32,
	}
	a.gate, _ = p.(AgentGate)
	a.market, _ = p.(Market)
	for _, alt := range cfg.MinAllocatable {
		a.minAlloc = append(a.minAlloc, a.byNameOf(alt))
	}
	for _, rc := range cfg.Roles {
		a.setRole(rc)
	}
	return a, nil
}

// Config returns the effective configuration, defaults filled in.
func (a *Allocator) Config() Config { return a.cfg }

// byNameOf converts r to amounts per resource name of a.dims, interning
// names it has not seen.
func (a *Allocator) byNameOf(r Resources) []Quantity {
	for _, e := range r {
		a.dims.dim(e.Name, "")
	}
	out := make([]Quantity, len(a.dims.names))
	for _, e := range r {
		out[a.dims.nameOf[a.dims.dim(e.Name, "")]] += e.Value
	}
	return out
}

// DeactivateAgent stops offering an agent, as Mesos' allocator does for
// an agent that disconnected: its outstanding offers are rescinded (and
// returned), and what its tasks use stays charged to their frameworks,
// so shares do not drop while the agent is away.
func (a *Allocator) DeactivateAgent(id AgentID) ([]Offer, error) {
	ag, ok := a.agentByID[id]
	if !ok {
		return nil, fmt.Errorf("deactivate agent %q: no such agent", id)
	}
	rescinded := a.dropAgentOffers(ag)
	ag.inactive = true
	return rescinded, nil
}

// dropAgentOffers withdraws an agent's outstanding offers and returns
// them, in id order.
func (a *Allocator) dropAgentOffers(ag *agent) []Offer {
	var out []Offer
	for _, o := range slices.Clone(ag.offers) {
		out = append(out, a.public(o))
		a.dropOffer(o)
	}
	return out
}

// ActivateAgent offers a deactivated agent again.
func (a *Allocator) ActivateAgent(id AgentID) error {
	ag, ok := a.agentByID[id]
	if !ok {
		return fmt.Errorf("activate agent %q: no such agent", id)
	}
	ag.inactive = false
	a.touch(ag)
	return nil
}

// AddAgent adds an agent with its total resources; entries reserved for a
// role (cpus(analytics):4) are offered only to that role and its sub-roles,
// and so are the amounts Config.Reservations reserve on it. Devices
// declared unnumbered (gpus[V100M16]:8) are numbered (NumberDevices).
func (a *Allocator) AddAgent(info AgentInfo, total Resources) error {
	if info.ID == "" {
		return fmt.Errorf("add agent: empty agent id")
	}
	if _, dup := a.agentByID[info.ID]; dup {
		return fmt.Errorf("add agent %q: already added", info.ID)
	}
	total, err := NumberDevices(total)
	if err == nil {
		total, err = a.cfg.reserve(info.ID, total)
	}
	if err != nil {
		return fmt.Errorf("add agent %q: %w", info.ID, err)
	}
	if a.gate != nil {
		if err := a.gate.AgentAdded(info); err != nil {
			return fmt.Errorf("add agent %q: %w", info.ID, err)
		}
	}
	ag := newAgent(info, a.dims.vec(total))
	ag.order = len(a.agents)
	ag.idx = a.agentByIdx.put(ag)
	a.nextSeq++
	ag.seq = a.nextSeq
	a.touch(ag)
	a.agents = append(a.agents, ag)
	a.agentByID[info.ID] = ag
	a.total.add(ag.total)
	a.free.add(ag.total)
	a.addReservations(ag.total, +1)
	a.totalsChanged()
	return nil
}

// slots numbers live objects densely, reusing the numbers of dead ones.
type slots[T any] struct {
	at   []*T
	free []int
}

func (s *slots[T]) put(x *T) int {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.at[i] = x
		return i
	}
	s.at = append(s.at, x)
	return len(s.at) - 1
}

func (s *slots[T]) drop(i int) {
	s.at[i] = nil
	s.free = append(s.free, i)
}

// RemoveAgent removes an agent. Its outstanding offers are rescinded and
// returned (sorted by id) so the caller can tell their frameworks; the
// resources its tasks used are released.
func (a *Allocator) RemoveAgent(id AgentID) ([]Offer, error) {
	ag, ok := a.agentByID[id]
	if !ok {
		return nil, fmt.Errorf("remove agent %q: no such agent", id)
	}
	rescinded := a.dropAgentOffers(ag)
	for _, c := range sortedClients(ag.used) {
		a.uncharge(c, ag, *ag.used[c])
		delete(c.used, ag)
	}
	for _, c := range ag.filters.byClient.clients() {
		a.removeFilter(a.clients.at[c], ag)
	}
	if a.gate != nil {
		a.gate.AgentRemoved(id)
	}
	a.addReservations(ag.total, -1)
	a.total.sub(ag.total)
	a.free.sub(ag.total)
	i := ag.order
	a.agents = slices.Delete(a.agents, i, i+1)
	for _, later := range a.agents[i:] {
		later.order--
	}
	delete(a.agentByID, id)
	delete(a.blockedIdle, ag)
	a.agentByIdx.drop(ag.idx)
	a.totalsChanged()
	return rescinded, nil
}

// totalsChanged recomputes what depends on the cluster total: every share.
func (a *Allocator) totalsChanged() {
	a.totalBy = a.dims.byName(a.total, a.totalBy)
	a.resortAll = true
	a.epoch++
}

// AddFramework subscribes a framework to one or more roles.
func (a *Allocator) AddFramework(id FrameworkID, roles ...string) error {
	if id == "" {
		return fmt.Errorf("add framework: empty framework id")
	}
	if _, dup := a.frameworks[id]; dup {
		return fmt.Errorf("add framework %q: already added", id)
	}
	if len(roles) == 0 {
		return fmt.Errorf("add framework %q: no role; a framework subscribes to at least one role", id)
	}
	for _, r := range roles {
		if err := ValidateRole(r); err != nil {
			return fmt.Errorf("add framework %q: %w", id, err)
		}
	}
	fw := &framework{id: id, clients: map[string]*client{}}
	for _, name := range roles {
		if _, dup := fw.clients[name]; dup {
			return fmt.Errorf("add framework %q: role %q given twice", id, name)
		}
		r := a.role(name)
		c := &client{fw: fw, role: r, used: map[*agent]*vec{}}
		c.idx = int32(a.clients.put(c))
		c.key = newKey(Ratio{}, 0, string(id))
		fw.clients[name] = c
		fw.roles = append(fw.roles, name)
		r.clients++
		a.activate(c)
		a.markEntries(r)
	}
	a.frameworks[id] = fw
	a.epoch++
	a.allDirty = true // reservations for its roles may now find a taker
	return nil
}

// RemoveFramework removes a framework: its offers are withdrawn, its
// filters dropped and the resources its tasks used released.
func (a *Allocator) RemoveFramework(id FrameworkID) error {
	fw, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("remove framework %q: no such framework", id)
	}
	for _, o := range a.offers.sorted() {
		if o.c.fw == fw {
			a.dropOffer(o)
		}
	}
	for _, name := range fw.roles {
		c := fw.clients[name]
		for _, ag := range sortedAgents(c.used) {
			a.uncharge(c, ag, *c.used[ag])
			delete(ag.used, c)
		}
		a.removeFilters(c)
		a.deactivate(c)
		c.role.clients--
		a.clients.drop(int(c.idx))
	}
	delete(a.frameworks, id)
	a.epoch++
	return nil
}

// Suppress stops offers to a framework in the given roles (all of its roles
// when none are given) until it revives.
func (a *Allocator) Suppress(id FrameworkID, roles ...string) error {
	return a.eachClient(id, roles, func(c *client) {
		c.suppressed = true
		a.deactivate(c)
	})
}

// Revive resumes offers to a framework in the given roles (all when none are
// given) and clears its decline filters there, as in Mesos.
func (a *Allocator) Revive(id FrameworkID, roles ...string) error {
	return a.eachClient(id, roles, func(c *client) {
		c.suppressed = false
		a.removeFilters(c)
		a.activate(c)
	})
}

func (a *Allocator) eachClient(id FrameworkID, roles []string, f func(*client)) error {
	fw, ok := a.frameworks[id]
	if !ok {
		return fmt.Errorf("framework %q: no such framework", id)
	}
	if len(roles) == 0 {
		roles = fw.roles
	}
	for _, r := range roles {
		if fw.clients[r] == nil {
			return fmt.Errorf("framework %q is not subscribed to role %q; its roles: %v", id, r, fw.roles)
		}
	}
	for _, r := range roles {
		f(fw.clients[r])
	}
	a.epoch++
	return nil
}

// SetRole sets the weight and quota of a role, replacing what was set
// before; the change takes effect at the next allocation cycle.
func (a *Allocator) SetRole(rc RoleConfig) error {
	if err := rc.validate(); err != nil {
		return err
	}
	a.setRole(rc)
	return nil
}

func (a *Allocator) setRole(rc RoleConfig) {
	r := a.role(rc.Name)
	if r.hasQuota() {
		a.quotas--
	}
	r.weight = rc.weight()
	r.wr = WeightRatio(r.weight)
	r.guarantee, r.limit = nil, nil
	if len(rc.Guarantee) > 0 {
		r.guarantee = a.byNameOf(rc.Guarantee)
	}
	if len(rc.Limit) > 0 {
		r.limit = a.byNameOf(rc.Limit)
		r.limitSet = make([]bool, len(r.limit))
		for _, e := range rc.Limit {
			r.limitSet[a.dims.nameOf[a.dims.dim(e.Name, "")]] = true
		}
	}
	r.cfg = rc
	if r.hasQuota() {
		a.quotas++
	}
	a.guaranteed = a.guaranteed[:0]
	for _, name := range sortedKeys(a.roles) {
		if len(a.roles[name].guarantee) > 0 {
			a.guaranteed = append(a.guaranteed, a.roles[name])
		}
	}
	a.resortAll = true
	a.epoch++
	a.allDirty = true
}

func (a *Allocator) sortedFrameworks() []*framework {
	ids := make([]FrameworkID, 0, len(a.frameworks))
	for id := range a.frameworks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*framework, len(ids))
	for i, id := range ids {
		out[i] = a.frameworks[id]
	}
	return out
}
