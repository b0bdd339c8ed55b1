package playground

import (
	"fmt"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/bundle"
)

type agentInst struct {
	name  string
	group string
	res   allocator.Resources
	line  int
}

// expandAgents names every agent (group-1...group-N for a count) and
// carves the reservations out of their unreserved resources.
func (s *Scenario) expandAgents() ([]agentInst, error) {
	var out []agentInst
	names := map[string]bool{}
	for _, a := range s.Agents {
		for _, name := range bundle.AgentNames(a.Name, a.Count) {
			if names[name] {
				return nil, fmt.Errorf("line %d: agent name %s is used twice", a.line, name)
			}
			names[name] = true
			out = append(out, agentInst{name: name, group: a.Name, res: a.Resources.Resources, line: a.line})
		}
	}
	for _, r := range s.Reservations {
		if err := allocator.ValidateRole(r.Role); err != nil {
			return nil, fmt.Errorf("line %d: reservation: %w", r.line, err)
		}
		if !r.Resources.Reserved().IsEmpty() {
			return nil, fmt.Errorf("line %d: reservation: resources %s name a role; give unreserved amounts and the role: key", r.line, r.Resources)
		}
		hit := false
		for i := range out {
			if out[i].name != r.Agent && out[i].group != r.Agent {
				continue
			}
			hit = true
			if !out[i].res.Unreserved().Contains(r.Resources.Resources) {
				return nil, fmt.Errorf("line %d: reservation: agent %s has %s unreserved, less than %s", r.line, out[i].name, out[i].res.Unreserved(), r.Resources)
			}
			var reserved allocator.Resources
			for _, e := range r.Resources.Resources {
				reserved = append(reserved, allocator.Resource{Name: e.Name, Role: r.Role, Value: e.Value})
			}
			out[i].res = out[i].res.Sub(r.Resources.Resources).Add(reserved)
		}
		if !hit {
			return nil, fmt.Errorf("line %d: reservation: no agent or agent group named %q", r.line, r.Agent)
		}
	}
	return out, nil
}

// config turns roles and partitions into an allocator configuration.
func (s *Scenario) config(policy string, agents []agentInst) (allocator.Config, error) {
	cfg := allocator.Config{Policy: policy, Seed: s.Seed, KeepAgentOrder: true}
	for _, r := range s.Roles {
		name := r.Name
		if r.Parent != "" {
			name = r.Parent + "/" + r.Name
		}
		cfg.Roles = append(cfg.Roles, allocator.RoleConfig{Name: name, Weight: r.Weight, Guarantee: r.Guarantee.Resources, Limit: r.Limit.Resources})
	}
	for _, p := range s.Partitions {
		part := allocator.Partition{Role: p.Role, Size: p.Size}
		for _, name := range p.Agents {
			n := len(part.Agents)
			for _, a := range agents {
				if a.name == name || a.group == name {
					part.Agents = append(part.Agents, allocator.AgentID(a.name))
				}
			}
			if len(part.Agents) == n {
				return cfg, fmt.Errorf("partitions: role %s: no agent or agent group named %q", p.Role, name)
			}
		}
		cfg.Partitions = append(cfg.Partitions, part)
	}
	if policy == "static" && len(cfg.Partitions) == 0 {
		var roles []string
		for _, f := range s.Frameworks {
			roles = append(roles, f.Role)
		}
		cfg.Partitions = allocator.EqualPartitions(roles...)
	}
	return cfg, nil
}
