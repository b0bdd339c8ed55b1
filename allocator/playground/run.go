package playground

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apronlab/apron/allocator"
)

// Result is what progressive filling did to a scenario.
type Result struct {
	Policy     string             `json:"policy"`
	Agents     int                `json:"agents"` // at the end
	Total      map[string]float64 `json:"total"`  // at the end
	Frameworks []FrameworkResult  `json:"frameworks"`
	Picks      []string           `json:"picks"`              // framework names, in the order the first filling placed their tasks
	Timeline   []Step             `json:"timeline,omitempty"` // what happened at each time that has events
}

// Step is one time of the scenario's events: the events, in order, and the
// picks of the filling that followed them.
type Step struct {
	At     string   `json:"at"`
	Events []string `json:"events"`
	Picks  []string `json:"picks"`
}

// FrameworkResult is one framework's outcome, at the end.
type FrameworkResult struct {
	Name          string             `json:"name"`
	Role          string             `json:"role"`
	Tasks         int                `json:"tasks"`     // running
	Allocated     map[string]float64 `json:"allocated"` // resource name to amount, reservations summed
	DominantShare float64            `json:"dominant_share"`
	text          string
}

// world is a scenario being run: the allocator and each framework's tasks.
type world struct {
	a      *allocator.Allocator
	cfg    allocator.Config
	fws    map[string]*fwState
	order  []*fwState        // as listed
	groups map[string]string // agent name -> its group
}

type fwState struct {
	Framework
	running []allocator.Pick // oldest first
	want    int              // tasks still to place; allocator.Unlimited for no bound
	ended   bool
}

// Run places the scenario's tasks by progressive filling under its policy,
// or under policy when that is not empty; then, time by time, it carries
// out the scenario's events and fills again.
func Run(s *Scenario, policy string) (*Result, error) {
	if policy == "" {
		policy = s.Policy
	}
	if policy == "" {
		policy = "drf"
	}
	w, err := build(s, policy)
	if err != nil {
		return nil, err
	}
	picks, err := w.fill()
	if err != nil {
		return nil, err
	}
	r := &Result{Policy: policy, Picks: picks}
	for _, batch := range s.batches() {
		step := Step{At: time.Duration(batch[0].At).String()}
		for _, e := range batch {
			what, err := w.apply(e)
			if err != nil {
				return nil, fmt.Errorf("line %d: at %s: %w", e.line, time.Duration(e.At), err)
			}
			step.Events = append(step.Events, what)
		}
		if step.Picks, err = w.fill(); err != nil {
			return nil, err
		}
		r.Timeline = append(r.Timeline, step)
	}
	w.result(r)
	return r, nil
}

// build makes the allocator and adds the scenario's agents and frameworks.
func build(s *Scenario, policy string) (*world, error) {
	agents, err := s.expandAgents()
	if err != nil {
		return nil, err
	}
	cfg, err := s.config(policy, agents)
	if err != nil {
		return nil, err
	}
	a, err := allocator.New(cfg)
	if err != nil {
		return nil, err
	}
	w := &world{a: a, cfg: cfg, fws: map[string]*fwState{}, groups: map[string]string{}}
	for _, ag := range agents {
		if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(ag.name)}, ag.res); err != nil {
			return nil, fmt.Errorf("line %d: %w", ag.line, err)
		}
		w.groups[ag.name] = ag.group
	}
	for _, f := range s.Frameworks {
		if err := a.AddFramework(allocator.FrameworkID(f.Name), f.Role); err != nil {
			return nil, fmt.Errorf("line %d: %w", f.line, err)
		}
		st := &fwState{Framework: f, want: int(f.Tasks)}
		w.fws[f.Name] = st
		w.order = append(w.order, st)
	}
	return w, nil
}

// fill places tasks until none fits and returns the frameworks placed, in
// order.
func (w *world) fill() ([]string, error) {
	var demands []allocator.Demand
	for _, f := range w.order {
		if !f.ended {
			demands = append(demands, allocator.Demand{Framework: allocator.FrameworkID(f.Name), Role: f.Role, Task: f.Task.Resources, Tasks: f.want})
		}
	}
	picks, err := w.a.Fill(demands)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, p := range picks {
		f := w.fws[string(p.Framework)]
		f.running = append(f.running, p)
		if f.want > 0 {
			f.want--
		}
		names = append(names, f.Name)
	}
	return names, nil
}

func (w *world) result(r *Result) {
	r.Agents, r.Total = len(w.a.Agents()), amounts(w.a.Total())
	views := map[allocator.FrameworkID]allocator.FrameworkView{}
	for _, v := range w.a.Frameworks() {
		views[v.ID] = v
	}
	for _, f := range w.order {
		v := views[allocator.FrameworkID(f.Name)]
		r.Frameworks = append(r.Frameworks, FrameworkResult{Name: f.Name, Role: f.Role, Tasks: len(f.running),
			Allocated: amounts(v.Allocated), DominantShare: v.DominantShare, text: v.Allocated.Flatten().String()})
	}
}

func amounts(r allocator.Resources) map[string]float64 {
	m := map[string]float64{}
	for _, name := range r.Names() {
		m[name] = r.Sum(name).Float()
	}
	return m
}

// WriteText prints the result as a table (at the end), the first
// filling's picks and, time by time, the events and the picks after them.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "policy %s, %d agent(s)\n\n", r.Policy, r.Agents)
	fmt.Fprintln(tw, "framework\trole\ttasks\tallocated\tdominant share")
	for _, f := range r.Frameworks {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.4f\n", f.Name, f.Role, f.Tasks, orDash(f.text), f.DominantShare)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\npicks (%d): %s\n", len(r.Picks), joinNames(r.Picks))
	for _, s := range r.Timeline {
		fmt.Fprintf(w, "at %s: %s; picks (%d): %s\n", s.At, strings.Join(s.Events, "; "), len(s.Picks), joinNames(s.Picks))
	}
	return nil
}

// WriteJSON prints the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinNames(names []string) string { return orDash(strings.Join(names, " ")) }
