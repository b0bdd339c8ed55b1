package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/bundle"
	"github.com/apronlab/apron/internal/conf"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/traces"
)

// Config is one simulation: the cluster, the allocator's policy, the
// frameworks and their workloads. It is read from YAML; every key is
// documented in docs/simulation.md.
type Config struct {
	Name           string   `yaml:"name" json:"name"`
	Seed           uint64   `yaml:"seed" json:"seed"`
	Duration       Duration `yaml:"duration" json:"duration"`               // stop here; 0: when every batch framework is done
	SampleInterval Duration `yaml:"sample_interval" json:"sample_interval"` // default 10s
	TaskFailure    float64  `yaml:"task_failure" json:"task_failure"`       // probability a task fails
	// StallAfter ends a run without a duration whose jobs wait while
	// nothing can change: every job arrived, no machine event to come, no
	// task with an end running, and none started for this long (default
	// 24h). The waiting jobs are reported incomplete and summary.json says
	// when the run stalled.
	StallAfter Duration    `yaml:"stall_after" json:"stall_after"`
	Allocator  AllocConfig `yaml:"allocator" json:"allocator"`
	Master     Master      `yaml:"master" json:"master"`
	Cluster    []Group     `yaml:"cluster" json:"cluster"`
	// Machines adds the machines of a trace's machine table to the cluster.
	Machines *Machines `yaml:"machines" json:"machines,omitempty"`
	// MachineEvents add, remove and update agents over time: an agent that
	// leaves loses its tasks (reported lost; batch frameworks run them
	// again), and an update replaces the agent, so its tasks are lost too.
	MachineEvents []MachineEvent `yaml:"machine_events" json:"machine_events,omitempty"`
	Frameworks    []FwConfig     `yaml:"frameworks" json:"frameworks"`
	Workload      *Workload      `yaml:"workload" json:"workload,omitempty"`
}

// AllocConfig is the allocator's policy configuration: the same keys the
// live master's policy file uses.
type AllocConfig struct {
	Policy             string      `yaml:"policy" json:"policy"`
	AllocationInterval Duration    `yaml:"allocation_interval" json:"allocation_interval"` // default 1s
	OfferTimeout       Duration    `yaml:"offer_timeout" json:"offer_timeout"`
	DefaultRefuse      Duration    `yaml:"default_refuse" json:"default_refuse"` // default 5s
	Roles              []RoleSpec  `yaml:"roles" json:"roles"`
	Partitions         []PartSpec  `yaml:"partitions" json:"partitions"`
	MinAllocatable     []Resources `yaml:"min_allocatable" json:"min_allocatable"`
	// Reservations set aside unreserved resources of agents (by name or
	// group) for roles: {agent: host, role: web, resources: "cpus:1"}.
	Reservations []ResSpec `yaml:"reservations" json:"reservations,omitempty"`
}

// ResSpec reserves resources on an agent, or on every agent of a group,
// for a role.
type ResSpec struct {
	Agent     string    `yaml:"agent" json:"agent"`
	Role      string    `yaml:"role" json:"role"`
	Resources Resources `yaml:"resources" json:"resources"`
}

// RoleSpec is a role's weight and quota.
type RoleSpec struct {
	Name      string    `yaml:"name" json:"name"`
	Weight    float64   `yaml:"weight" json:"weight"`
	Guarantee Resources `yaml:"guarantee" json:"guarantee"`
	Limit     Resources `yaml:"limit" json:"limit"`
}

// PartSpec is a static partition: a role, and its agents (by name or group)
// or its relative size.
type PartSpec struct {
	Role   string   `yaml:"role" json:"role"`
	Agents []string `yaml:"agents" json:"agents"`
	Size   float64  `yaml:"size" json:"size"`
}

// Master models the master's side of the offer protocol.
type Master struct {
	OfferLatency Duration `yaml:"offer_latency" json:"offer_latency"` // offer to framework, one way
}

