package core

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// Defaults of Config, after Mesos where it has one.
const (
	DefaultGrace           = 3 * time.Second
	DefaultRetryMin        = time.Second
	DefaultRetryMax        = 10 * time.Second
	DefaultBackoffMin      = 100 * time.Millisecond
	DefaultBackoffMax      = 5 * time.Second
	DefaultRegisterTimeout = 10 * time.Second
	DefaultGCDelay         = time.Hour // Mesos' --gc_delay
	// DefaultHeartbeat is the heartbeat interval when REGISTERED gives none.
	DefaultHeartbeat = time.Second
	// MasterTimeoutBeats is the default master timeout in heartbeat
	// intervals.
	MasterTimeoutBeats = 3
)

// Config configures a core. Zero durations take the defaults.
type Config struct {
	Name       string // the agent's id: an api.ValidName
	Hostname   string
	URL        string // where the agent serves /state and sandboxes
	Resources  []api.Resource
	Attributes map[string]string
	Isolation  string
	// Incarnation counts the agent's starts on its work dir (the shell
	// keeps the count there); with the subscribe generation it orders the
	// agent's SUBSCRIBEs for the master.
	Incarnation uint64

	Grace           time.Duration // SIGTERM to SIGKILL
	RetryMin        time.Duration // first status update retry, doubling...
	RetryMax        time.Duration // ...to this
	BackoffMin      time.Duration // first wait between subscribe attempts, doubling...
	BackoffMax      time.Duration // ...to this
	MasterTimeout   time.Duration // no heartbeat accepted for this long: subscribe again; 0: 3 heartbeat intervals
	RegisterTimeout time.Duration // no REGISTERED this long after a SUBSCRIBE: try again
	GCDelay         time.Duration // an acknowledged ended task's sandbox is removed after this (Mesos' --gc_delay)
	PidsLimit       int64         // every task's pids limit; 0: DefaultPidsLimit
	// TaskUser is who a task runs as when neither its command nor its
	// framework names a user (the agent's --task-user).
	TaskUser string

	// Rand gives the status updates' uuids: crypto/rand.Reader in an
	// agent, a seeded reader in tests and simulations.
	Rand io.Reader
}

// DefaultPidsLimit is the pids limit of every task's cgroup.
const DefaultPidsLimit = 4096

