package playground

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/bundle"
	"github.com/apronlab/apron/internal/conf"
)

// Event is something that happens at a time after the first filling:
// exactly one of a task ending, a framework ending, an agent joining or
// leaving, or a role's weight changing. Events at the same time happen in
// the order listed; then progressive filling resumes.
type Event struct {
	At           Duration      `yaml:"at"`
	EndTask      string        `yaml:"end_task"`      // a framework: its oldest running task ends
	Count        int           `yaml:"count"`         // with end_task: how many tasks end; 0 means 1
	EndFramework string        `yaml:"end_framework"` // a framework: its tasks end and it leaves
	AddAgent     *Agent        `yaml:"add_agent"`     // an agent, or a group of them, joins
	RemoveAgent  string        `yaml:"remove_agent"`  // an agent, or every agent of a group, leaves
	SetWeight    *WeightChange `yaml:"set_weight"`    // a role's weight changes
	line         int
}

// WeightChange is a role's new weight.
type WeightChange struct {
	Role   string  `yaml:"role"`
	Weight float64 `yaml:"weight"`
}

// Duration is a time after the start, such as 10s.
type Duration = conf.Duration

const eventKinds = "end_task, end_framework, add_agent, remove_agent or set_weight"

func (e Event) check(s *Scenario) error {
	kinds := 0
	for _, given := range []bool{e.EndTask != "", e.EndFramework != "", e.AddAgent != nil, e.RemoveAgent != "", e.SetWeight != nil} {
		if given {
			kinds++
		}
	}
	isFramework := func(name string) bool {
		return slices.ContainsFunc(s.Frameworks, func(f Framework) bool { return f.Name == name })
	}
	switch {
	case kinds != 1:
		return conf.Errorf("", "%d kinds of event; want exactly one of %s", kinds, eventKinds)
	case e.Count < 0 || e.Count > 0 && e.EndTask == "":
		return conf.Errorf("count", "%d; want 1 or more tasks ending, with end_task", e.Count)
	case e.EndTask != "" && !isFramework(e.EndTask):
		return conf.Errorf("end_task", "%q is no framework of the scenario", e.EndTask)
	case e.EndFramework != "" && !isFramework(e.EndFramework):
		return conf.Errorf("end_framework", "%q is no framework of the scenario", e.EndFramework)
	case e.AddAgent != nil:
		return conf.At("add_agent", e.AddAgent.check())
	case e.SetWeight != nil && e.SetWeight.Role == "":
		return conf.Errorf("set_weight.role", "missing; want the role whose weight changes")
	case e.SetWeight != nil && !(e.SetWeight.Weight > 0):
		return conf.Errorf("set_weight.weight", "%v; want a positive number", e.SetWeight.Weight)
	}
	return nil
}

// batches groups the events by time, in time order, each in the order
// listed.
func (s *Scenario) batches() [][]Event {
	events := slices.Clone(s.Events)
	slices.SortStableFunc(events, func(x, y Event) int { return cmp.Compare(x.At, y.At) })
	var out [][]Event
	for i, e := range events {
		if i == 0 || e.At != events[i-1].At {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], e)
	}
	return out
}

// apply carries out one event and says what happened.
func (w *world) apply(e Event) (string, error) {
	switch {
	case e.EndTask != "":
		return w.endTasks(w.fws[e.EndTask], max(e.Count, 1))
	case e.EndFramework != "":
		f := w.fws[e.EndFramework]
		if f.ended {
			return "", fmt.Errorf("framework %s has ended already", f.Name)
		}
		f.ended, f.running = true, nil
		return f.Name + " ends", w.a.RemoveFramework(allocator.FrameworkID(f.Name))
	case e.AddAgent != nil:
		names := bundle.AgentNames(e.AddAgent.Name, e.AddAgent.Count)
		for _, name := range names {
			if err := w.a.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(name)}, e.AddAgent.Resources.Resources); err != nil {
				return "", err
			}
			w.groups[name] = e.AddAgent.Name
		}
		return fmt.Sprintf("%s added with %s", agentNames(names), e.AddAgent.Resources), nil
	case e.RemoveAgent != "":
		return w.removeAgents(e.RemoveAgent)
	default:
		return w.setWeight(*e.SetWeight)
	}
}

func (w *world) endTasks(f *fwState, n int) (string, error) {
	switch {
	case f.ended:
		return "", fmt.Errorf("framework %s has ended", f.Name)
	case len(f.running) < n:
		return "", fmt.Errorf("framework %s runs %s; %d cannot end", f.Name, plural(len(f.running), "task"), n)
	}
	for _, p := range f.running[:n] {
		if err := w.a.Release(allocator.FrameworkID(f.Name), f.Role, p.Agent, p.Resources); err != nil {
			return "", err
		}
	}
	f.running = f.running[n:]
	return fmt.Sprintf("%s ends %s", f.Name, plural(n, "task")), nil
}

// removeAgents removes an agent, or every agent of a group; the tasks it
// ran are lost, and their frameworks want them again.
func (w *world) removeAgents(name string) (string, error) {
	var gone []string
	for _, id := range w.a.Agents() {
		if string(id.ID) == name || w.groups[string(id.ID)] == name {
			gone = append(gone, string(id.ID))
		}
	}
	if len(gone) == 0 {
		return "", fmt.Errorf("no agent or agent group %q is in the cluster", name)
	}
	lost := 0
	for _, id := range gone {
		if _, err := w.a.RemoveAgent(allocator.AgentID(id)); err != nil {
			return "", err
		}
		for _, f := range w.order {
			n := len(f.running)
			f.running = slices.DeleteFunc(f.running, func(p allocator.Pick) bool { return string(p.Agent) == id })
			if f.want != allocator.Unlimited {
				f.want += n - len(f.running)
			}
			lost += n - len(f.running)
		}
	}
	return fmt.Sprintf("%s removed, %s lost", agentNames(gone), plural(lost, "task")), nil
}

func (w *world) setWeight(c WeightChange) (string, error) {
	rc := allocator.RoleConfig{Name: c.Role}
	for _, have := range w.cfg.Roles {
		if have.Name == c.Role {
			rc = have
		}
	}
	rc.Weight = c.Weight
	if err := w.a.SetRole(rc); err != nil {
		return "", err
	}
	w.cfg.Roles = slices.DeleteFunc(w.cfg.Roles, func(r allocator.RoleConfig) bool { return r.Name == c.Role })
	w.cfg.Roles = append(w.cfg.Roles, rc)
	return fmt.Sprintf("role %s's weight becomes %v", c.Role, c.Weight), nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func agentNames(names []string) string {
	if len(names) == 1 {
		return "agent " + names[0]
	}
	return "agents " + strings.Join(names, " ")
}