// Group is Count identical agents named Name-1...Name-Count.
type Group struct {
	Name       string            `yaml:"name" json:"name"`
	Count      int               `yaml:"count" json:"count"`
	Resources  Resources         `yaml:"resources" json:"resources"`
	Attributes map[string]string `yaml:"attributes" json:"attributes"`
}

// MachineEvent is one change of the cluster.
type MachineEvent struct {
	At         Duration          `yaml:"at" json:"at"`
	Kind       string            `yaml:"kind" json:"kind"` // add, remove or update
	Name       string            `yaml:"name" json:"name"`
	Resources  Resources         `yaml:"resources" json:"resources"`
	Attributes map[string]string `yaml:"attributes" json:"attributes,omitempty"`
}

// FwConfig is one framework.
type FwConfig struct {
	Name     string    `yaml:"name" json:"name"`
	Role     string    `yaml:"role" json:"role"`
	Kind     string    `yaml:"kind" json:"kind"`         // batch, gang or service
	Decision *Decision `yaml:"decision" json:"decision"` // default 100ms + 5ms per task
	Refuse   Duration  `yaml:"refuse" json:"refuse"`
	// batch and gang: decline offers with this long filter when idle
	// instead of suppressing; revive after revive_after of starvation
	IdleRefuse  Duration `yaml:"idle_refuse" json:"idle_refuse,omitempty"`
	ReviveAfter Duration `yaml:"revive_after" json:"revive_after,omitempty"`
	// batch and gang: a job launches no task until this long after it
	// arrives (Hadoop's job initialisation), counted in its time
	Setup Duration `yaml:"setup" json:"setup,omitempty"`
	// gang
	HoldLimit Duration `yaml:"hold_limit" json:"hold_limit"`
	// gang: none (submit order only), easy or conservative backfilling
	Backfill string `yaml:"backfill" json:"backfill,omitempty"`
	// batch: place tasks over every offer held with this placement
	// (sim/framework.Placements: fgd, best-fit, random...), GPUs on devices
	Placement string `yaml:"placement" json:"placement,omitempty"`
	// batch: delay scheduling
	Delay    Duration `yaml:"delay" json:"delay"`
	Replicas int      `yaml:"replicas" json:"replicas"`
	// service
	Instances int       `yaml:"instances" json:"instances"`
	Task      Resources `yaml:"task" json:"task"`
	// batch and gang
	Jobs []JobSpec `yaml:"jobs" json:"jobs"`
}

// Decision is a framework's decision time: Job + Task x tasks launched.
type Decision struct {
	Job  Duration `yaml:"job" json:"job"`
	Task Duration `yaml:"task" json:"task"`
}

// JobSpec is Count jobs of Tasks identical tasks, the first submitted at
// Submit and the next ones Every apart. Duration is each task's run time;
// with Exponential it is the mean of an exponential draw per task.
// Durations, instead, lists every task's run time (and sets Tasks).
//
// Closed loop: with Chain the jobs run one after another, each submitted
// Think after the previous one ends (instead of Every apart); with After
// the first job follows the last job of an earlier entry of the list (its
// index) in the same way, instead of being submitted at Submit (without
// Chain, every job of the entry follows that job). The think time is
// Think, or drawn per job from ThinkDist (seconds).
type JobSpec struct {
	Durations   []Duration   `yaml:"durations" json:"durations,omitempty"`
	Submit      Duration     `yaml:"submit" json:"submit"`
	Count       int          `yaml:"count" json:"count"`
	Every       Duration     `yaml:"every" json:"every"`
	Tasks       int          `yaml:"tasks" json:"tasks"`
	Task        Resources    `yaml:"task" json:"task"`
	Duration    Duration     `yaml:"duration" json:"duration"`
	Exponential bool         `yaml:"exponential" json:"exponential"`
	Chain       bool         `yaml:"chain" json:"chain,omitempty"`
	After       *int         `yaml:"after" json:"after,omitempty"`
	Think       Duration     `yaml:"think" json:"think,omitempty"`
	ThinkDist   *traces.Dist `yaml:"think_dist" json:"think_dist,omitempty"`
}

