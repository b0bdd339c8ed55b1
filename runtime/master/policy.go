package master

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
)

// policyState is the policy in force and one waiting for the next cycle.
type policyState struct {
	Config    allocator.Config
	Source    string
	AppliedAt time.Time
	Pending   *allocator.Config
	PendingOf string
	LastError string // why the last pending policy could not be swapped in
}

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

func (p policyState) view() PolicyView {
	c := p.Config
	v := PolicyView{
		Policy: c.Policy, Source: p.Source, AppliedAt: p.AppliedAt,
		AllocationInterval: c.AllocationInterval.String(), OfferTimeout: c.OfferTimeout.String(),
		DefaultRefuse: c.DefaultRefuse.String(), LastError: p.LastError,
	}
	for _, r := range c.Roles {
		v.Roles = append(v.Roles, RolePolicy{Name: r.Name, Weight: r.Weight, Guarantee: r.Guarantee.String(), Limit: r.Limit.String()})
	}
	for _, part := range c.Partitions {
		pp := PartitionPolicy{Role: part.Role, Size: part.Size}
		for _, a := range part.Agents {
			pp.Agents = append(pp.Agents, string(a))
		}
		v.Partitions = append(v.Partitions, pp)
	}
	for _, r := range c.Reservations {
		v.Reservations = append(v.Reservations, ReservationPolicy{Agent: string(r.Agent), Role: r.Role, Resources: r.Resources.String()})
	}
	if p.Pending != nil {
		v.Pending = p.PendingOf
	}
	return v
}

func (m *Master) servePolicyGet(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	v := m.policy.view()
	m.mu.Unlock()
	writeJSON(w, v)
}

// servePolicyApply validates a posted policy file and queues it for the
// next allocation cycle. The file's name (for its format) comes from the
// "name" query parameter.
func (m *Master) servePolicyApply(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "policy.yaml"
	}
	if m.opts.ParsePolicy == nil {
		refuse(w, http.StatusNotImplemented, "", "this master was started without a policy parser")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		refuse(w, http.StatusBadRequest, "", "reading the policy: %v", err)
		return
	}
	cfg, err := m.opts.ParsePolicy(name, data) // its errors name the file
	if err == nil {
		if _, err = allocator.New(cfg); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	if err != nil {
		refuse(w, http.StatusBadRequest, "", "%v; the policy in force is unchanged", err)
		return
	}
	m.mu.Lock()
	if cfg.Seed == 0 {
		cfg.Seed = m.policy.Config.Seed
	}
	m.policy.Pending, m.policy.PendingOf = &cfg, name
	v := m.policy.view()
	m.mu.Unlock()
	m.soon()
	w.WriteHeader(http.StatusAccepted)
	writeJSON(w, v)
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// applyPending swaps a pending policy in: a new allocator learns the
// agents, the frameworks and the resources their tasks use; outstanding
// offers are rescinded and decline filters are dropped. If the new policy
// cannot hold the cluster as it is (a static partition naming an agent
// that is gone, say) the old one stays and /state says why.
func (m *Master) applyPending() {
	p := m.policy.Pending
	if p == nil {
		return
	}
	m.policy.Pending = nil
	a, err := m.rebuild(*p)
	if err != nil {
		m.policy.LastError = fmt.Sprintf("%s: %v", m.policy.PendingOf, err)
		m.opts.Log.Error("policy not applied", "source", m.policy.PendingOf, "err", err)
		return
	}
	for _, o := range m.alloc.Offers() {
		m.rescinded(o)
	}
	m.alloc, m.gen = a, m.gen+1
	m.policy = policyState{Config: a.Config(), Source: m.policy.PendingOf, AppliedAt: m.opts.Now()}
	m.opts.Log.Info("policy applied", "policy", a.Config().Policy, "source", m.policy.Source)
}

func (m *Master) rebuild(cfg allocator.Config) (*allocator.Allocator, error) {
	a, err := allocator.New(cfg)
	if err != nil {
		return nil, err
	}
	for _, id := range m.agentsN {
		if ag := m.agents[id]; ag.state == agentActive {
			if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(id), Attributes: ag.attrs}, ag.total); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range sorted.Keys(m.fws) {
		f := m.fws[id]
		fid := allocator.FrameworkID(id)
		if err := a.AddFramework(fid, f.roles...); err != nil {
			return nil, err
		}
		for _, r := range f.roles {
			if f.suppressed[r] || f.out == nil {
				_ = a.Suppress(fid, r)
			}
		}
		for _, tid := range sorted.Keys(f.tasks) {
			t := f.tasks[tid]
			if err := a.Restore(fid, t.role, allocator.AgentID(t.agent), t.res); err != nil {
				return nil, fmt.Errorf("task %s of %s: %w", tid, id, err)
			}
		}
	}
	return a, nil
}
