package playground

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/apronlab/apron/allocator"
)

// Result is what progressive filling did to a scenario.
type Result struct {
	Policy     string             `json:"policy"`
	Agents     int                `json:"agents"`
	Total      map[string]float64 `json:"total"`
	Frameworks []FrameworkResult  `json:"frameworks"`
	Picks      []string           `json:"picks"` // framework names, in the order their tasks were placed
}

// FrameworkResult is one framework's outcome.
type FrameworkResult struct {
	Name          string             `json:"name"`
	Role          string             `json:"role"`
	Tasks         int                `json:"tasks"`
	Allocated     map[string]float64 `json:"allocated"` // resource name to amount, reservations summed
	DominantShare float64            `json:"dominant_share"`
	text          string
}

// Run places the scenario's tasks by progressive filling under its policy,
// or under policy when that is not empty.
func Run(s *Scenario, policy string) (*Result, error) {
	if policy == "" {
		policy = s.Policy
	}
	if policy == "" {
		policy = "drf"
	}
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
	for _, ag := range agents {
		if err := a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(ag.name)}, ag.res); err != nil {
			return nil, fmt.Errorf("line %d: %w", ag.line, err)
		}
	}
	var demands []allocator.Demand
	for _, f := range s.Frameworks {
		if err := a.AddFramework(allocator.FrameworkID(f.Name), f.Role); err != nil {
			return nil, fmt.Errorf("line %d: %w", f.line, err)
		}
		demands = append(demands, allocator.Demand{Framework: allocator.FrameworkID(f.Name), Role: f.Role, Task: f.Task.Resources, Tasks: int(f.Tasks)})
	}
	picks, err := a.Fill(demands)
	if err != nil {
		return nil, err
	}
	return result(policy, len(agents), a, s, picks), nil
}

func result(policy string, agents int, a *allocator.Allocator, s *Scenario, picks []allocator.Pick) *Result {
	r := &Result{Policy: policy, Agents: agents, Total: amounts(a.Total()), Picks: []string{}}
	tasks := map[allocator.FrameworkID]int{}
	for _, p := range picks {
		tasks[p.Framework]++
		r.Picks = append(r.Picks, string(p.Framework))
	}
	views := map[allocator.FrameworkID]allocator.FrameworkView{}
	for _, v := range a.Frameworks() {
		views[v.ID] = v
	}
	for _, f := range s.Frameworks {
		v := views[allocator.FrameworkID(f.Name)]
		r.Frameworks = append(r.Frameworks, FrameworkResult{Name: f.Name, Role: f.Role, Tasks: tasks[v.ID],
			Allocated: amounts(v.Allocated), DominantShare: v.DominantShare, text: v.Allocated.Flatten().String()})
	}
	return r
}

func amounts(r allocator.Resources) map[string]float64 {
	m := map[string]float64{}
	for _, name := range r.Names() {
		m[name] = r.Sum(name).Float()
	}
	return m
}

// WriteText prints the result as a table and the pick order.
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
	_, err := fmt.Fprintf(w, "\npicks (%d): %s\n", len(r.Picks), joinPicks(r.Picks))
	return err
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

func joinPicks(picks []string) string {
	out := ""
	for i, p := range picks {
		if i > 0 {
			out += " "
		}
		out += p
	}
	return orDash(out)
}
