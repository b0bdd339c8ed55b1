package core

import (
	"fmt"
	"net/http"
	"time"

	"github.com/apronlab/apron/allocator"
)

// SetPolicy checks a policy and queues it for the next allocation cycle,
// which builds a new allocator with it and tells it what the old one
// knew. A policy that does not pass the checks is refused and changes
// nothing.
func (c *Core) SetPolicy(now time.Time, cfg allocator.Config, source string) *Refusal {
	c.now = now
	if cfg.Seed == 0 {
		cfg.Seed = c.alloc.Config().Seed
	}
	if err := CheckPolicy(cfg); err != nil {
		return c.refuse(http.StatusBadRequest, "", "%s: %v; the policy in force is unchanged", source, err)
	}
	c.pending = &PolicyRecord{Config: cfg, Source: source}
	c.soon = true
	return nil
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
			if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(id), Attributes: ag.Attributes}, ag.total); err != nil {
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
	return a, nil
}
