package core

import "time"

// PolicyView is the policy as /state and GET /api/v1/policy show it.
type PolicyView struct {
	Policy             string              `json:"policy"`
	Source             string              `json:"source"`
	AppliedAt          time.Time           `json:"applied_at"`
	AllocationInterval string              `json:"allocation_interval"`
	OfferTimeout       string              `json:"offer_timeout"`
	DefaultRefuse      string              `json:"default_refuse"`
	Roles              []RolePolicy        `json:"roles,omitempty"`
	Partitions         []PartitionPolicy   `json:"partitions,omitempty"`
	Reservations       []ReservationPolicy `json:"reservations,omitempty"`
	Pending            string              `json:"pending,omitempty"` // the source of a policy waiting for the next cycle
	LastError          string              `json:"last_error,omitempty"`
}

// RolePolicy is a role's weight and quota, resources in text form.
type RolePolicy struct {
	Name      string  `json:"name"`
	Weight    float64 `json:"weight"`
	Guarantee string  `json:"guarantee,omitempty"`
	Limit     string  `json:"limit,omitempty"`
}

// PartitionPolicy is a static partition.
type PartitionPolicy struct {
	Role   string   `json:"role"`
	Agents []string `json:"agents,omitempty"`
	Size   float64  `json:"size,omitempty"`
}

// ReservationPolicy is resources reserved for a role on an agent.
type ReservationPolicy struct {
	Agent     string `json:"agent"`
	Role      string `json:"role"`
	Resources string `json:"resources"`
}

// PolicyView returns the policy in force, and one waiting for the next
// cycle.
func (c *Core) PolicyView() PolicyView { return c.policyView() }

func (c *Core) policyView() PolicyView {
	p := c.reg.policy
	cfg := c.alloc.Config()
	v := PolicyView{
		Policy: cfg.Policy, Source: p.Source, AppliedAt: p.AppliedAt,
		AllocationInterval: cfg.AllocationInterval.String(), OfferTimeout: cfg.OfferTimeout.String(),
		DefaultRefuse: cfg.DefaultRefuse.String(), LastError: c.lastError,
	}
	for _, r := range cfg.Roles {
		v.Roles = append(v.Roles, RolePolicy{Name: r.Name, Weight: r.Weight, Guarantee: r.Guarantee.String(), Limit: r.Limit.String()})
	}
	for _, part := range cfg.Partitions {
		pp := PartitionPolicy{Role: part.Role, Size: part.Size}
		for _, a := range part.Agents {
			pp.Agents = append(pp.Agents, string(a))
		}
		v.Partitions = append(v.Partitions, pp)
	}
	for _, r := range cfg.Reservations {
		v.Reservations = append(v.Reservations, ReservationPolicy{Agent: string(r.Agent), Role: r.Role, Resources: r.Resources.String()})
	}
	if c.pending != nil {
		v.Pending = c.pending.Source
	}
	return v
}
