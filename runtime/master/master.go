package master

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Options configure a master.
type Options struct {
	// Policy is the allocator's configuration; Source says where it came
	// from (a file name), for /state.
	Policy       allocator.Config
	PolicySource string
	// ParsePolicy reads a policy file posted to /api/v1/policy; name is the
	// file's name, for its format. Without it the endpoint refuses.
	ParsePolicy func(name string, data []byte) (allocator.Config, error)
	// AgentTimeout marks an agent unreachable when it has not been heard of
	// for this long (default 10s); agents heartbeat every quarter of it.
	AgentTimeout time.Duration
	// Heartbeat is how often frameworks get a HEARTBEAT event (default 15s).
	Heartbeat time.Duration
	// Retain is how many finished tasks /state keeps per framework
	// (default 1000).
	Retain int
	// Sample is how often the master records the cluster for the last
	// hour's charts (default 5s).
	Sample time.Duration
	Log    *slog.Logger
	Now    func() time.Time // default time.Now
}

func (o *Options) defaults() {
	if o.AgentTimeout <= 0 {
		o.AgentTimeout = 10 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Retain <= 0 {
		o.Retain = 1000
	}
	if o.Sample <= 0 {
		o.Sample = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Master is a live master. Its methods are safe for concurrent use.
type Master struct {
	opts  Options
	start time.Time

	mu        sync.Mutex
	alloc     *allocator.Allocator
	gen       int // allocator generation; offer ids carry it
	policy    policyState
	agents    map[string]*agent
	agentsN   []string // agent ids in the order registered
	fws       map[string]*fw
	gone      []*fw // torn down, the last keepGone
	nextFw    int
	launches  int64
	fragBytes int            // the tasks' JSON in /state, for sizing its buffer
	counts    map[string]int // tasks by state
	stats     stats
	kick      chan struct{}
	history   *history

	metricsOnce sync.Once
	metrics     http.Handler
}

type stats struct {
	cycles                                 uint64
	lastCycle                              time.Duration
	cycleSum                               time.Duration
	offers, rescinded, declined, accepted  uint64
	launched, dropped, invalid, agentsLost uint64
	cycleBuckets                           []uint64
}

// New validates the policy and returns a master with no agents.
func New(opts Options) (*Master, error) {
	opts.defaults()
	a, err := allocator.New(opts.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", opts.PolicySource, err)
	}
	now := opts.Now()
	m := &Master{
		opts: opts, start: now, alloc: a, gen: 1,
		policy: policyState{Config: a.Config(), Source: opts.PolicySource, AppliedAt: now},
		agents: map[string]*agent{}, fws: map[string]*fw{}, counts: map[string]int{},
		kick: make(chan struct{}, 1), history: newHistory(opts.Sample, time.Hour),
	}
	m.stats.cycleBuckets = make([]uint64, len(cycleBuckets))
	return m, nil
}

// Run runs the allocation and health loops until ctx ends.
func (m *Master) Run(ctx context.Context) {
	interval := m.interval()
	alloc := time.NewTimer(interval)
	health := time.NewTicker(m.opts.AgentTimeout / 10)
	beat := time.NewTicker(m.opts.Heartbeat)
	sample := time.NewTicker(m.opts.Sample)
	defer sample.Stop()
	m.mu.Lock()
	m.sample()
	m.mu.Unlock()
	defer alloc.Stop()
	defer health.Stop()
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			m.shutdown()
			return
		case <-alloc.C:
			m.allocate()
			alloc.Reset(m.interval())
		case <-m.kick:
			m.allocate()
			alloc.Reset(m.interval())
		case <-health.C:
			m.checkHealth()
		case <-beat.C:
			m.heartbeat()
		case <-sample.C:
			m.mu.Lock()
			m.sample()
			m.mu.Unlock()
		}
	}
}

// Handler serves the master's HTTP API.
func (m *Master) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("POST /api/v1/agent", m.serveAgent)
	mux.HandleFunc("GET /api/v1/policy", m.servePolicyGet)
	mux.HandleFunc("POST /api/v1/policy", m.servePolicyApply)
	mux.HandleFunc("GET /state", m.serveState)
	mux.HandleFunc("GET /metrics", m.serveMetrics)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return mux
}

func (m *Master) interval() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alloc.Config().AllocationInterval
}

// soon asks for an allocation cycle now rather than at the next interval,
// as Mesos does when a framework or agent is added or a framework revives.
func (m *Master) soon() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// allocate runs one allocation cycle and sends its offers and rescinds.
func (m *Master) allocate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applyPending()
	t0 := time.Now()
	c := m.alloc.Allocate(m.opts.Now())
	m.observeCycle(time.Since(t0))
	for _, o := range c.Rescinded {
		m.rescinded(o)
	}
	byFw := map[allocator.FrameworkID][]api.Offer{}
	var order []allocator.FrameworkID
	for _, o := range c.Offers {
		if byFw[o.Framework] == nil {
			order = append(order, o.Framework)
		}
		byFw[o.Framework] = append(byFw[o.Framework], m.wireOffer(o))
	}
	m.stats.offers += uint64(len(c.Offers))
	for _, id := range order {
		if f := m.fws[string(id)]; f != nil {
			f.send(api.Event{Type: api.EventOffers, Offers: &api.Offers{Offers: byFw[id]}})
		}
	}
}

func (m *Master) rescinded(o allocator.Offer) {
	m.stats.rescinded++
	if f := m.fws[string(o.Framework)]; f != nil {
		f.send(api.Event{Type: api.EventRescind, Rescind: &api.Rescind{OfferID: api.ID{Value: m.offerID(o.ID)}}})
	}
}

func (m *Master) wireOffer(o allocator.Offer) api.Offer {
	ag := m.agents[string(o.Agent)]
	return api.Offer{
		ID: api.ID{Value: m.offerID(o.ID)}, FrameworkID: api.ID{Value: string(o.Framework)},
		AgentID: api.ID{Value: string(o.Agent)}, Hostname: ag.hostname, Role: o.Role,
		Resources: api.FromResources(o.Resources), Attributes: ag.attrs,
	}
}

func (m *Master) offerID(id allocator.OfferID) string {
	return fmt.Sprintf("O%d-%d", m.gen, id)
}

// parseOfferID returns the allocator's id of a wire offer id, or false for
// an id of another generation or none at all.
func (m *Master) parseOfferID(s string) (allocator.OfferID, bool) {
	var gen int
	var id uint64
	if n, err := fmt.Sscanf(s, "O%d-%d", &gen, &id); n != 2 || err != nil || gen != m.gen {
		return 0, false
	}
	return allocator.OfferID(id), true
}

// heartbeat sends HEARTBEAT to every connected framework.
func (m *Master) heartbeat() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range sorted.Keys(m.fws) {
		m.fws[id].send(api.Event{Type: api.EventHeartbeat})
	}
}

func (m *Master) shutdown() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.fws {
		if f.out != nil {
			f.out.close()
		}
	}
	for _, a := range m.agents {
		if a.out != nil {
			a.out.close()
		}
	}
}
