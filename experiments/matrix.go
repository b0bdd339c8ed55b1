package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/apronlab/apron/internal/conf"
	"github.com/apronlab/apron/sim"
)

// Run is one simulation of a study: a policy, a point of the sweep and a
// seed.
type Run struct {
	ID     string    `json:"id"` // its folder under the study's results
	Policy string    `json:"policy"`
	Point  []Setting `json:"point,omitempty"`
	Seed   uint64    `json:"seed"`
	// Backend is "live" for a run on a live cluster; "" is the simulator.
	Backend string `json:"backend,omitempty"`
	Config  []byte `json:"-"`    // the effective simulation config, YAML
	Hash    string `json:"hash"` // sha256 of Config

	cfg *sim.Config // Config parsed and checked, for running it
}

// Setting is one swept key's value.
type Setting struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// Variant names a run's policy and point, its seeds aside: what the
// aggregate averages over.
func (r Run) Variant() string {
	v := r.Policy
	if len(r.Point) > 0 {
		v += " " + pointLabel(r.Point)
	}
	if r.Backend != "" {
		v += " (" + r.Backend + ")"
	}
	return v
}

func pointLabel(p []Setting) string {
	var parts []string
	for _, s := range p {
		parts = append(parts, fmt.Sprintf("%s=%v", s.Key, s.Value))
	}
	return strings.Join(parts, ",")
}

// Runs expands the study into its runs, in order: policies, then sweep
// points, then seeds. Each run's config is checked as the simulator checks
// it; the first bad one is an error naming the run and the key.
func (s *Study) Runs() ([]Run, error) {
	points := s.points()
	var runs []Run
	for _, backend := range s.Backends {
		for _, p := range s.Policies {
			for _, pt := range points {
				for _, seed := range s.Seeds {
					r, err := s.run(p, pt, seed)
					if err != nil {
						return nil, err
					}
					if backend != "sim" {
						r.Backend, r.ID = backend, backend+"/"+r.ID
						sum := sha256.Sum256(append(append([]byte(nil), r.Config...), "\nbackend: "+backend...))
						r.Hash = hex.EncodeToString(sum[:])
					}
					runs = append(runs, r)
				}
			}
		}
	}
	return runs, nil
}

// points is the grid of the sweep, keys in order.
func (s *Study) points() [][]Setting {
	flat := flatten("", s.Sweep)
	points := [][]Setting{nil}
	for _, k := range sortedKeys(flat) {
		var next [][]Setting
		for _, pt := range points {
			for _, v := range flat[k].([]any) {
				next = append(next, append(append([]Setting(nil), pt...), Setting{k, v}))
			}
		}
		points = next
	}
	return points
}

func (s *Study) run(p Policy, pt []Setting, seed uint64) (Run, error) {
	r := Run{Policy: p.Name, Point: pt, Seed: seed}
	dir := []string{p.Name}
	if len(pt) > 0 {
		dir = append(dir, safeName(pointLabel(pt)))
	}
	r.ID = path.Join(append(dir, fmt.Sprintf("seed-%d", seed))...)
	tree := map[string]any{}
	if err := yaml.Unmarshal(s.base, &tree); err != nil {
		return r, fmt.Errorf("base: %w", err)
	}
	merge(tree, s.Sim)
	var writes []write
	sets := flatten("", p.Set)
	for _, k := range sortedKeys(sets) {
		at, err := setPath(tree, k, sets[k])
		key := s.setKey(p.Name, k)
		if err != nil {
			return r, s.src.locate(conf.At(key, err))
		}
		writes = append(writes, write{key, at})
	}
	for _, st := range pt {
		at, err := setPath(tree, st.Key, st.Value)
		if err != nil {
			return r, s.src.locate(conf.At("sweep."+st.Key, err))
		}
		writes = append(writes, write{"sweep." + st.Key, at})
	}
	tree["seed"] = seed
	tree["name"] = s.Name
	if err := s.resolvePaths(tree); err != nil {
		return r, err
	}
	cfg, err := yaml.Marshal(tree)
	if err != nil {
		return r, err
	}
	if r.cfg, err = sim.ParseConfig("run "+r.ID, bytes.NewReader(cfg)); err != nil {
		return r, s.runError(err, r.ID, writes)
	}
	sum := sha256.Sum256(cfg)
	r.Config, r.Hash = cfg, hex.EncodeToString(sum[:])
	return r, nil
}

// setKey is the study's key of a policy's set key: policies[i].set.k, or
// policies[i] for a policy given by its name only.
func (s *Study) setKey(policy, k string) string {
	i := slices.IndexFunc(s.Policies, func(p Policy) bool { return p.Name == policy })
	if slices.Contains(s.src.short, i) {
		return conf.Index("policies", i)
	}
	return conf.Join(conf.Index("policies", i)+".set", k)
}

// safeName makes a label fit for a folder name.
func safeName(s string) string {
	return strings.Map(func(c rune) rune {
		if strings.ContainsRune(`/\:*?"<>| `, c) {
			return '_'
		}
		return c
	}, s)
}
