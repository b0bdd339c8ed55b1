package experiments

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v4"

	"github.com/apronlab/apron/internal/conf"
	"github.com/apronlab/apron/sim"
)

// Study is one study file: a simulation, the policies to compare, a grid of
// parameters to sweep, the seeds, and the figures to draw. Every key is
// documented in docs/experiments.md.
type Study struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Base names the simulation: a built-in scenario (apron sim --help lists
	// them) or a simulation config file, relative to the study file.
	Base string `yaml:"base"`
	// Sim is a simulation config written in the study, or keys laid over
	// Base's.
	Sim map[string]any `yaml:"sim"`
	// Policies are the variants compared: a policy name (set as
	// allocator.policy), or a name with keys to set.
	Policies []Policy `yaml:"policies"`
	// Baseline is the policy speedups are measured against: static when it
	// is compared, else the first.
	Baseline string `yaml:"baseline"`
	// Sweep maps config keys (dotted paths into the simulation config, or
	// nested maps) to lists of values to try; the runs cover every
	// combination.
	Sweep map[string]any `yaml:"sweep"`
	// Seeds are the simulation seeds: a count n (seeds 1..n) or a list.
	Seeds []uint64 `yaml:"seeds"`
	// Backends run the matrix in the simulator ("sim", the default), on a
	// live cluster ("live"), or both: a live run is the variant with
	// " (live)" after its name, and its speedup is against the simulated
	// baseline.
	Backends []string `yaml:"backends"`
	Figures  []string `yaml:"figures"`
	Formats  []string `yaml:"formats"`
	// Paper holds the source's figures, set beside apron's (paper.csv).
	Paper *Paper `yaml:"paper"`
	// Log compares the waits with those the workload's log recorded.
	Log *LogCompare `yaml:"log"`

	dir  string // the study file's folder; "" for a built-in study
	base []byte // the base simulation config, YAML
	src  source // where each key came from, for errors
}

// Policy is one variant of a study.
type Policy struct {
	Name string         `yaml:"name"`
	Set  map[string]any `yaml:"set"`
}

// studyKeys are the keys of a study file.
var studyKeys = []string{"name", "description", "base", "sim", "policies", "baseline", "sweep", "seeds", "backends", "figures", "formats", "paper", "log"}

// Figures a study can draw.
var allFigures = []string{"utilization", "completion-cdf", "wait-cdf", "shares", "speedup", "paper", "log-waits"}

