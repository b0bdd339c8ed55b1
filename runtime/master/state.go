package master

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
)

// Amounts are resources by name; a reservation is "name(role)".
type Amounts map[string]float64

// Resources converts amounts back to the allocator's resources, by name in
// order.
func (a Amounts) Resources() allocator.Resources {
	var out allocator.Resources
	for _, k := range sorted.Keys(a) {
		if r, err := allocator.ParseResources(fmt.Sprintf("%s:%g", k, a[k])); err == nil {
			out = out.Add(r)
		}
	}
	return out
}

// FetchState reads a master's /state: what a client of the master (the
// scheduler driver, the live backend) knows of the cluster.
func FetchState(ctx context.Context, hc *http.Client, base string) (State, error) {
	var st State
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/state", nil)
	if err != nil {
		return st, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return st, fmt.Errorf("master %s: %w", base, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("master %s/state: %w", base, err)
	}
	return st, nil
}

// String is the amounts in the Mesos text form, by name:
// "cpus:1;mem:11540.5".
func (a Amounts) String() string { return a.Resources().String() }

func amounts(r allocator.Resources) Amounts {
	out := make(Amounts, len(r))
	for _, e := range r {
		k := e.Name
		if e.Role != "" {
			k += "(" + e.Role + ")"
		}
		out[k] += e.Value.Float()
	}
	return out
}

// State is GET /state: a summary of the cluster, and its tasks.
type State struct {
	Summary
	Tasks          TaskList `json:"tasks"`
	CompletedTasks TaskList `json:"completed_tasks"`
}

// Summary is everything in /state but the tasks.
type Summary struct {
	StartTime  time.Time        `json:"start_time"`
	Time       time.Time        `json:"time"`
	Policy     PolicyView       `json:"policy"`
	Resources  Usage            `json:"resources"`
	Agents     []AgentState     `json:"agents"`
	Frameworks []FrameworkState `json:"frameworks"`
	// CompletedFrameworks were torn down (the last 100), newest last.
	CompletedFrameworks []FrameworkState `json:"completed_frameworks"`
	Roles               []RoleState      `json:"roles"`
	TaskCounts          map[string]int   `json:"task_counts"`
}

// Usage is total, used (by tasks) and offered resources.
type Usage struct {
	Total   Amounts `json:"total"`
	Used    Amounts `json:"used"`
	Offered Amounts `json:"offered"`
}

// AgentState is one agent in /state.
type AgentState struct {
	ID            string            `json:"id"`
	Hostname      string            `json:"hostname"`
	URL           string            `json:"url"`
	State         string            `json:"state"`
	Isolation     string            `json:"isolation"`
	Connected     bool              `json:"connected"`
	Registered    time.Time         `json:"registered"`
	LastHeartbeat time.Time         `json:"last_heartbeat"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Resources     Usage             `json:"resources"`
	Tasks         int               `json:"tasks"`
}

// FrameworkState is one framework in /state.
type FrameworkState struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Roles         []string  `json:"roles"`
	Connected     bool      `json:"connected"`
	Registered    time.Time `json:"registered"`
	Resources     Usage     `json:"resources"`
	DominantShare float64   `json:"dominant_share"`
	Suppressed    []string  `json:"suppressed,omitempty"`
	Tasks         int       `json:"tasks"`
	Removed       time.Time `json:"removed,omitzero"`
	RemovedWhy    string    `json:"removed_why,omitempty"`
}

// RoleState is one role in /state.
type RoleState struct {
	Name          string  `json:"name"`
	Weight        float64 `json:"weight"`
	Allocated     Amounts `json:"allocated"`
	DominantShare float64 `json:"dominant_share"`
	Guarantee     Amounts `json:"guarantee,omitempty"`
	Limit         Amounts `json:"limit,omitempty"`
	Reserved      Amounts `json:"reserved,omitempty"` // on agents, for the role and its sub-roles
}

// TaskState is one task in /state.
type TaskState struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	FrameworkID string  `json:"framework_id"`
	AgentID     string  `json:"agent_id"`
	Role        string  `json:"role"`
	State       string  `json:"state"`
	Reason      string  `json:"reason,omitempty"`
	Message     string  `json:"message,omitempty"`
	Resources   string  `json:"resources"`
	Updated     float64 `json:"updated"` // Unix time, seconds
}

// serveState writes /state, indented with ?pretty. The tasks' JSON is
// kept with each task (see task.frag), so a large /state is mostly copying.
func (m *Master) serveState(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Has("pretty") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(m.State())
		return
	}
	m.mu.Lock()
	head, _ := json.Marshal(m.summary()) // the view types always marshal
	b := make([]byte, 0, len(head)+64+m.fragBytes)
	b = append(b, head[:len(head)-1]...)
	b = m.appendTasks(append(b, `,"tasks":`...), (*fw).launchOrder)
	b = m.appendTasks(append(b, `,"completed_tasks":`...), func(f *fw) []*task { return f.done })
	m.mu.Unlock()
	_, _ = w.Write(append(b, "}\n"...))
}

func (m *Master) appendTasks(b []byte, of func(*fw) []*task) []byte {
	b = append(b, '[')
	first := true
	for _, f := range m.allFws() {
		for _, t := range of(f) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, t.frag...)
		}
	}
	return append(b, ']')
}

// State returns a copy of the master's state.
func (m *Master) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{Summary: m.summary(), Tasks: TaskList{}, CompletedTasks: TaskList{}}
	for _, f := range m.allFws() {
		for _, t := range f.launchOrder() {
			st.Tasks = append(st.Tasks, taskState(t))
		}
		for _, t := range f.done {
			st.CompletedTasks = append(st.CompletedTasks, taskState(t))
		}
	}
	return st
}

// Summary returns /state without its task lists: what a page or a scrape
// that shows no tasks needs.
func (m *Master) Summary() Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.summary()
}

func (m *Master) summary() Summary {
	// Empty lists are [] in the JSON, not null: clients iterate over them.
	st := Summary{StartTime: m.start, Time: m.opts.Now(), Policy: m.policy.view(), TaskCounts: map[string]int{},
		Frameworks: []FrameworkState{}, CompletedFrameworks: make([]FrameworkState, 0, len(m.gone)), Roles: []RoleState{}}
	for k, n := range m.counts {
		if n > 0 {
			st.TaskCounts[k] = n
		}
	}
	offered := map[string]allocator.Resources{}
	fwOffered := map[string]allocator.Resources{}
	var allOffered allocator.Resources
	for _, o := range m.alloc.Offers() {
		offered[string(o.Agent)] = offered[string(o.Agent)].Add(o.Resources)
		fwOffered[string(o.Framework)] = fwOffered[string(o.Framework)].Add(o.Resources)
		allOffered = allOffered.Add(o.Resources)
	}
	st.Resources = Usage{Total: amounts(m.alloc.Total()), Used: amounts(m.alloc.Allocated().Sub(allOffered)), Offered: amounts(allOffered)}
	st.Agents = m.agentStates(offered)
	for _, v := range m.alloc.Frameworks() {
		f := m.fws[string(v.ID)]
		st.Frameworks = append(st.Frameworks, FrameworkState{ID: f.id, Name: f.info.Name, Roles: f.roles, Connected: f.out != nil, Registered: f.registered,
			Resources:     Usage{Total: amounts(v.Allocated), Used: amounts(v.Used), Offered: amounts(fwOffered[f.id])},
			DominantShare: v.DominantShare, Suppressed: v.Suppressed, Tasks: len(f.tasks)})
	}
	for _, f := range m.gone {
		st.CompletedFrameworks = append(st.CompletedFrameworks, FrameworkState{ID: f.id, Name: f.info.Name, Roles: f.roles, Registered: f.registered,
			Removed: f.removed, RemovedWhy: f.why})
	}
	for _, r := range m.alloc.Roles() {
		st.Roles = append(st.Roles, RoleState{Name: r.Name, Weight: r.Weight, Allocated: amounts(r.Allocated), DominantShare: r.DominantShare, Guarantee: amounts(r.Guarantee), Limit: amounts(r.Limit), Reserved: amounts(r.Reserved)})
	}
	return st
}

func (m *Master) agentStates(offered map[string]allocator.Resources) []AgentState {
	views := map[string]allocator.AgentView{}
	for _, v := range m.alloc.Agents() {
		views[string(v.ID)] = v
	}
	out := make([]AgentState, 0, len(m.agentsN))
	for _, id := range m.agentsN {
		ag := m.agents[id]
		as := AgentState{ID: id, Hostname: ag.hostname, URL: ag.url, State: ag.state, Isolation: ag.isolation, Connected: ag.out != nil,
			Registered: ag.registered, LastHeartbeat: ag.lastSeen, Attributes: ag.attrs, Tasks: len(ag.tasks)}
		if v, ok := views[id]; ok {
			as.Resources = Usage{Total: amounts(v.Total), Used: amounts(v.Allocated.Sub(offered[id])), Offered: amounts(offered[id])}
		}
		out = append(out, as)
	}
	return out
}

func taskState(t *task) TaskState {
	return TaskState{ID: t.info.TaskID.Value, Name: t.info.Name, FrameworkID: t.fw.id, AgentID: t.agent, Role: t.role,
		State: t.state, Reason: t.reason, Message: t.message, Resources: t.resText, Updated: float64(t.updated.UnixMilli()) / 1e3}
}

// launchOrder is the framework's running tasks in the order launched: its
// launch list, compacted of the tasks that ended.
func (f *fw) launchOrder() []*task {
	live := f.launched[:0]
	for _, t := range f.launched {
		if !terminal(t.state) {
			live = append(live, t)
		}
	}
	clear(f.launched[len(live):])
	f.launched = live
	return live
}
