package core

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// The HTTP statuses the core tells apart (it imports no network code).
const (
	statusAccepted = 202
	statusNotFound = 404
)

// connState is where the agent is with the master.
type connState int

const (
	disconnected connState = iota // waiting until retryAt to subscribe
	subscribing                   // a SUBSCRIBE of generation gen is out
	registered                    // REGISTERED came on the stream of generation gen
)

func (s connState) String() string {
	return [...]string{"disconnected", "subscribing", "registered"}[s]
}

// conn is the connection's state machine. Every subscribe attempt has a
// new generation; what the shell reports of an older one is ignored, so a
// late failure of an old stream or post never touches the current one.
type conn struct {
	state    connState
	gen      uint64
	retryAt  time.Time     // disconnected: when to subscribe
	since    time.Time     // subscribing: when
	opened   bool          // subscribing: the stream answered 200
	backoff  time.Duration // the next wait between attempts
	atOnce   bool          // the last subscribe was an immediate retry: the next waits
	agentID  string
	interval time.Duration // between heartbeats
	heard    time.Time     // registered: REGISTERED or the last accepted post
	nextBeat time.Time
	beating  bool // a heartbeat is out
}

func (n *conn) deadline(cfg Config) time.Time {
	switch n.state {
	case disconnected:
		return n.retryAt
	case subscribing:
		return n.since.Add(cfg.RegisterTimeout)
	}
	return earliest(n.heard.Add(n.masterTimeout(cfg)), n.nextBeat)
}

func (n *conn) masterTimeout(cfg Config) time.Duration {
	if cfg.MasterTimeout > 0 {
		return cfg.MasterTimeout
	}
	return MasterTimeoutBeats * n.interval
}

// Connection says where the agent is with the master, and its id there
// once registered.
func (c *Core) Connection() (state string, gen uint64, agentID string) {
	return c.conn.state.String(), c.conn.gen, c.conn.agentID
}

func (c *Core) tickConn(now time.Time) {
	n := &c.conn
	switch {
	case n.state == disconnected && !now.Before(n.retryAt):
		c.subscribe(now)
	case n.state == subscribing && !now.Before(n.since.Add(c.cfg.RegisterTimeout)):
		c.reconnect(now, true, false, fmt.Sprintf("no REGISTERED within %v of subscribing", c.cfg.RegisterTimeout))
	case n.state == registered && !now.Before(n.heard.Add(n.masterTimeout(c.cfg))):
		c.reconnect(now, true, true, fmt.Sprintf("the master accepted no call for %v", n.masterTimeout(c.cfg)))
	case n.state == registered && !now.Before(n.nextBeat):
		n.nextBeat = now.Add(n.interval)
		if !n.beating {
			n.beating = true
			c.messages = append(c.messages, Message{Gen: n.gen, Call: api.AgentCall{Type: api.AgentCallHeartbeat, AgentID: n.agentID}})
		}
	}
}

// subscribe sends a SUBSCRIBE in a new generation, with every task not
// terminal-and-acknowledged and the infos of their frameworks.
func (c *Core) subscribe(now time.Time) {
	n := &c.conn
	n.gen++
	n.state, n.since, n.opened, n.beating = subscribing, now, false, false
	s := &api.AgentSubscribe{Name: c.cfg.Name, Hostname: c.cfg.Hostname, URL: c.cfg.URL, Resources: c.cfg.Resources,
		Attributes: c.cfg.Attributes, Isolation: c.cfg.Isolation, Incarnation: c.cfg.Incarnation, Generation: n.gen}
	keys := c.sortedKeys()
	fws := map[string]bool{}
	for _, k := range keys {
		r := &c.tasks[k].rec
		s.Tasks = append(s.Tasks, api.AgentTask{FrameworkID: r.FrameworkID, Task: r.Task, State: r.State, Role: r.Role})
		if f := c.frameworks[r.FrameworkID]; f != nil && f.info.ID != nil && !fws[r.FrameworkID] {
			fws[r.FrameworkID] = true
			s.Frameworks = append(s.Frameworks, f.info)
		}
	}
	slices.SortFunc(s.Frameworks, func(a, b api.FrameworkInfo) int { return cmp.Compare(a.ID.Value, b.ID.Value) })
	c.messages = append(c.messages, Message{Gen: n.gen, Call: api.AgentCall{Type: api.AgentCallSubscribe, Subscribe: s}})
}