// Duration is a time.Duration written as "1s", "100ms", "2h".
type Duration = conf.Duration

// Resources is a resource text, parsed where it stands.
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

// MarshalText writes the text form, for the manifest.
func (r Resources) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// ParseConfig reads a simulation config: a syntax error, an unknown key, a
// wrong type or a bad value is a *conf.Error naming the file, the line, the
// key as written (cluster[0].count) and what is allowed; defaults are then
// filled in and the whole checked.
func ParseConfig(name string, r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root, err := conf.Parse(data)
	if err != nil {
		return nil, conf.Locate(err, name, nil)
	}
	var c Config
	if err := conf.Decode(root, &c); err != nil {
		return nil, conf.Locate(err, name, root)
	}
	if err := c.Finish(); err != nil {
		return nil, conf.Locate(err, name, root)
	}
	return &c, nil
}

// Finish fills in defaults and checks what the types cannot; configs built
// in code call it before New. An error is a *conf.Error at the key that is
// wrong.
func (c *Config) Finish() error {
	if c.SampleInterval == 0 {
		c.SampleInterval = Duration(10 * time.Second)
	}
	if c.StallAfter == 0 {
		c.StallAfter = Duration(24 * time.Hour)
	}
	if c.Allocator.AllocationInterval == 0 {
		c.Allocator.AllocationInterval = Duration(time.Second)
	}
	if c.TaskFailure < 0 || c.TaskFailure > 1 {
		return conf.Errorf("task_failure", "%v is not a probability; want one from 0 to 1", c.TaskFailure)
	}
	if c.Machines != nil {
		if err := c.loadMachines(); err != nil {
			return err
		}
	}
	if len(c.Cluster) == 0 {
		return conf.Errorf("cluster", "no agents; want at least one group such as {name: host, count: 9, resources: \"cpus:8;mem:16384\"}, or machines: {trace: [FILE]}")
	}
	for i, g := range c.Cluster {
		if err := g.check(); err != nil {
			return conf.At(conf.Index("cluster", i), err)
		}
	}
	for i, e := range c.MachineEvents {
		if err := e.check(); err != nil {
			return conf.At(conf.Index("machine_events", i), err)
		}
	}
	if c.Workload != nil {
		if err := c.Workload.finish(); err != nil {
			return err
		}
	}
	for i := range c.Frameworks {
		if err := c.Frameworks[i].finish(); err != nil {
			return conf.At(conf.Index("frameworks", i), err)
		}
	}
	_, err := c.allocConfig()
	return err
}

func (g Group) check() error {
	switch {
	case g.Name == "":
		return conf.Errorf("name", "missing; a group needs a name")
	case g.Resources.IsEmpty():
		return conf.Errorf("resources", "missing; want %s", Resources{}.Example())
	case g.Count < 0:
		return conf.Errorf("count", "%d is negative; want 0 or more (0 means 1)", g.Count)
	}
	return nil
}

func (e MachineEvent) check() error {
	switch {
	case e.Name == "":
		return conf.Errorf("name", "missing; an event needs the name of its agent")
	case e.Kind != "add" && e.Kind != "remove" && e.Kind != "update":
		return conf.Errorf("kind", "%q; want add, remove or update", e.Kind)
	case e.Kind != "remove" && e.Resources.IsEmpty():
		return conf.Errorf("resources", "missing; %s %s needs resources", e.Kind, e.Name)
	}
	return nil
}

