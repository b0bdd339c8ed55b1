package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/conf"
	"go.yaml.in/yaml/v3"
)

// PolicyFile is a policy file for the live master: the allocator keys of a
// simulation config, at the top level, and the seed of the allocator's
// shuffles.
type PolicyFile struct {
	Seed        uint64 `yaml:"seed"`
	AllocConfig `yaml:",inline"`
}

// ParsePolicy reads the policy a live master runs from data, in one of
// three forms: a policy file (the keys of a simulation config's allocator
// section, plus seed), a whole simulation config (its allocator section
// and seed are used), or a simulation run's manifest.json (the exact
// allocator configuration the run used). Partitions name agents by id.
func ParsePolicy(name string, data []byte) (allocator.Config, error) {
	root, err := conf.Parse(data)
	if err != nil {
		return allocator.Config{}, conf.Locate(err, name, nil)
	}
	if _, ok := conf.Find(root, "apron_version"); ok {
		var m struct {
			Allocator *allocator.Config `json:"allocator"`
		}
		if err := json.Unmarshal(data, &m); err != nil || m.Allocator == nil {
			return allocator.Config{}, fmt.Errorf("%s: a manifest.json without an allocator section: %v", name, err)
		}
		_, err := allocator.New(*m.Allocator)
		return *m.Allocator, wrap(name, err)
	}
	if _, ok := conf.Find(root, "allocator"); ok {
		c, err := ParseConfig(name, bytes.NewReader(data))
		if err != nil {
			return allocator.Config{}, err
		}
		return c.allocConfig()
	}
	var p PolicyFile
	if err := conf.Decode(root, &p); err != nil {
		return allocator.Config{}, conf.Locate(err, name, root)
	}
	if p.AllocationInterval == 0 {
		p.AllocationInterval = Duration(time.Second)
	}
	ids := func(n string) []allocator.AgentID { return []allocator.AgentID{allocator.AgentID(n)} }
	cfg, err := p.config(p.Seed, ids, nil)
	return cfg, conf.Locate(err, name, root)
}

func wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// PolicyYAML writes an allocator configuration as a policy file that
// ParsePolicy reads back to the same configuration: what the live backend
// posts to a master.
func PolicyYAML(c allocator.Config) ([]byte, error) {
	p := PolicyFile{Seed: c.Seed, AllocConfig: AllocConfig{Policy: c.Policy, AllocationInterval: Duration(c.AllocationInterval),
		OfferTimeout: Duration(c.OfferTimeout), DefaultRefuse: Duration(c.DefaultRefuse)}}
	for _, m := range c.MinAllocatable {
		p.MinAllocatable = append(p.MinAllocatable, Resources{m})
	}
	for _, r := range c.Roles {
		p.Roles = append(p.Roles, RoleSpec{Name: r.Name, Weight: r.Weight, Guarantee: Resources{r.Guarantee}, Limit: Resources{r.Limit}})
	}
	for _, r := range c.Reservations {
		p.Reservations = append(p.Reservations, ResSpec{Agent: string(r.Agent), Role: r.Role, Resources: Resources{r.Resources}})
	}
	for _, part := range c.Partitions {
		ps := PartSpec{Role: part.Role, Size: part.Size}
		for _, a := range part.Agents {
			ps.Agents = append(ps.Agents, string(a))
		}
		p.Partitions = append(p.Partitions, ps)
	}
	return yaml.Marshal(p)
}
