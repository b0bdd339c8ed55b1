package core

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// The operator API's UPDATE_WEIGHTS and UPDATE_QUOTA change the policy in
// force through the policy swap of SetPolicy: weights and quota are part
// of the allocator's configuration, so a weight or a quota set the Mesos
// way is the same change as a policy file posted to /api/v1/policy, and
// is authorised (update_policy on "weights" or "quota") and applied the
// same way, at the next allocation cycle.

// WeightInfo is a role's weight, as Mesos' UPDATE_WEIGHTS names it.
type WeightInfo struct {
	Role   string  `json:"role"`
	Weight float64 `json:"weight"`
}

// QuotaConfig is a role's quota, as Mesos' UPDATE_QUOTA (Mesos 1.9's
// quota.QuotaConfig) names it: what the role is guaranteed and what it
// may hold at most, by resource name.
type QuotaConfig struct {
	Role       string                `json:"role"`
	Guarantees map[string]api.Scalar `json:"guarantees"`
	Limits     map[string]api.Scalar `json:"limits"`
}

// Sources of the policies the operator calls make.
const (
	SourceUpdateWeights = "UPDATE_WEIGHTS"
	SourceUpdateQuota   = "UPDATE_QUOTA"
)

// Mesos' largest quota: an exabyte of mem or disk (in MiB), a trillion of
// anything else.
const (
	maxQuotaMiB   = 1 << 40
	maxQuotaOther = 1e12
)

// operatorPolicy is the policy an operator call changes, if the
// principal may change its part (as Mesos, even to what it is: each call
// swaps the policy): the one waiting for the next cycle, else the one in
// force, so that calls made in one cycle add up.
func (c *Core) operatorPolicy(now time.Time, principal, part string) (allocator.Config, *Refusal) {
	c.now = now
	if r := c.authorize(principal, auth.UpdatePolicy, part, part); r != nil {
		return allocator.Config{}, r
	}
	cfg := c.alloc.Config()
	if c.pending != nil {
		cfg = c.pending.Config
	}
	cfg.Roles = slices.Clone(cfg.Roles)
	return cfg, nil
}

// checkRole refuses a role that is not one ("*" is the default role).
func (c *Core) checkRole(field, role string) *Refusal {
	if err := allocator.ValidateRole(role); err != nil && role != "*" {
		return c.refuse(http.StatusBadRequest, field+".role", "%v", err)
	}
	return nil
}

// roleConfig returns the index of a role in cfg.Roles, adding it.
func roleConfig(cfg *allocator.Config, role string) int {
	i := slices.IndexFunc(cfg.Roles, func(r allocator.RoleConfig) bool { return r.Name == role })
	if i < 0 {
		cfg.Roles = append(cfg.Roles, allocator.RoleConfig{Name: role})
		i = len(cfg.Roles) - 1
	}
	return i
}

// tidy drops the roles a policy lists at their defaults (weight 1, no
// quota), as if never listed.
func tidy(cfg *allocator.Config) {
	cfg.Roles = slices.DeleteFunc(cfg.Roles, func(r allocator.RoleConfig) bool {
		return (r.Weight == 0 || r.Weight == 1) && r.Guarantee.IsEmpty() && r.Limit.IsEmpty()
	})
}

// UpdateWeights sets roles' weights (Mesos' UPDATE_WEIGHTS), in the
// order given, by a policy swap at the next allocation cycle.
func (c *Core) UpdateWeights(now time.Time, principal string, ws []WeightInfo) *Refusal {
	cfg, r := c.operatorPolicy(now, principal, "weights")
	if r != nil {
		return r
	}
	for i, w := range ws {
		field := fmt.Sprintf("update_weights.weight_infos[%d]", i)
		if r := c.checkRole(field, w.Role); r != nil {
			return r
		}
		if !(w.Weight > 0) || math.IsInf(w.Weight, 0) {
			return c.refuse(http.StatusBadRequest, field+".weight", "role %q: weight %v; weights must be positive", w.Role, w.Weight)
		}
		cfg.Roles[roleConfig(&cfg, wireRole(w.Role))].Weight = w.Weight
	}
	tidy(&cfg)
	return c.SetPolicy(now, principal, cfg, SourceUpdateWeights)
}

