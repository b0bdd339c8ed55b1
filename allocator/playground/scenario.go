package playground

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/bundle"
	"go.yaml.in/yaml/v3"
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

// UnmarshalYAML parses the Mesos text form and names the line on error.
func (r *Resources) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	res, err := allocator.ParseResources(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	r.Resources = res
	return nil
}

// Count is a number of tasks, or unlimited.
type Count int

// UnmarshalYAML reads a whole number of 0 or more, or "unlimited".
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "unlimited" {
		*c = allocator.Unlimited
		return nil
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 0 || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: tasks %q: want a whole number of 0 or more, or unlimited", n.Line, n.Value)
	}
	*c = Count(v)
	return nil
}

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

// Parse reads a scenario; unknown keys and wrong types are errors naming
// the file, the line and the key.
func Parse(name string, r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // decoded once already: cannot fail
	for i, line := range entryLines(&root, "agents") {
		s.Agents[i].line = line
	}
	for i, line := range entryLines(&root, "roles") {
		s.Roles[i].line = line
	}
	for i, line := range entryLines(&root, "frameworks") {
		s.Frameworks[i].line = line
	}
	for i, line := range entryLines(&root, "reservations") {
		s.Reservations[i].line = line
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// entryLines returns the line of every entry of the top-level list key.
func entryLines(root *yaml.Node, key string) []int {
	if len(root.Content) == 0 {
		return nil
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == key {
			var lines []int
			for _, e := range doc.Content[i+1].Content {
				lines = append(lines, e.Line)
			}
			return lines
		}
	}
	return nil
}

func (s *Scenario) validate() error {
	if len(s.Agents) == 0 {
		return fmt.Errorf("agents: none given; a scenario needs at least one agent")
	}
	for _, a := range s.Agents {
		switch {
		case a.Name == "":
			return fmt.Errorf("line %d: agents: an agent needs a name", a.line)
		case a.Count < 0:
			return fmt.Errorf("line %d: agent %s: count %d; want 1 or more (0 means 1)", a.line, a.Name, a.Count)
		case a.Resources.IsEmpty():
			return fmt.Errorf("line %d: agent %s: no resources; want for example resources: \"cpus:4;mem:4096\"", a.line, a.Name)
		}
	}
	if len(s.Frameworks) == 0 {
		return fmt.Errorf("frameworks: none given; a scenario needs at least one framework")
	}
	seen := map[string]bool{}
	for _, f := range s.Frameworks {
		switch {
		case f.Name == "" || f.Role == "":
			return fmt.Errorf("line %d: frameworks: a framework needs a name and a role", f.line)
		case seen[f.Name]:
			return fmt.Errorf("line %d: framework %s is listed twice", f.line, f.Name)
		case f.Task.IsEmpty():
			return fmt.Errorf("line %d: framework %s: no task; want for example task: \"cpus:1;mem:1024\"", f.line, f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}