func (c *Core) sortedKeys() []TaskKey {
	keys := make([]TaskKey, 0, len(c.tasks))
	for k := range c.tasks {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, TaskKey.compare)
	return keys
}

// reconnect leaves the current generation: it asks the shell to close its
// stream (close), and subscribes again at once (atOnce, unless the last
// subscribe already was such a retry) or after the backoff.
func (c *Core) reconnect(now time.Time, close, atOnce bool, why string) {
	n := &c.conn
	if close {
		c.effects = append(c.effects, Effect{Kind: EffectCloseStream, Gen: n.gen, Reason: why})
	}
	if atOnce && !n.atOnce {
		n.atOnce = true
		c.subscribe(now)
		return
	}
	n.state, n.retryAt = disconnected, now.Add(n.backoff)
	n.backoff = min(2*n.backoff, c.cfg.BackoffMax)
}

// StreamOpened: the SUBSCRIBE of generation gen was answered 200.
func (c *Core) StreamOpened(now time.Time, gen uint64) {
	if gen == c.conn.gen && c.conn.state == subscribing {
		c.conn.opened = true
	}
	c.flush(now)
}

// StreamClosed: the stream of generation gen ended, or its SUBSCRIBE
// failed (why says how). The agent subscribes again after its backoff.
func (c *Core) StreamClosed(now time.Time, gen uint64, why string) {
	if gen == c.conn.gen && c.conn.state != disconnected {
		c.reconnect(now, false, false, why)
	}
	c.flush(now)
}

// Posted: a HEARTBEAT or STATUS was answered (or not). Any 202 shows the
// master knows the agent; a 404 in the current generation means it does
// not, and the agent subscribes again at once.
func (c *Core) Posted(now time.Time, r PostResult) {
	n := &c.conn
	if r.Gen != n.gen || n.state != registered {
		c.flush(now)
		return
	}
	if r.Type == api.AgentCallHeartbeat {
		n.beating = false
	}
	switch r.Code {
	case statusAccepted:
		n.heard, n.atOnce = now, false
	case statusNotFound:
		c.reconnect(now, true, true, fmt.Sprintf("the master answered a %s with 404: it does not know this agent", r.Type))
	}
	c.flush(now)
}

// Event handles an event of the stream of generation gen. Events of
// other generations, and all but REGISTERED before it, are ignored.
func (c *Core) Event(now time.Time, gen uint64, e api.AgentEvent) {
	n := &c.conn
	if gen != n.gen || n.state == disconnected {
		return
	}
	switch {
	case e.Type == api.AgentEventRegistered && e.Registered != nil && n.state == subscribing:
		c.registered(now, e.Registered)
	case n.state != registered:
	case e.Type == api.AgentEventLaunch && e.Launch != nil:
		c.launch(now, e.Launch)
	case e.Type == api.AgentEventLaunchGroup && e.LaunchGroup != nil:
		c.launchGroup(now, e.LaunchGroup)
	case e.Type == api.AgentEventKill && e.Kill != nil:
		c.kill(now, TaskKey{e.Kill.FrameworkID, e.Kill.TaskID})
	case e.Type == api.AgentEventAck && e.Ack != nil:
		c.ack(now, TaskKey{e.Ack.FrameworkID, e.Ack.TaskID}, e.Ack.UUID)
	case e.Type == api.AgentEventShutdown:
		msg := ""
		if e.Shutdown != nil {
			msg = ": " + e.Shutdown.Message
		}
		c.reconnect(now, true, false, "the master refused this agent (SHUTDOWN)"+msg)
	}
	c.flush(now)
}

func (c *Core) registered(now time.Time, r *api.AgentRegistered) {
	n := &c.conn
	n.state, n.agentID, n.heard, n.backoff = registered, r.AgentID, now, c.cfg.BackoffMin
	n.interval = DefaultHeartbeat
	if s := r.HeartbeatIntervalSeconds; s > 0 {
		n.interval = min(max(time.Duration(min(s, 3600)*float64(time.Second)), 10*time.Millisecond), time.Hour)
	}
	n.nextBeat = now.Add(n.interval)
	for k := range c.queued {
		c.resend(c.tasks[k], true)
	}
}
