package master

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master/core"
)

// Options configure a master.
type Options struct {
	// Policy is the allocator's configuration; PolicySource says where it
	// came from (a file name), for /state.
	Policy       allocator.Config
	PolicySource string
	// ParsePolicy reads a policy file posted to /api/v1/policy; name is the
	// file's name, for its format. Without it the endpoint refuses.
	ParsePolicy func(name string, data []byte) (allocator.Config, error)
	// AgentTimeout marks an agent unreachable when it has not been heard of
	// for this long (default 75s); agents heartbeat every quarter of it.
	AgentTimeout time.Duration
	// Fresh says the master starts a new cluster (see core.Config.Fresh).
	Fresh bool
	// ReregisterTimeout is how long, after a master starts with no memory
	// of its tasks, agents have to re-register and have their tasks
	// adopted (default 10m, Mesos' agent_reregister_timeout).
	ReregisterTimeout time.Duration
	// UnreachableTimeout gives up an unreachable agent's tasks (TASK_GONE)
	// after this long (default 15m).
	UnreachableTimeout time.Duration
	// Heartbeat is how often frameworks get a HEARTBEAT event (default 15s).
	Heartbeat time.Duration
	// Retain is how many completed tasks /state keeps per framework
	// (default 1000).
	Retain int
	// Sample is how often the master records the cluster for the last
	// hour's charts (default 5s).
	Sample time.Duration
	// Limits bound what clients can make the master hold (see
	// core.Limits); MaxOutbox bounds the bytes queued for one event
	// stream: a subscriber that does not read is disconnected.
	Limits    core.Limits
	MaxOutbox int
	// Credential is the master's own, for what it calls: its raft peers
	// and agents (the web UI's sandbox proxy). Its calls carry it, and the
	// peers' and agents' certificates are verified with its CA. Nil: none
	// (--insecure).
	Credential *auth.Client
	// Replica makes the master one of a replicated cluster (Peers), or a
	// single master that keeps its registry on disk (one peer, itself).
	// Without it the master keeps everything in memory.
	Replica *ReplicaOptions
	// Credentials are the principals that may call the master; without
	// them the master runs --insecure: anyone may do anything.
	// Authorizer decides what each principal may do (default
	// auth.DefaultACLs). Audit records operators' actions and every
	// denial. MasterPrincipal is who the other masters are, the only
	// principal allowed to send raft messages (default "master").
	Credentials     *auth.Credentials
	Authorizer      auth.Authorizer
	Audit           *auth.Audit
	MasterPrincipal string
	Log             *slog.Logger
	Now             func() time.Time // default time.Now
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxOutbox <= 0 {
		o.MaxOutbox = 16 << 20
	}
	if o.Retain > 0 {
		o.Limits.Retain = o.Retain
	}
	if o.Credentials != nil && o.Authorizer == nil {
		o.Authorizer = auth.DefaultACLs(o.Credentials)
	}
	if o.MasterPrincipal == "" {
		o.MasterPrincipal = "master"
	}
}

// Master is a live master: the shell around a core.Core. One mutex
// serialises every input to the core; after each, what the core asks for
// is carried out (Ready): messages go to the streams' outboxes, which
// their HTTP handlers drain, so nothing waits on a client.
type Master struct {
	opts  Options
	start time.Time

	mu       sync.Mutex
	core     *core.Core
	streams  map[string]*outbox
	overflow uint64 // streams closed because their subscriber did not read
	stateLen int    // the last /state's size, to size the next one's buffer
	cycles   cycleStats
	wake     chan struct{}
	rep      *replication   // nil: not replicated
	running  sync.WaitGroup // Run and the replication's goroutine

	metricsOnce sync.Once
	metrics     http.Handler
}

// New validates the options and returns a master with no agents.
func New(opts Options) (*Master, error) {
	opts.defaults()
	now := opts.Now()
	m := &Master{opts: opts, start: now, streams: map[string]*outbox{}, wake: make(chan struct{}, 1)}
	m.cycles.buckets = make([]uint64, len(cycleBuckets))
	if opts.Replica != nil {
		rep, err := openReplication(m, *opts.Replica)
		if err != nil {
			return nil, fmt.Errorf("master: %w", err)
		}
		m.rep = rep
		return m, nil
	}
	c, err := core.New(m.coreConfig(now.UTC().Format("20060102-150405.000")), now)
	if err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	m.core = c
	m.flush()
	return m, nil
}