func (f *FwConfig) finish() error {
	switch {
	case f.Name == "":
		return conf.Errorf("name", "missing; a framework needs a name and a role")
	case f.Role == "":
		return conf.Errorf("role", "missing; a framework needs a name and a role")
	}
	if f.Decision == nil {
		f.Decision = &Decision{Job: Duration(100 * time.Millisecond), Task: Duration(5 * time.Millisecond)}
	}
	if _, err := framework.ParseBackfill(f.Backfill); err != nil {
		return conf.Errorf("backfill", "%v", err)
	}
	if f.Backfill != "" && f.Backfill != "none" && f.Kind != "gang" {
		return conf.Errorf("backfill", "%s on a %s framework; backfilling orders rigid jobs: want kind gang", f.Backfill, f.Kind)
	}
	if f.Placement != "" {
		if _, err := framework.NewPlacement(f.Placement, framework.PlacementConfig{}); err != nil {
			return conf.Errorf("placement", "%v", err)
		}
		if f.Kind != "batch" {
			return conf.Errorf("placement", "%s on a %s framework; a placement places elastic jobs' tasks: want kind batch", f.Placement, f.Kind)
		}
	}
	switch f.Kind {
	case "batch", "gang":
		for i, j := range f.Jobs {
			if len(j.Durations) > 0 {
				f.Jobs[i].Tasks, j.Tasks = len(j.Durations), len(j.Durations)
			}
			if err := j.check(i); err != nil {
				return conf.At(conf.Index("jobs", i), err)
			}
		}
	case "service":
		switch {
		case f.Instances < 1:
			return conf.Errorf("instances", "%d; a service needs 1 or more", f.Instances)
		case f.Task.IsEmpty():
			return conf.Errorf("task", "missing; a service needs %s", Resources{}.Example())
		}
	default:
		return conf.Errorf("kind", "%q; want batch, gang or service", f.Kind)
	}
	return nil
}

// check checks the i-th job entry of a framework.
func (j JobSpec) check(i int) error {
	switch {
	case j.Tasks < 1:
		return conf.Errorf("tasks", "%d; want 1 or more (or durations, one per task)", j.Tasks)
	case j.Task.IsEmpty():
		return conf.Errorf("task", "missing; want %s", Resources{}.Example())
	case j.Count < 0:
		return conf.Errorf("count", "%d is negative; want 0 or more (0 means 1)", j.Count)
	case (j.Chain || j.After != nil) && j.Every > 0:
		return conf.Errorf("every", "%v with chain or after; a closed-loop job is submitted when the job it follows ends (plus think), not every so often", time.Duration(j.Every))
	case j.After != nil && i == 0:
		return conf.Errorf("after", "%d in the first entry of jobs; want the index of an earlier entry, and the first has none", *j.After)
	case j.After != nil && (*j.After < 0 || *j.After >= i):
		return conf.Errorf("after", "%d; want the index of an earlier entry of jobs, 0 to %d", *j.After, i-1)
	case j.After != nil && j.Submit > 0:
		return conf.Errorf("submit", "%v with after; a job that follows another is submitted when that one ends (plus think)", time.Duration(j.Submit))
	case j.ThinkDist != nil && j.Think > 0:
		return conf.Errorf("think_dist", "given with think; want a fixed think time or a distribution, not both")
	case (j.Think > 0 || j.ThinkDist != nil) && !j.Chain && j.After == nil:
		return conf.Errorf("think", "without chain or after; a think time is the wait after the previous job ends")
	}
	if j.ThinkDist != nil {
		if _, err := j.ThinkDist.Sampler(rand.NewPCG(0, 0)); err != nil {
			return conf.Errorf("think_dist", "%v", err)
		}
	}
	return nil
}

// allocConfig builds the allocator's configuration.
func (c *Config) allocConfig() (allocator.Config, error) {
	var roles []string
	for _, f := range c.Frameworks {
		roles = append(roles, f.Role)
	}
	cfg, err := c.Allocator.config(c.Seed, c.agentsNamed, roles)
	return cfg, conf.At("allocator", err)
}

