package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/apronlab/apron/sim"
)

// Study is one study file: a simulation, the policies to compare, a grid of
// parameters to sweep, the seeds, and the figures to draw. Every key is
// documented in docs/experiments.md.
type Study struct {
	Name        string `mapstructure:"name"`
	Description string `mapstructure:"description"`
	// Base names the simulation: a built-in scenario (apron sim --help lists
	// them) or a simulation config file, relative to the study file.
	Base string `mapstructure:"base"`
	// Sim is a simulation config written in the study, or keys laid over
	// Base's.
	Sim map[string]any `mapstructure:"sim"`
	// Policies are the variants compared: a policy name (set as
	// allocator.policy), or a name with keys to set.
	Policies []Policy `mapstructure:"policies"`
	// Baseline is the policy speedups are measured against: static when it
	// is compared, else the first.
	Baseline string `mapstructure:"baseline"`
	// Sweep maps config keys (dotted paths into the simulation config, or
	// nested maps) to lists of values to try; the runs cover every
	// combination.
	Sweep map[string]any `mapstructure:"sweep"`
	// Seeds are the simulation seeds: a count n (seeds 1..n) or a list.
	Seeds []uint64 `mapstructure:"seeds"`
	// Backends run the matrix in the simulator ("sim", the default), on a
	// live cluster ("live"), or both: a live run is the variant with
	// " (live)" after its name, and its speedup is against the simulated
	// baseline.
	Backends []string `mapstructure:"backends"`
	Figures  []string `mapstructure:"figures"`
	Formats  []string `mapstructure:"formats"`

	dir  string // the study file's folder; "" for a built-in study
	base []byte // the base simulation config, YAML
}

// Policy is one variant of a study.
type Policy struct {
	Name string         `mapstructure:"name"`
	Set  map[string]any `mapstructure:"set"`
}

// Figures a study can draw.
var allFigures = []string{"utilization", "completion-cdf", "wait-cdf", "shares", "speedup"}

// Load reads a study: a file (YAML, TOML or JSON, by extension) or the name
// of a built-in study. sets are key=value overrides of study keys
// (seeds=3, sweep.allocator.allocation_interval=[1s,5s]); environment
// variables APRON_<KEY> (dots as underscores) override too. An unknown key,
// a wrong type or a bad value is an error naming the key.
func Load(study string, sets []string) (*Study, error) {
	v := viper.New()
	v.SetEnvPrefix("apron")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	var dir string
	if fileExists(study) {
		v.SetConfigFile(study)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("study %s: %w", study, err)
		}
		dir = filepath.Dir(study)
	} else if data, ok := builtin(study); ok {
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("study %s: %w", study, err)
		}
	} else {
		return nil, fmt.Errorf("study %s: no such file or built-in study (built in: %s)", study, strings.Join(Builtin(), ", "))
	}
	for _, kv := range sets {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		var parsed any
		if err := yaml.Unmarshal([]byte(val), &parsed); err != nil {
			return nil, fmt.Errorf("--set %s: value %q: %w", k, val, err)
		}
		v.Set(k, parsed)
	}
	return decode(v, study, dir)
}

func decode(v *viper.Viper, study, dir string) (*Study, error) {
	s := &Study{dir: dir}
	err := v.Unmarshal(s, func(c *mapstructure.DecoderConfig) {
		c.ErrorUnused = true
		c.DecodeHook = mapstructure.ComposeDecodeHookFunc(seedsHook, policyHook)
	})
	if err != nil {
		return nil, fmt.Errorf("study %s: %w (keys: name, description, base, sim, policies, baseline, sweep, seeds, figures, formats)", study, err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("study %s: %w", study, err)
	}
	return s, nil
}

func (s *Study) check() error {
	if s.Name == "" {
		return fmt.Errorf("name: empty; want the study's name (its results go to results/<name>)")
	}
	if strings.ContainsAny(s.Name, `/\ `) {
		return fmt.Errorf("name %q: want a name without slashes or spaces", s.Name)
	}
	if len(s.Policies) == 0 {
		s.Policies = []Policy{{Name: "drf"}}
	}
	seen := map[string]bool{}
	for i, p := range s.Policies {
		if p.Name == "" || strings.ContainsAny(p.Name, `/\ `) {
			return fmt.Errorf("policies[%d]: name %q: want a name without slashes or spaces", i, p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("policies[%d]: %s twice; want each policy once", i, p.Name)
		}
		seen[p.Name] = true
	}
	switch {
	case s.Baseline == "" && seen["static"]:
		s.Baseline = "static"
	case s.Baseline == "":
		s.Baseline = s.Policies[0].Name
	case !seen[s.Baseline]:
		return fmt.Errorf("baseline %q: not one of the policies %v", s.Baseline, s.policyNames())
	}
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{1}
	}
	if len(s.Backends) == 0 {
		s.Backends = []string{"sim"}
	}
	for i, b := range s.Backends {
		if b != "sim" && b != "live" {
			return fmt.Errorf("backends[%d]: %q; want sim or live", i, b)
		}
	}
	for k, vals := range flatten("", s.Sweep) {
		if l, ok := vals.([]any); !ok || len(l) == 0 {
			return fmt.Errorf("sweep.%s: %v; want a list of values such as [1s, 5s]", k, vals)
		}
	}
	if len(s.Figures) == 0 {
		s.Figures = allFigures
	}
	for _, f := range s.Figures {
		if !slices.Contains(allFigures, f) {
			return fmt.Errorf("figures: %q; want some of %v", f, allFigures)
		}
	}
	if len(s.Formats) == 0 {
		s.Formats = []string{"png", "svg"}
	}
	for _, f := range s.Formats {
		if f != "png" && f != "svg" {
			return fmt.Errorf("formats: %q; want png, svg or both", f)
		}
	}
	return s.loadBase()
}

func (s *Study) policyNames() []string {
	var out []string
	for _, p := range s.Policies {
		out = append(out, p.Name)
	}
	return out
}

// seedsHook reads seeds: a count n (from YAML, TOML, JSON or the
// environment) as the seeds 1..n.
func seedsHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf([]uint64(nil)) {
		return data, nil
	}
	var n int64
	switch v := data.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	case float64:
		if v != math.Trunc(v) {
			return nil, fmt.Errorf("seeds: %v; want a whole count, or a list of seeds", v)
		}
		n = int64(v)
	case string:
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("seeds: %q; want a count of 1 or more, or a list of seeds", v)
		}
	default:
		return data, nil
	}
	if n < 1 || n > 1_000_000 {
		return nil, fmt.Errorf("seeds: %d; want a count from 1 to 1000000, or a list of seeds", n)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out, nil
}

// policyHook reads a policy given as a name: the allocator policy of that
// name.
func policyHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(Policy{}) {
		return data, nil
	}
	if name, ok := data.(string); ok {
		return map[string]any{"name": name, "set": map[string]any{"allocator.policy": name}}, nil
	}
	return data, nil
}

// loadBase reads the simulation the study starts from.
func (s *Study) loadBase() error {
	if s.Base == "" {
		if len(s.Sim) == 0 {
			return errors.New("base and sim: neither given; want a simulation: base: static-vs-shared (built in), base: FILE, or sim: {...}")
		}
		s.base = []byte("{}")
		return nil
	}
	name := s.Base
	if s.dir != "" && !filepath.IsAbs(name) {
		if p := filepath.Join(s.dir, name); fileExists(p) {
			name = p
		}
	}
	data, err := sim.ConfigSource(name)
	if err != nil {
		return fmt.Errorf("base: %w", err)
	}
	s.base = data
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