// UpdateQuota sets roles' quotas (Mesos' UPDATE_QUOTA): each role's
// guarantees and limits replace its own, all or none, by a policy swap
// at the next allocation cycle; a role given neither goes back to no
// quota. As Mesos, it refuses a limit below what a role already consumes
// and guarantees beyond the cluster's capacity, unless forced.
func (c *Core) UpdateQuota(now time.Time, principal string, qs []QuotaConfig, force bool) *Refusal {
	cfg, r := c.operatorPolicy(now, principal, "quota")
	if r != nil {
		return r
	}
	for i, q := range qs {
		field := fmt.Sprintf("update_quota.quota_configs[%d]", i)
		if r := c.checkRole(field, q.Role); r != nil {
			return r
		}
		g, err := quotaResources(q.Guarantees, false)
		if err != nil {
			return c.refuse(http.StatusBadRequest, field+".guarantees", "role %q: %v", q.Role, err)
		}
		l, err := quotaResources(q.Limits, true)
		if err != nil {
			return c.refuse(http.StatusBadRequest, field+".limits", "role %q: %v", q.Role, err)
		}
		for _, e := range g {
			if limit, ok := q.Limits[e.Name]; ok && e.Value.Float() > limit.Value {
				return c.refuse(http.StatusBadRequest, field+".guarantees", "role %q: guarantee %s:%v exceeds its limit %v", q.Role, e.Name, e.Value, limit.Value)
			}
		}
		role := wireRole(q.Role)
		if consumed := c.consumed(role); !force && !l.IsEmpty() && !fits(consumed, l) {
			return c.refuse(http.StatusBadRequest, field+".limits", "role %q already consumes %s, more than the limits %s (set force to bypass this check)", q.Role, consumed.Flatten(), l)
		}
		rc := &cfg.Roles[roleConfig(&cfg, role)]
		rc.Guarantee, rc.Limit = g, l
	}
	if total, capacity := guaranteed(cfg), c.capacity(); !force && !capacity.Contains(total) {
		return c.refuse(http.StatusBadRequest, "update_quota.quota_configs", "the quota guarantees %s exceed the cluster's capacity %s (set force to bypass this check)", total, capacity)
	}
	tidy(&cfg)
	return c.SetPolicy(now, principal, cfg, SourceUpdateQuota)
}

// quotaResources reads a quota's amounts by name. A limit of 0 is
// refused: apron's resources hold no zero amounts, so it would read as
// no limit at all.
func quotaResources(m map[string]api.Scalar, limit bool) (allocator.Resources, error) {
	var out allocator.Resources
	for _, name := range sortedKeys(m) {
		v := m[name].Value
		most := maxQuotaOther
		if name == "mem" || name == "disk" {
			most = maxQuotaMiB
		}
		if v < 0 || math.IsNaN(v) || v > most {
			return nil, fmt.Errorf("%s: %v; want a number from 0 to %v", name, v, most)
		}
		if v == 0 && limit {
			return nil, fmt.Errorf("%s: a limit of 0 is not supported (apron holds no zero amounts); want a positive limit, or none", name)
		}
		r, err := allocator.ParseResources(fmt.Sprintf("%s:%v", name, v))
		if err != nil {
			return nil, err
		}
		out = out.Add(r)
	}
	return out, nil
}

// fits reports whether amounts by name (reservations summed) are within
// limits, for the names limits name.
func fits(r, limits allocator.Resources) bool {
	for _, e := range limits {
		if r.Sum(e.Name) > e.Value {
			return false
		}
	}
	return true
}

// consumed is what a role and its sub-roles consume of their quota, as
// Mesos counts it: what their tasks use and what is reserved for them
// and not in use.
func (c *Core) consumed(role string) allocator.Resources {
	var used allocator.Resources
	for _, id := range sortedKeys(c.reg.frameworks) {
		for _, t := range c.reg.frameworks[id].active() {
			if t.charged && allocator.IsWithin(t.Role, role) {
				used = used.Add(t.res)
			}
		}
	}
	for _, v := range c.alloc.Roles() {
		if v.Name == role {
			return used.Add(v.Reserved.Sub(used.Reserved()))
		}
	}
	return used
}

// capacity is the cluster's resources as Mesos' quota check counts them:
// every registered agent's, connected or not, by name.
func (c *Core) capacity() allocator.Resources {
	var out allocator.Resources
	for _, ag := range c.registered() {
		out = out.Add(ag.total.Flatten())
	}
	return out
}

// guaranteed is the sum of a policy's guarantees, a sub-role's counted
// only when no role above it has one (it is within its parent's).
func guaranteed(cfg allocator.Config) allocator.Resources {
	var out allocator.Resources
	for _, r := range cfg.Roles {
		within := slices.ContainsFunc(cfg.Roles, func(p allocator.RoleConfig) bool {
			return p.Name != r.Name && allocator.IsWithin(r.Name, p.Name) && !p.Guarantee.IsEmpty()
		})
		if !within {
			out = out.Add(r.Guarantee)
		}
	}
	return out
}