// config converts the policy keys to the allocator's configuration; names
// resolves a partition's agent or group names, roles are the frameworks'
// (a static policy without partitions splits the cluster among them). An
// error is a *conf.Error at the key, below the allocator section.
func (a AllocConfig) config(seed uint64, names func(string) []allocator.AgentID, roles []string) (allocator.Config, error) {
	cfg := allocator.Config{
		Policy: a.Policy, Seed: seed,
		AllocationInterval: time.Duration(a.AllocationInterval),
		OfferTimeout:       time.Duration(a.OfferTimeout),
		DefaultRefuse:      time.Duration(a.DefaultRefuse),
	}
	if a.Policy != "" && !slices.Contains(allocator.Policies(), a.Policy) {
		return cfg, conf.Errorf("policy", "%q is not a policy; want one of %s", a.Policy, strings.Join(allocator.Policies(), ", "))
	}
	for _, m := range a.MinAllocatable {
		cfg.MinAllocatable = append(cfg.MinAllocatable, m.Resources)
	}
	for _, r := range a.Roles {
		cfg.Roles = append(cfg.Roles, allocator.RoleConfig{Name: r.Name, Weight: r.Weight, Guarantee: r.Guarantee.Resources, Limit: r.Limit.Resources})
	}
	for i, p := range a.Partitions {
		part := allocator.Partition{Role: p.Role, Size: p.Size}
		for k, name := range p.Agents {
			ids := names(name)
			if len(ids) == 0 {
				return cfg, conf.Errorf(conf.Index(conf.Index("partitions", i)+".agents", k), "no agent or group named %q", name)
			}
			part.Agents = append(part.Agents, ids...)
		}
		cfg.Partitions = append(cfg.Partitions, part)
	}
	for i, r := range a.Reservations {
		ids := names(r.Agent)
		if len(ids) == 0 {
			return cfg, conf.Errorf(conf.Index("reservations", i)+".agent", "no agent or group named %q", r.Agent)
		}
		for _, id := range ids {
			cfg.Reservations = append(cfg.Reservations, allocator.Reservation{Agent: id, Role: r.Role, Resources: r.Resources.Resources})
		}
	}
	if cfg.Policy == "static" && len(cfg.Partitions) == 0 {
		if len(roles) == 0 {
			return cfg, conf.Errorf("partitions", "none; the static policy needs partitions (role and agents, or role and size)")
		}
		cfg.Partitions = allocator.EqualPartitions(roles...)
	}
	if _, err := allocator.New(cfg); err != nil {
		return cfg, allocatorError(err)
	}
	return cfg, nil
}

// allocatorError puts an error of the allocator's configuration at the key
// it starts with (roles[0]: ..., partitions[1] (web): ...), when it does.
func allocatorError(err error) error {
	msg := err.Error()
	key, rest, ok := strings.Cut(msg, " ")
	key = strings.TrimSuffix(key, ":")
	if name, _, _ := strings.Cut(key, "["); ok && slices.Contains([]string{"allocation_interval", "offer_timeout", "default_refuse", "roles", "reservations", "partitions"}, name) {
		if strings.HasPrefix(rest, "(") {
			_, rest, _ = strings.Cut(rest, "): ")
		}
		return conf.Errorf(key, "%s", rest)
	}
	return err
}

// agents expands the cluster groups into agent names, in order.
func (c *Config) agents() []agentSpec {
	var out []agentSpec
	for _, g := range c.Cluster {
		for _, name := range bundle.AgentNames(g.Name, g.Count) {
			out = append(out, agentSpec{name: name, group: g.Name, res: g.Resources.Resources, attrs: g.Attributes})
		}
	}
	return out
}

type agentSpec struct {
	name, group string
	res         allocator.Resources
	attrs       map[string]string
}

func (c *Config) agentsNamed(name string) []allocator.AgentID {
	var ids []allocator.AgentID
	for _, a := range c.agents() {
		if a.name == name || a.group == name {
			ids = append(ids, allocator.AgentID(a.name))
		}
	}
	return ids
}
