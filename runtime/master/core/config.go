package core

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/auth"
)

// Config configures a master core. The zero value of each field takes the
// default named beside it.
type Config struct {
	// Policy is the allocator's configuration at start; PolicySource says
	// where it came from, for /state.
	Policy       allocator.Config
	PolicySource string
	// ID prefixes the ids of the frameworks this master registers
	// (default "apron"); a master started with no registry picks one of
	// its own so that ids stay unique across restarts.
	ID string
	// AgentTimeout marks an agent unreachable when it has not been heard
	// of for this long (default 75s: Mesos' 5 pings 15 s apart). Agents
	// heartbeat every quarter of it.
	AgentTimeout time.Duration
	// ReregisterTimeout is how long agents the registry knows have, after
	// this master took over, to re-register before they are marked
	// unreachable (default 10m, Mesos' agent_reregister_timeout).
	ReregisterTimeout time.Duration
	// UnreachableTimeout is how long an unreachable agent's tasks stay
	// TASK_UNREACHABLE before they are TASK_GONE and the agent is given
	// up (default 15m); if it comes back after, its tasks are killed.
	UnreachableTimeout time.Duration
	// Heartbeat is how often frameworks get a HEARTBEAT event (default
	// 15s).
	Heartbeat time.Duration
	// Sample is how often the master records the cluster for the last
	// hour's charts (default 5s).
	Sample time.Duration
	// Fresh says the master starts a new cluster: no task can run that it
	// does not know. A master that starts with no registry and is not
	// fresh may have forgotten tasks (it restarted, and nothing is
	// replicated): for ReregisterTimeout it adopts the unknown tasks
	// re-registering agents report, and does not answer for tasks it
	// does not know; after, an unknown task is not running.
	Fresh bool
	// Limits bound what clients can make the master hold.
	Limits Limits
	// Authorizer decides who may do what (nil: everyone may do
	// everything, as a master run --insecure).
	Authorizer auth.Authorizer
	// IDKey signs the framework ids the master issues with the principal
	// they are issued to (see Core.issue); the masters of a cluster, and
	// a master across restarts, keep the same key.
	IDKey []byte
}

// Limits bound everything a client can grow. Each is a flag of apron
// master; docs/api.md lists them.
type Limits struct {
	MaxFrameworks        int // subscribed at once (default 1000)
	MaxAgents            int // registered at once (default 100000)
	MaxTasksPerFramework int // not yet completed, per framework (default 100000)
	MaxTasksPerAccept    int // tasks in one ACCEPT (default 1000)
	MaxReconcile         int // tasks named in one RECONCILE (default 10000)
	MaxRoles             int // roles per framework (default 64)
	MaxAttributes        int // attributes per agent (default 64)
	MaxName              int // bytes of a name, hostname, URL, principal, message (default 1024)
	MaxCommand           int // bytes of a task's command (default 65536)
	Retain               int // completed tasks kept per framework (default 1000)
	KeepGone             int // torn-down frameworks kept (default 100)
	Transitions          int // state transitions kept per task (default 16)
	PolicyHistory        int // policies kept in the history (default 20)
	MaxReservations      int // dynamic reservations (role, principal) per agent (default 1000)
}

func (l *Limits) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.MaxFrameworks, 1000)
	set(&l.MaxAgents, 100000)
	set(&l.MaxTasksPerFramework, 100000)
	set(&l.MaxTasksPerAccept, 1000)
	set(&l.MaxReconcile, 10000)
	set(&l.MaxRoles, 64)
	set(&l.MaxAttributes, 64)
	set(&l.MaxName, 1024)
	set(&l.MaxCommand, 65536)
	set(&l.Retain, 1000)
	set(&l.KeepGone, 100)
	set(&l.Transitions, 16)
	set(&l.PolicyHistory, 20)
	set(&l.MaxReservations, 1000)
}

// Smallest durations a live master accepts: below them a master spins.
const (
	MinAllocationInterval = 10 * time.Millisecond
	MinAgentTimeout       = 100 * time.Millisecond
	MinHeartbeat          = 10 * time.Millisecond
	// MaxRefuse caps a decline filter, as Mesos caps refuse_seconds at a
	// year: longer is as good as for ever, and a larger Duration
	// overflows.
	MaxRefuse = 365 * 24 * time.Hour
)

// withDefaults fills in the defaults and checks the durations.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		c.ID = "apron"
	}
	if c.AgentTimeout == 0 {
		c.AgentTimeout = 75 * time.Second
	}
	if c.ReregisterTimeout == 0 {
		c.ReregisterTimeout = 10 * time.Minute
	}
	if c.UnreachableTimeout == 0 {
		c.UnreachableTimeout = 15 * time.Minute
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Sample == 0 {
		c.Sample = 5 * time.Second
	}
	c.Limits.defaults()
	for _, d := range []struct {
		name     string
		v, least time.Duration
	}{
		{"agent timeout", c.AgentTimeout, MinAgentTimeout},
		{"agent re-register timeout", c.ReregisterTimeout, MinAgentTimeout},
		{"unreachable timeout", c.UnreachableTimeout, MinAgentTimeout},
		{"framework heartbeat", c.Heartbeat, MinHeartbeat},
		{"sample interval", c.Sample, MinHeartbeat},
	} {
		if d.v < d.least {
			return c, fmt.Errorf("%s %v: want %v or more", d.name, d.v, d.least)
		}
	}
	return c, CheckPolicy(c.Policy)
}

// CheckPolicy checks what a live master needs of a policy beyond what the
// allocator checks: intervals a wall clock can keep.
func CheckPolicy(p allocator.Config) error {
	if p.AllocationInterval != 0 && p.AllocationInterval < MinAllocationInterval {
		return fmt.Errorf("allocation_interval %v: a live master wants %v or more", p.AllocationInterval, MinAllocationInterval)
	}
	if p.OfferTimeout < 0 || p.DefaultRefuse < 0 {
		return fmt.Errorf("offer_timeout %v, default_refuse %v: want 0 or more", p.OfferTimeout, p.DefaultRefuse)
	}
	_, err := allocator.New(p)
	return err
}