// Load reads a study: a file (YAML, TOML or JSON, by extension) or the name
// of a built-in study. sets are key=value overrides of study keys
// (seeds=3, sweep.allocator.allocation_interval=[1s,5s]); environment
// variables APRON_<KEY> (dots as underscores) override too. An unknown key,
// a wrong type or a bad value is a *conf.Error naming the file, the line,
// the key as written and what is allowed.
func Load(study string, sets []string) (*Study, error) {
	v := viper.New()
	v.SetEnvPrefix("apron")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for _, k := range studyKeys {
		_ = v.BindEnv(k) // APRON_SEEDS and the like, also for keys the file lacks
	}
	src := source{name: study, sets: sets}
	var data []byte
	if fileExists(study) {
		var err error
		if data, err = os.ReadFile(study); err != nil {
			return nil, fmt.Errorf("study %s: %w", study, err)
		}
		src.dir = filepath.Dir(study)
		v.SetConfigType(strings.TrimPrefix(filepath.Ext(study), "."))
	} else if b, ok := builtin(study); ok {
		data = b
		src.name = study + " (built in)"
		v.SetConfigType("yaml")
	} else {
		return nil, fmt.Errorf("study %s: no such file or built-in study (built in: %s)", study, strings.Join(Builtin(), ", "))
	}
	if err := src.parse(data); err != nil {
		return nil, err
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("study %s: %w", src.name, err)
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
	s, err := decode(v.AllSettings(), src)
	return s, src.locate(err)
}

func decode(settings map[string]any, src source) (*Study, error) {
	s := &Study{dir: src.dir, src: src}
	if err := s.src.normalize(settings); err != nil {
		return nil, err
	}
	s.src.tree = &yaml.Node{}
	if err := s.src.tree.Encode(settings); err != nil {
		return nil, err
	}
	if err := conf.Decode(s.src.tree, s); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Study) check() error {
	if s.Name == "" {
		return conf.Errorf("name", "empty; want the study's name (its results go to results/<name>)")
	}
	if strings.ContainsAny(s.Name, `/\ `) {
		return conf.Errorf("name", "%q; want a name without slashes or spaces", s.Name)
	}
	if len(s.Policies) == 0 {
		s.Policies = []Policy{{Name: "drf"}}
	}
	seen := map[string]bool{}
	for i, p := range s.Policies {
		if p.Name == "" || strings.ContainsAny(p.Name, `/\ `) {
			return conf.Errorf(conf.Index("policies", i)+".name", "%q; want a name without slashes or spaces", p.Name)
		}
		if seen[p.Name] {
			return conf.Errorf(conf.Index("policies", i), "%s twice; want each policy once", p.Name)
		}
		seen[p.Name] = true
	}
	switch {
	case s.Baseline == "" && seen["static"]:
		s.Baseline = "static"
	case s.Baseline == "":
		s.Baseline = s.Policies[0].Name
	case !seen[s.Baseline]:
		return conf.Errorf("baseline", "%q is not one of the policies; want one of %s", s.Baseline, strings.Join(s.policyNames(), ", "))
	}
	if len(s.Seeds) == 0 {
		s.Seeds = []uint64{1}
	}
	if len(s.Backends) == 0 {
		s.Backends = []string{"sim"}
	}
	for i, b := range s.Backends {
		if b != "sim" && b != "live" {
			return conf.Errorf(conf.Index("backends", i), "%q; want sim or live", b)
		}
	}
	flat := flatten("", s.Sweep)
	for _, k := range sortedKeys(flat) {
		if l, ok := flat[k].([]any); !ok || len(l) == 0 {
			return conf.Errorf("sweep."+k, "%v is not a list; want a list of values such as [1s, 5s]", flat[k])
		}
	}
	if len(s.Figures) == 0 {
		s.Figures = allFigures
	}
	for i, f := range s.Figures {
		if !slices.Contains(allFigures, f) {
			return conf.Errorf(conf.Index("figures", i), "%q; want some of %s", f, strings.Join(allFigures, ", "))
		}
	}
	if s.Paper != nil {
		if err := s.Paper.check(s.policyNames(), s.Baseline); err != nil {
			return err
		}
	}
	if s.Log != nil {
		if err := s.Log.check(); err != nil {
			return err
		}
	}
	if len(s.Formats) == 0 {
		s.Formats = []string{"png", "svg"}
	}
	for i, f := range s.Formats {
		if f != "png" && f != "svg" {
			return conf.Errorf(conf.Index("formats", i), "%q; want png, svg or both", f)
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

// normalize writes the short forms of keys in full: seeds as a count n
// (seeds 1..n), a policy as its name (the allocator policy of that name),
// and a list given as a text (from the environment) as its comma-separated
// items.
func (src *source) normalize(settings map[string]any) error {
	if seeds, err := seedList(settings["seeds"]); err != nil {
		return err
	} else if seeds != nil {
		settings["seeds"] = seeds
	}
	for _, k := range []string{"policies", "seeds", "backends", "figures", "formats"} {
		if text, ok := settings[k].(string); ok {
			settings[k] = splitList(text)
		}
	}
	if list, ok := settings["policies"].([]any); ok {
		for i, p := range list {
			if name, ok := p.(string); ok {
				list[i] = map[string]any{"name": name, "set": map[string]any{"allocator.policy": name}}
				src.short = append(src.short, i)
			}
		}
	}
	return nil
}

func splitList(text string) []any {
	var out []any
	for _, item := range strings.Split(text, ",") {
		out = append(out, strings.TrimSpace(item))
	}
	return out
}

// seedList reads seeds given as a count, or nil when they are not.
func seedList(v any) ([]any, error) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) {
			return nil, conf.Errorf("seeds", "%v is not a whole count; want a count from 1 to 1000000, or a list of seeds", x)
		}
		n = int64(x)
	case string: // from the environment: a count, or a list with commas
		if strings.Contains(x, ",") {
			return nil, nil
		}
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
			return nil, conf.Errorf("seeds", "%q is not a count; want a count from 1 to 1000000, or a list of seeds", x)
		}
	default:
		return nil, nil
	}
	if n < 1 || n > 1_000_000 {
		return nil, conf.Errorf("seeds", "%d; want a count from 1 to 1000000, or a list of seeds", n)
	}
	out := make([]any, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out, nil
}

// loadBase reads the simulation the study starts from.
func (s *Study) loadBase() error {
	if s.Base == "" {
		if len(s.Sim) == 0 {
			return conf.Errorf("base", "none, and no sim; want a simulation: base: static-vs-shared (built in), base: FILE, or sim: {...}")
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
		return conf.At("base", err)
	}
	if !fileExists(name) {
		name += " (built in)"
	}
	doc, err := conf.Parse(data)
	if err != nil {
		return conf.Locate(err, name, nil)
	}
	s.base, s.src.baseName, s.src.baseDoc = data, name, doc
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Keys returns the keys of a study file; APRON_<KEY> sets one (dots as
// underscores: APRON_SIM_SEED).
func Keys() []string { return slices.Clone(studyKeys) }
