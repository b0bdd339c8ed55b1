package playground

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"strconv"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/bundle"
	"github.com/apronlab/apron/internal/conf"
	"go.yaml.in/yaml/v4"
)

// Scenario is a playground input.
type Scenario struct {
	Policy       string        `yaml:"policy"`
	Seed         uint64        `yaml:"seed"`
	Agents       []Agent       `yaml:"agents"`
	Roles        []Role        `yaml:"roles"`
	Frameworks   []Framework   `yaml:"frameworks"`
	Reservations []Reservation `yaml:"reservations"`
	Partitions   []Partition   `yaml:"partitions"`
	Events       []Event       `yaml:"events"`
}

// Agent is one agent, or Count identical agents named Name-1...Name-Count.
type Agent struct {
	Name      string    `yaml:"name"`
	Count     int       `yaml:"count"`
	Resources Resources `yaml:"resources"`
	line      int
}

// Role is a role's weight and quota; Parent nests it (ml under eng is eng/ml).
type Role struct {
	Name      string    `yaml:"name"`
	Parent    string    `yaml:"parent"`
	Weight    float64   `yaml:"weight"`
	Guarantee Resources `yaml:"guarantee"`
	Limit     Resources `yaml:"limit"`
	line      int
}

// Framework is a framework and its identical tasks.
type Framework struct {
	Name  string    `yaml:"name"`
	Role  string    `yaml:"role"`
	Task  Resources `yaml:"task"`
	Tasks Count     `yaml:"tasks"`
	line  int
}

// Reservation carves resources of an agent (or of every agent of a group)
// out for a role.
type Reservation struct {
	Agent     string    `yaml:"agent"`
	Role      string    `yaml:"role"`
	Resources Resources `yaml:"resources"`
	line      int
}

// Partition is one static partition; agents are split by Size (equal by
// default) in the order listed, or named.
type Partition struct {
	Role   string   `yaml:"role"`
	Agents []string `yaml:"agents"`
	Size   float64  `yaml:"size"`
}

// Resources is a resource text in a scenario, parsed where it stands.
type Resources struct{ allocator.Resources }

// UnmarshalText parses the Mesos text form.
func (r *Resources) UnmarshalText(b []byte) error {
	res, err := allocator.ParseResources(string(b))
	if err != nil {
		return fmt.Errorf("is not a list of resources (%v); want such as \"cpus:1;mem:1024\"", err)
	}
	r.Resources = res
	return nil
}

// Example says what resources look like, for errors.
func (Resources) Example() string { return `resources such as "cpus:1;mem:1024"` }

// Count is a number of tasks, or unlimited.
type Count int

// UnmarshalText reads a whole number of 0 or more, or "unlimited".
func (c *Count) UnmarshalText(b []byte) error {
	if string(b) == "unlimited" {
		*c = allocator.Unlimited
		return nil
	}
	v, err := strconv.Atoi(string(b))
	if err != nil || v < 0 {
		return fmt.Errorf("is not a number of tasks; %s", Count(0).Example())
	}
	*c = Count(v)
	return nil
}

// Example says what a count looks like, for errors.
func (Count) Example() string { return "want a whole number of 0 or more, or unlimited" }

//go:embed scenarios/*.yaml
var bundled embed.FS

// Bundled returns the names of the scenarios built into apron.
func Bundled() []string { return bundle.Names(bundled, "scenarios") }

// Load reads a scenario file, or a bundled scenario by name when no such
// file exists.
func Load(name string) (*Scenario, error) {
	data, err := bundle.Read(name, bundled, "scenarios")
	if err != nil {
		return nil, err
	}
	return Parse(name, bytes.NewReader(data))
}

// Parse reads a scenario strictly: a syntax error, an unknown key, a wrong
// type or a bad value is an error naming the file, the line, the key as
// written (agents[0].count) and what is allowed.
func Parse(name string, r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root, err := conf.Parse(data)
	if err != nil {
		return nil, conf.Locate(err, name, nil)
	}
	var s Scenario
	if err := conf.Decode(root, &s); err != nil {
		return nil, conf.Locate(err, name, root)
	}
	s.locate(root)
	if err := s.validate(); err != nil {
		return nil, conf.Locate(err, name, root)
	}
	return &s, nil
}

// locate records the line of every list entry, for the errors of Run.
func (s *Scenario) locate(root *yaml.Node) {
	line := func(key string, i int) int {
		if n, _ := conf.Find(root, conf.Index(key, i)); n != nil {
			return n.Line
		}
		return 0
	}
	for i := range s.Agents {
		s.Agents[i].line = line("agents", i)
	}
	for i := range s.Roles {
		s.Roles[i].line = line("roles", i)
	}
	for i := range s.Frameworks {
		s.Frameworks[i].line = line("frameworks", i)
	}
	for i := range s.Reservations {
		s.Reservations[i].line = line("reservations", i)
	}
	for i := range s.Events {
		s.Events[i].line = line("events", i)
	}
}

func (s *Scenario) validate() error {
	if len(s.Agents) == 0 {
		return conf.Errorf("agents", "none given; a scenario needs at least one agent")
	}
	for i, a := range s.Agents {
		if err := a.check(); err != nil {
			return conf.At(conf.Index("agents", i), err)
		}
	}
	if len(s.Frameworks) == 0 {
		return conf.Errorf("frameworks", "none given; a scenario needs at least one framework")
	}
	seen := map[string]bool{}
	for i, f := range s.Frameworks {
		at := conf.Index("frameworks", i)
		switch {
		case f.Name == "" || f.Role == "":
			return conf.Errorf(at, "a framework needs a name and a role")
		case seen[f.Name]:
			return conf.Errorf(at, "framework %s is listed twice", f.Name)
		case f.Task.IsEmpty():
			return conf.Errorf(at, "framework %s: no task; want for example task: \"cpus:1;mem:1024\"", f.Name)
		}
		seen[f.Name] = true
	}
	for i, e := range s.Events {
		if err := e.check(s); err != nil {
			return conf.At(conf.Index("events", i), err)
		}
	}
	return nil
}

func (a Agent) check() error {
	switch {
	case a.Name == "":
		return conf.Errorf("name", "missing; an agent needs a name")
	case a.Count < 0:
		return conf.Errorf("count", "%d; want 1 or more (0 means 1)", a.Count)
	case a.Resources.IsEmpty():
		return conf.Errorf("resources", "missing; want for example resources: \"cpus:4;mem:4096\"")
	}
	return nil
}
