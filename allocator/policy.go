package allocator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Usage is what a policy sees of one client (a role, a subtree of roles, or a
// framework inside a role) when it computes the client's share.
type Usage struct {
	Name        string     // role path or framework id
	Weight      Ratio      // > 0; 1 unless configured (see WeightRatio)
	Allocations uint64     // how many times the client was allocated to
	Resources   []string   // resource names, in the order of Allocated and Total
	Allocated   []Quantity // the client's allocation per name (reservations summed)
	Total       []Quantity // the cluster's total per name
}

// Policy orders the clients of the allocator: at every level the client with
// the smallest share is offered resources first; ties go to the client with
// fewer allocations, then to the smaller name. Shares are exact (Ratio), so
// a tie is a tie. A policy adds capabilities by also implementing
// Hierarchy, CycleStarter, AgentGate or Market.
type Policy interface {
	Share(u *Usage) Ratio
}

// Hierarchy is implemented by policies that order nested roles as a tree
// (a sub-role's allocation counts toward its parent); other policies order
// every role as a peer of every other.
type Hierarchy interface {
	Hierarchical() bool
}

// CycleStarter is implemented by policies whose shares change with every
// allocation cycle rather than with allocations (the random policy). The
// allocator calls StartCycle with its seeded source and then recomputes every
// share.
type CycleStarter interface {
	StartCycle(r *rand.Rand)
}

// AgentGate is implemented by policies that confine roles to agents (static
// partitioning). Admit reports whether role may use an agent's unreserved
// resources. AgentAdded and AgentRemoved keep the gate's view of the agents;
// agents arrive in the order the allocator is told of them.
type AgentGate interface {
	AgentAdded(a AgentInfo) error
	AgentRemoved(id AgentID)
	Admit(role string, id AgentID) bool
}

// Market is implemented by policies whose shares depend on every role at
// once, through prices (ceei). Before the allocator brings shares up to date
// it calls Reprice with the usage of every role that holds resources (its
// own frameworks' allocation, weight and the cluster total), in name order;
// when Reprice reports that the prices changed, every share is recomputed.
type Market interface {
	Reprice(roles []Usage) bool
}

// Factory builds a policy from the allocator's configuration.
type Factory func(cfg *Config) (Policy, error)

var registry = map[string]Factory{}

// Register makes a policy available by name. It is meant to be called from
// an init function; registering a name twice panics.
func Register(name string, f Factory) {
	if _, dup := registry[name]; dup {
		panic("allocator: policy " + name + " registered twice")
	}
	registry[name] = f
}

// Policies returns the registered policy names, sorted.
func Policies() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewPolicy builds the named policy; an unknown name is an error that lists
// the known ones.
func NewPolicy(cfg *Config) (Policy, error) {
	f, ok := registry[cfg.Policy]
	if !ok {
		return nil, fmt.Errorf("unknown policy %q; known policies: %s", cfg.Policy, strings.Join(Policies(), ", "))
	}
	return f(cfg)
}

func isHierarchical(p Policy) bool {
	h, ok := p.(Hierarchy)
	return ok && h.Hierarchical()
}
