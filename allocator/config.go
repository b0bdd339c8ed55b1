package allocator

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Config is everything that shapes an allocator's decisions. The zero value
// of each field takes the default named beside it.
type Config struct {
	// Policy is a registered policy name (see Policies); default "drf".
	Policy string
	// Seed feeds the allocator's random source (agent shuffles, the random
	// policy). The same seed and calls give the same offers.
	Seed uint64
	// AllocationInterval is the time between allocation cycles; a decline
	// filter lasts at least this long. Default 1s.
	AllocationInterval time.Duration
	// OfferTimeout rescinds offers outstanding this long; 0 never does.
	OfferTimeout time.Duration
	// DefaultRefuse is how long the filter lasts that a decline, or the unused
	// part of an accepted offer, gets when the framework names none (Mesos'
	// refuse_seconds). Default 5s, as in Mesos.
	DefaultRefuse time.Duration
	// MinAllocatable lists alternatives: an offer is made only if it holds at
	// least one of them in full. Default cpus:0.01 or mem:32.
	MinAllocatable []Resources
	// KeepAgentOrder visits agents in the order they were added instead of a
	// fresh seeded shuffle every cycle.
	KeepAgentOrder bool
	// Roles sets weights and quotas; roles not listed have weight 1 and no
	// quota.
	Roles []RoleConfig
	// Partitions assigns agents to roles for the static policy.
	Partitions []Partition
	// Reservations set aside part of agents' unreserved resources for
	// roles, as an agent that offers cpus(role):4 does, but from the
	// policy: a live master changes them with a policy swap.
	Reservations []Reservation
}

// Reservation reserves, on one agent, unreserved amounts by name for a role.
type Reservation struct {
	Agent     AgentID
	Role      string
	Resources Resources
}

// RoleConfig is the weight and quota of one role.
type RoleConfig struct {
	Name   string
	Weight float64 // > 0; 0 means 1
	// Guarantee is offered to the role before any fair sharing, and held
	// back from other roles while unmet. Limit caps what the role and its
	// sub-roles may hold. Both are unreserved amounts by name.
	Guarantee Resources
	Limit     Resources
}

// Partition is one static partition: the role that owns it and either the
// agents it holds or its relative size.
type Partition struct {
	Role   string
	Agents []AgentID
	Size   float64 // relative size; 0 means 1
}

var defaultMinAllocatable = []Resources{MustParseResources("cpus:0.01"), MustParseResources("mem:32")}

// WithDefaults returns a copy of c with every zero field set to its
// default, as an allocator made with it reports its Config, or an error
// naming the first field that is wrong and what it allows.
func (c Config) WithDefaults() (Config, error) { return c.withDefaults() }

func (c Config) withDefaults() (Config, error) {
	if c.Policy == "" {
		c.Policy = "drf"
	}
	if c.AllocationInterval == 0 {
		c.AllocationInterval = time.Second
	}
	if c.DefaultRefuse == 0 {
		c.DefaultRefuse = 5 * time.Second
	}
	if c.MinAllocatable == nil {
		c.MinAllocatable = defaultMinAllocatable
	}
	switch {
	case c.AllocationInterval < 0:
		return c, fmt.Errorf("allocation_interval %v is negative; want a positive duration such as 1s", c.AllocationInterval)
	case c.OfferTimeout < 0:
		return c, fmt.Errorf("offer_timeout %v is negative; want 0 (never) or a positive duration", c.OfferTimeout)
	case c.DefaultRefuse < 0:
		return c, fmt.Errorf("default_refuse %v is negative; want a positive duration", c.DefaultRefuse)
	}
	seen := map[string]bool{}
	for i, r := range c.Roles {
		if err := r.validate(); err != nil {
			return c, fmt.Errorf("roles[%d]: %w", i, err)
		}
		if seen[r.Name] {
			return c, fmt.Errorf("roles[%d]: role %q is listed twice", i, r.Name)
		}
		seen[r.Name] = true
	}
	for i, r := range c.Reservations {
		if err := r.validate(); err != nil {
			return c, fmt.Errorf("reservations[%d]: %w", i, err)
		}
	}
	for i, p := range c.Partitions {
		if err := ValidateRole(p.Role); err != nil {
			return c, fmt.Errorf("partitions[%d]: %w", i, err)
		}
		if p.Size < 0 || math.IsNaN(p.Size) || math.IsInf(p.Size, 0) {
			return c, fmt.Errorf("partitions[%d] (%s): size %v; want a positive number", i, p.Role, p.Size)
		}
	}
	return c, nil
}

func (r RoleConfig) validate() error {
	if err := ValidateRole(r.Name); err != nil {
		return err
	}
	if r.Weight < 0 || math.IsNaN(r.Weight) || math.IsInf(r.Weight, 0) {
		return fmt.Errorf("role %q: weight %v; want a positive number (0 means 1)", r.Name, r.Weight)
	}
	for _, q := range []struct {
		what string
		r    Resources
	}{{"guarantee", r.Guarantee}, {"limit", r.Limit}} {
		if res := q.r.Reserved(); !res.IsEmpty() {
			return fmt.Errorf("role %q: %s %s names reservations; quotas are unreserved amounts by name", r.Name, q.what, res)
		}
	}
	if !r.Limit.IsEmpty() {
		for _, e := range r.Guarantee {
			if l := r.Limit.Get(e.Name, ""); r.Limit.index(e.Name, "") >= 0 && e.Value > l {
				return fmt.Errorf("role %q: guarantee %s:%s exceeds limit %s", r.Name, e.Name, e.Value, l)
			}
		}
	}
	return nil
}

func (r Reservation) validate() error {
	if r.Agent == "" {
		return fmt.Errorf("a reservation names its agent")
	}
	if err := ValidateRole(r.Role); err != nil {
		return err
	}
	if r.Resources.IsEmpty() || !r.Resources.Reserved().IsEmpty() {
		return fmt.Errorf("agent %s, role %s: resources %q; want unreserved amounts by name, such as cpus:2;mem:1024", r.Agent, r.Role, r.Resources)
	}
	return nil
}

// reserve applies the configured reservations of an agent to its total:
// each moves unreserved amounts to its role, in the order listed.
func (c *Config) reserve(id AgentID, total Resources) (Resources, error) {
	for _, r := range c.Reservations {
		if r.Agent != id {
			continue
		}
		for _, e := range r.Resources {
			if have := total.Get(e.Name, ""); have < e.Value {
				return nil, fmt.Errorf("reserving %s:%s for %s: the agent has %s unreserved", e.Name, e.Value, r.Role, have)
			}
			total = total.Sub(Resources{{Name: e.Name, Value: e.Value}}).Add(Resources{{Name: e.Name, Role: r.Role, Value: e.Value}})
		}
	}
	return total, nil
}

func (r RoleConfig) weight() float64 {
	if r.Weight == 0 {
		return 1
	}
	return r.Weight
}

// IsWithin reports whether role is ancestor or one of its sub-roles: the
// roles that resources reserved for ancestor may be offered to.
func IsWithin(role, ancestor string) bool {
	return role == ancestor || strings.HasPrefix(role, ancestor+"/")
}

// parentRole returns the parent of a nested role, "" for a top-level one.
func parentRole(role string) string {
	if i := strings.LastIndexByte(role, '/'); i >= 0 {
		return role[:i]
	}
	return ""
}