func (c *Config) check() error {
	if err := api.ValidName(c.Name); err != nil {
		return fmt.Errorf("agent core: name: %w", err)
	}
	if c.Rand == nil {
		return errors.New("agent core: Rand is nil; give crypto/rand.Reader or a seeded reader")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"grace", &c.Grace, DefaultGrace}, {"retry min", &c.RetryMin, DefaultRetryMin}, {"retry max", &c.RetryMax, DefaultRetryMax},
		{"backoff min", &c.BackoffMin, DefaultBackoffMin}, {"backoff max", &c.BackoffMax, DefaultBackoffMax},
		{"master timeout", &c.MasterTimeout, 0}, {"register timeout", &c.RegisterTimeout, DefaultRegisterTimeout},
		{"gc delay", &c.GCDelay, DefaultGCDelay},
	} {
		if *d.v < 0 {
			return fmt.Errorf("agent core: %s %v is negative; give 0 (default %v) or more", d.name, *d.v, d.def)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.RetryMin > c.RetryMax || c.BackoffMin > c.BackoffMax {
		return fmt.Errorf("agent core: retry %v..%v, backoff %v..%v: a minimum above its maximum", c.RetryMin, c.RetryMax, c.BackoffMin, c.BackoffMax)
	}
	if c.PidsLimit < 0 {
		return fmt.Errorf("agent core: pids limit %d is negative; give 0 (default %d) or more", c.PidsLimit, DefaultPidsLimit)
	}
	if c.PidsLimit == 0 {
		c.PidsLimit = DefaultPidsLimit
	}
	return nil
}

// Core is the agent's protocol state. It is not safe for concurrent use:
// its shell serializes the inputs.
type Core struct {
	cfg  Config
	conn conn

	tasks      map[TaskKey]*task
	frameworks map[string]*framework  // infos of the frameworks of tasks, by id
	groups     map[groupKey][]TaskKey // the tasks of each task group, in launch order
	queued     map[TaskKey]bool       // tasks with updates pending
	unsent     map[TaskKey]bool       // queued tasks whose oldest update goes at the next flush
	retries    schedule               // when queued tasks send their oldest update again
	kills      schedule               // when SIGKILL is due
	gc         map[TaskKey]time.Time  // sandboxes to remove, and when
	gcs        schedule
	uuids      uint64 // uuids made, for the fallback of a failing Rand

	dirty    []TaskKey
	dirtySet map[TaskKey]bool
	effects  []Effect
	messages []Message
}

type framework struct {
	info     api.FrameworkInfo
	launched time.Time // of the LAUNCH that brought this info
	tasks    int
}

// New makes a core from what the shell recovered of the work directory
// (nothing for a new agent) at time now. It subscribes at the first Tick,
// due at now.
func New(cfg Config, now time.Time, rec Recovery) (*Core, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c := &Core{cfg: cfg, tasks: map[TaskKey]*task{}, frameworks: map[string]*framework{}, groups: map[groupKey][]TaskKey{}, queued: map[TaskKey]bool{},
		unsent: map[TaskKey]bool{}, gc: map[TaskKey]time.Time{}, dirtySet: map[TaskKey]bool{}}
	c.conn = conn{state: disconnected, retryAt: now, backoff: cfg.BackoffMin}
	c.recover(now, rec)
	return c, nil
}

// Ready drains what the core asks of its shell since the last call. The
// checkpoint holds each changed task's record as it is now.
func (c *Core) Ready() Ready {
	var r Ready
	for _, k := range c.dirty {
		w := Write{Key: k}
		if t := c.tasks[k]; t != nil {
			w.Record = t.rec.clone()
		}
		r.Checkpoint = append(r.Checkpoint, w)
	}
	r.Effects, r.Messages = c.effects, c.messages
	c.dirty, c.effects, c.messages = nil, nil, nil
	clear(c.dirtySet)
	return r
}

// Deadline is when Tick next has work; zero: never.
func (c *Core) Deadline() time.Time {
	d := earliest(c.conn.deadline(c.cfg), c.kills.next())
	d = earliest(d, c.gcs.next())
	if c.conn.state == registered {
		d = earliest(d, c.retries.next())
	}
	return d
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// Tick does what is due at now: subscribe, heartbeat, give up on a silent
// master, resend updates, SIGKILL tasks past their grace, collect
// sandboxes.
func (c *Core) Tick(now time.Time) {
	c.tickConn(now)
	for _, k := range c.kills.due(now, func(e entry) bool { t := c.tasks[e.key]; return t != nil && t.killAt.Equal(e.at) }) {
		t := c.tasks[k]
		t.killAt = time.Time{}
		c.effects = append(c.effects, Effect{Kind: EffectSignal, Task: k, Pid: t.rec.Pid, Signal: sigkill})
	}
	for _, k := range c.gcs.due(now, func(e entry) bool { at, ok := c.gc[e.key]; return ok && at.Equal(e.at) }) {
		delete(c.gc, k)
		c.effects = append(c.effects, Effect{Kind: EffectRemoveSandbox, Task: k})
	}
	c.flush(now)
}

// collect schedules the removal of a task's sandbox.
func (c *Core) collect(k TaskKey, at time.Time) {
	c.gc[k] = at
	c.gcs.add(at, k)
}

// markDirty queues the task's record for the next checkpoint.
func (c *Core) markDirty(k TaskKey) {
	if !c.dirtySet[k] {
		c.dirtySet[k] = true
		c.dirty = append(c.dirty, k)
	}
}

// Tasks lists the tasks the agent has, in order, for its /state.
func (c *Core) Tasks() []TaskView {
	out := make([]TaskView, 0, len(c.tasks))
	for _, t := range c.tasks {
		r := &t.rec
		out = append(out, TaskView{Key: r.Key(), Name: r.Task.Name, State: r.State, Pid: r.Pid, Container: r.Container, Unacked: len(r.Pending)})
	}
	slices.SortFunc(out, func(a, b TaskView) int { return a.Key.compare(b.Key) })
	return out
}