// coreConfig is the core's configuration, with id as its master id.
func (m *Master) coreConfig(id string) core.Config {
	o := m.opts
	return core.Config{Policy: o.Policy, PolicySource: o.PolicySource, ID: id, AgentTimeout: o.AgentTimeout, UnreachableTimeout: o.UnreachableTimeout,
		ReregisterTimeout: o.ReregisterTimeout, Fresh: o.Fresh, Heartbeat: o.Heartbeat, Sample: o.Sample, Limits: o.Limits,
		Authorizer: m.authorizer(), IDKey: idKey(o.Credentials, o.MasterPrincipal)}
}

// Run drives the core's timers, and the replication when there is one,
// until ctx ends.
func (m *Master) Run(ctx context.Context) {
	m.running.Add(1)
	defer m.running.Done()
	if m.rep != nil {
		m.running.Go(func() { m.rep.run(ctx) })
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			m.shutdown()
			return
		case <-timer.C:
			m.tick()
		case <-m.wake:
		}
		m.mu.Lock()
		d := time.Now().Add(time.Hour)
		if m.core != nil {
			d = m.core.Deadline()
		}
		m.mu.Unlock()
		timer.Reset(max(time.Until(d), 0))
	}
}

func (m *Master) tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return
	}
	t0 := time.Now()
	if m.core.Tick(m.opts.Now()) {
		m.cycles.observe(time.Since(t0))
	}
	m.flush()
}

// input runs one input to the core under the lock and carries out what it
// asks for. It reports false when this master does not lead.
func (m *Master) input(fn func(now time.Time)) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return false
	}
	fn(m.opts.Now())
	m.flush()
	return true
}

// flush carries out the core's Ready. Without replication the commands are
// applied already and each message goes to its stream's outbox at once. A
// replicated leader proposes the commands and holds the messages until
// they are committed (see replication.hold). A stream whose subscriber
// does not read is closed, and the core told.
func (m *Master) flush() {
	for {
		r := m.core.Ready()
		if len(r.Messages) == 0 && len(r.Commands) == 0 {
			break
		}
		if m.rep != nil {
			m.rep.hold(r)
			continue
		}
		m.deliver(r.Messages)
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// deliver puts messages in their streams' outboxes.
func (m *Master) deliver(msgs []core.Message) {
	for _, msg := range msgs {
		o := m.streams[msg.Stream]
		if o == nil {
			continue
		}
		ok := true
		if msg.Event != nil {
			ok = o.send(msg.Event)
		}
		if msg.AgentEvent != nil {
			ok = o.send(msg.AgentEvent)
		}
		if !ok {
			// The subscriber does not read: its stream is closed
			// and its handler tells the core it is gone.
			m.overflow++
			m.opts.Log.Warn("event stream closed: its subscriber does not read", "stream", msg.Stream, "limit_bytes", m.opts.MaxOutbox)
		}
		if msg.Close || !ok {
			o.close()
			delete(m.streams, msg.Stream)
		}
	}
}

// openStream makes an outbox for a new event stream.
func (m *Master) openStream() (string, *outbox) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	o := newOutbox(m.opts.MaxOutbox)
	m.streams[id] = o
	return id, o
}

func (m *Master) shutdown() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, o := range m.streams {
		o.close()
		delete(m.streams, id)
	}
}

// Handler serves the master's HTTP API.
func (m *Master) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("POST /api/v1/agent", m.serveAgent)
	mux.HandleFunc("GET /api/v1/policy", m.servePolicyGet)
	mux.HandleFunc("POST /api/v1/policy", m.servePolicyApply)
	mux.HandleFunc("POST /api/v1/teardown", m.serveTeardown)
	mux.HandleFunc("GET /state", m.viewing("state", m.serveState))
	mux.HandleFunc("GET /metrics", m.viewing("metrics", m.serveMetrics))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /api/v1/raft", m.serveRaft)
	mux.HandleFunc("GET /master/redirect", m.serveRedirect)
	mux.HandleFunc("GET /api/v1/masters", m.viewing("state", m.serveMasters))
	m.mesosRoutes(mux)
	return m.Authenticate(m.LeaderOnly(mux))
}

// allocate runs an allocation cycle at once (benchmarks).
func (m *Master) allocate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	t0 := time.Now()
	m.core.AllocateNow(m.opts.Now())
	m.cycles.observe(time.Since(t0))
	m.flush()
}

// Client is an HTTP client with the master's own credential (see
// Options.Credential) whose calls take timeout at most (0: no limit).
func (m *Master) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: m.opts.Credential.Transport(http.DefaultTransport.(*http.Transport)), Timeout: timeout}
}

// Started is when the master started.
func (m *Master) Started() time.Time { return m.start }

// Uptime is how long the master has run, on its clock.
func (m *Master) Uptime() time.Duration { return m.opts.Now().Sub(m.start) }

// waitStopped waits until Run has returned and the replication let go of
// its data dir.
func (m *Master) waitStopped() { m.running.Wait() }
