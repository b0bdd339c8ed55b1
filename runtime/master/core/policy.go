package core

import (
	"cmp"
	"fmt"
	"github.com/apronlab/apron/runtime/auth"
	"net/http"
	"reflect"
	"time"

	"github.com/apronlab/apron/allocator"
)

// SetPolicy checks a policy and queues it for the next allocation cycle,
// which builds a new allocator with it and tells it what the old one
// knew. A policy that does not pass the checks is refused and changes
// nothing.
func (c *Core) SetPolicy(now time.Time, principal string, cfg allocator.Config, source string) *Refusal {
	c.now = now
	if cfg.Seed == 0 {
		cfg.Seed = c.alloc.Config().Seed
	}
	if err := CheckPolicy(cfg); err != nil {
		return c.refuse(http.StatusBadRequest, "", "%s: %v; the policy in force is unchanged", source, err)
	}
	full, _ := cfg.WithDefaults() // CheckPolicy made an allocator of it
	for _, part := range PolicyParts(c.alloc.Config(), full) {
		if r := c.authorize(principal, auth.UpdatePolicy, part, part); r != nil {
			r.Message += "; the policy in force is unchanged"
			return r
		}
	}
	c.pending = &PolicyRecord{Config: cfg, Source: source}
	c.soon = true
	return nil
}

// PolicyParts names what a new policy changes, as update_policy's ACL
// objects: "policy" (the policy or its seed), "timing" (the allocation
// interval, offer timeout, default refuse, minimum allocatable, agent
// order), "weights", "quota", "partitions" and "reservations".
func PolicyParts(old, cfg allocator.Config) []string {
	var parts []string
	add := func(part string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			parts = append(parts, part)
		}
	}
	type timing struct {
		i, o, r time.Duration
		m       []allocator.Resources
		k       bool
	}
	add("policy", [2]any{old.Policy, old.Seed}, [2]any{cfg.Policy, cfg.Seed})
	add("timing", timing{old.AllocationInterval, old.OfferTimeout, old.DefaultRefuse, old.MinAllocatable, old.KeepAgentOrder},
		timing{cfg.AllocationInterval, cfg.OfferTimeout, cfg.DefaultRefuse, cfg.MinAllocatable, cfg.KeepAgentOrder})
	add("weights", roleMap(old, weight), roleMap(cfg, weight))
	add("quota", roleMap(old, func(r allocator.RoleConfig) any { return [2]string{r.Guarantee.String(), r.Limit.String()} }),
		roleMap(cfg, func(r allocator.RoleConfig) any { return [2]string{r.Guarantee.String(), r.Limit.String()} }))
	add("partitions", old.Partitions, cfg.Partitions)
	add("reservations", old.Reservations, cfg.Reservations)
	return parts
}

func weight(r allocator.RoleConfig) any { return cmp.Or(r.Weight, 1) }

// roleMap is one setting of each role a policy lists, but for roles
// at the setting's zero value (weight 1, no quota) which are as unlisted.
func roleMap(cfg allocator.Config, get func(allocator.RoleConfig) any) map[string]any {
	m := map[string]any{}
	zero := get(allocator.RoleConfig{})
	for _, r := range cfg.Roles {
		if v := get(r); v != zero {
			m[r.Name] = v
		}
	}
	return m
}

// applyPending swaps a pending policy in: a new allocator learns the
// connected agents, the frameworks and the resources their tasks use;
// outstanding offers are rescinded and decline filters are dropped. If the
// new policy cannot hold the cluster as it is (a static partition naming
// an agent that is gone, say) the old one stays and LastError says why.
func (c *Core) applyPending() {
	p := c.pending
	if p == nil {
		return
	}
	c.pending = nil
	a, err := c.rebuild(p.Config)
	if err != nil {
		c.lastError = fmt.Sprintf("%s: %v", p.Source, err)
		return
	}
	for _, o := range c.alloc.Offers() {
		c.rescinded(o)
	}
	c.alloc, c.gen, c.lastError = a, c.gen+1, ""
	c.apply(Command{Op: OpSetPolicy, Policy: &PolicyRecord{Config: a.Config(), Source: p.Source, AppliedAt: c.now}})
}

func (c *Core) rebuild(cfg allocator.Config) (*allocator.Allocator, error) {
	a, err := allocator.New(cfg)
	if err != nil {
		return nil, err
	}
	for _, id := range c.reg.agentOrder {
		if ag := c.reg.agents[id]; ag.inAlloc {
			if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(id), Attributes: ag.Attributes}, ag.Total()); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range sortedKeys(c.reg.frameworks) {
		f := c.reg.frameworks[id]
		fid := allocator.FrameworkID(id)
		if err := a.AddFramework(fid, f.Roles...); err != nil {
			return nil, err
		}
		for _, r := range f.Roles {
			if f.suppressed[r] || f.stream == "" {
				_ = a.Suppress(fid, r)
			}
		}
		for _, tid := range sortedKeys(f.Tasks) {
			if t := f.Tasks[tid]; t.charged {
				if err := a.Restore(fid, t.Role, allocator.AgentID(t.AgentID), t.res); err != nil {
					return nil, fmt.Errorf("task %s of %s: %w", tid, id, err)
				}
			}
		}
	}
	for _, e := range sortedExecutors(c.reg.executors) {
		if e.charged {
			if err := a.Restore(allocator.FrameworkID(e.FrameworkID), e.Role, allocator.AgentID(e.AgentID), e.res); err != nil {
				return nil, fmt.Errorf("executor %s of %s: %w", e.Info.ExecutorID.Value, e.FrameworkID, err)
			}
		}
	}
	return a, nil
}
