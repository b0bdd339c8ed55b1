package allocator

import (
	"fmt"
	"slices"
)

// Static partitioning: every agent belongs to one partition, and a partition
// belongs to one role; the agent's unreserved resources are offered only to
// that role and its sub-roles, so nothing is shared. Inside a partition
// frameworks are ordered by DRF.
//
// An agent joins the partition that lists its id, else the one its
// "partition" attribute names, else the partition furthest below its size
// (Partition.Size, relative; equal by default) in the order agents arrive.

// PartitionAttribute is the agent attribute that names an agent's partition.
const PartitionAttribute = "partition"

func init() {
	Register("static", newStatic)
}

type static struct {
	drf
	parts    []Partition
	explicit map[AgentID]int // agent -> partition listing it
	owner    map[AgentID]int
	counts   []int
	total    int
}

var (
	_ Policy    = (*static)(nil)
	_ AgentGate = (*static)(nil)
)

func newStatic(cfg *Config) (Policy, error) {
	if len(cfg.Partitions) == 0 {
		return nil, fmt.Errorf("policy static needs partitions: a role per partition, with agent ids or a size")
	}
	s := &static{parts: cfg.Partitions, explicit: map[AgentID]int{}, owner: map[AgentID]int{}, counts: make([]int, len(cfg.Partitions))}
	for i, p := range cfg.Partitions {
		for _, id := range p.Agents {
			if j, dup := s.explicit[id]; dup {
				return nil, fmt.Errorf("partitions: agent %q is listed by both %q and %q", id, cfg.Partitions[j].Role, p.Role)
			}
			s.explicit[id] = i
		}
	}
	return s, nil
}

func (s *static) AgentAdded(a AgentInfo) error {
	i, ok := s.explicit[a.ID]
	if !ok {
		if name := a.Attributes[PartitionAttribute]; name != "" {
			i = slices.IndexFunc(s.parts, func(p Partition) bool { return p.Role == name })
			if i < 0 {
				return fmt.Errorf("agent %q: attribute %s=%q names no partition; partitions: %v", a.ID, PartitionAttribute, name, s.roles())
			}
		} else {
			i = s.neediest()
		}
	}
	s.owner[a.ID] = i
	s.counts[i]++
	s.total++
	return nil
}

// neediest returns the partition furthest below its share of the agents,
// the first listed on a tie.
func (s *static) neediest() int {
	sum := 0.0
	for _, p := range s.parts {
		sum += p.size()
	}
	best, bestDeficit := 0, 0.0
	for i, p := range s.parts {
		deficit := p.size()/sum*float64(s.total+1) - float64(s.counts[i])
		if i == 0 || deficit > bestDeficit {
			best, bestDeficit = i, deficit
		}
	}
	return best
}

func (s *static) AgentRemoved(id AgentID) {
	if i, ok := s.owner[id]; ok {
		s.counts[i]--
		s.total--
		delete(s.owner, id)
	}
}

func (s *static) Admit(role string, id AgentID) bool {
	i, ok := s.owner[id]
	return ok && IsWithin(role, s.parts[i].Role)
}

func (s *static) roles() []string {
	var out []string
	for _, p := range s.parts {
		out = append(out, p.Role)
	}
	return out
}

func (p Partition) size() float64 {
	if p.Size > 0 {
		return p.Size
	}
	return 1
}

// EqualPartitions returns one partition of equal size per role, in order:
// the default static split of a cluster among its frameworks' roles.
func EqualPartitions(roles ...string) []Partition {
	var parts []Partition
	for _, r := range roles {
		if !slices.ContainsFunc(parts, func(p Partition) bool { return p.Role == r }) {
			parts = append(parts, Partition{Role: r})
		}
	}
	return parts
}
