package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apronlab/apron/allocator"
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
	var probe map[string]any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return allocator.Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if _, ok := probe["apron_version"]; ok {
		var m struct {
			Allocator *allocator.Config `json:"allocator"`
		}
		if err := json.Unmarshal(data, &m); err != nil || m.Allocator == nil {
			return allocator.Config{}, fmt.Errorf("%s: a manifest.json without an allocator section: %v", name, err)
		}
		_, err := allocator.New(*m.Allocator)
		return *m.Allocator, wrap(name, err)
	}
	if _, ok := probe["allocator"]; ok {
		c, err := ParseConfig(name, bytes.NewReader(data))
		if err != nil {
			return allocator.Config{}, err
		}
		return c.allocConfig()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p PolicyFile
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return allocator.Config{}, fmt.Errorf("%s: %w (a policy file holds policy, allocation_interval, offer_timeout, default_refuse, roles, partitions, reservations, min_allocatable and seed)", name, err)
	}
	if p.AllocationInterval == 0 {
		p.AllocationInterval = Duration(time.Second)
	}
	ids := func(n string) []allocator.AgentID { return []allocator.AgentID{allocator.AgentID(n)} }
	cfg, err := p.config(p.Seed, ids, nil)
	return cfg, wrap(name, err)
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
