package core

import (
	"encoding/json"
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
		q, err := allocator.QuantityOf(a[k])
		if err != nil {
			continue
		}
		if r, err := allocator.ParseResources(k + ":" + q.String()); err == nil {
			out = out.Add(r)
		}
	}
	return out
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
	// Cluster is the replicated masters, when there are (Core.SetCluster).
	Cluster *ClusterView `json:"cluster,omitempty"`
}

// ClusterView is the replicated masters as the leader sees them.
type ClusterView struct {
	Leader  uint64       `json:"leader"` // the leading master's id
	Term    uint64       `json:"term"`
	Self    uint64       `json:"self"` // the master answering
	Masters []MasterView `json:"masters"`
}

// MasterView is one master of a replicated cluster.
type MasterView struct {
	ID   uint64 `json:"id"`
	URL  string `json:"url"`
	Role string `json:"role"` // leader, follower, unknown
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
	Principal     string            `json:"principal,omitempty"`
	State         string            `json:"state"`
	Isolation     string            `json:"isolation"`
	Connected     bool              `json:"connected"`
	Registered    time.Time         `json:"registered"`
	LastHeartbeat time.Time         `json:"last_heartbeat"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Resources     Usage             `json:"resources"`
	Tasks         int               `json:"tasks"`
	// Reservations are the agent's dynamic reservations (RESERVE), by
	// role and principal; [] when none.
	Reservations []ReservationRecord `json:"reservations"`
}

// FrameworkState is one framework in /state.
type FrameworkState struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Principal     string    `json:"principal,omitempty"`
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

// AppendState appends /state as JSON. The tasks' JSON is kept with each
// task (Task.frag), so a large /state is mostly copying.
func (c *Core) AppendState(b []byte) []byte {
	head, _ := json.Marshal(c.Summary()) // the view types always marshal
	b = append(b, head[:len(head)-1]...)
	b = c.appendTasks(append(b, `,"tasks":`...), (*Framework).active)
	b = c.appendTasks(append(b, `,"completed_tasks":`...), func(f *Framework) []*Task { return f.Done })
	return append(b, "}\n"...)
}

func (c *Core) appendTasks(b []byte, of func(*Framework) []*Task) []byte {
	b = append(b, '[')
	first := true
	for _, f := range c.allFrameworks() {
		for _, t := range of(f) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, t.json()...)
		}
	}
	return append(b, ']')
}

// active is the framework's tasks not completed, in launch order.
func (f *Framework) active() []*Task { return bySeq(taskList(f.Tasks)) }

// allFrameworks is every framework the master remembers: the subscribed
// ones by id, then the removed ones, oldest first.
func (c *Core) allFrameworks() []*Framework {
	out := make([]*Framework, 0, len(c.reg.frameworks)+len(c.reg.gone))
	for _, id := range sortedKeys(c.reg.frameworks) {
		out = append(out, c.reg.frameworks[id])
	}
	return append(out, c.reg.gone...)
}

// State returns a copy of the master's state.
func (c *Core) State() State {
	st := State{Summary: c.Summary(), Tasks: TaskList{}, CompletedTasks: TaskList{}}
	for _, f := range c.allFrameworks() {
		for _, t := range f.active() {
			st.Tasks = append(st.Tasks, t.view())
		}
		for _, t := range f.Done {
			st.CompletedTasks = append(st.CompletedTasks, t.view())
		}
	}
	return st
}

// Summary returns /state without its task lists: what a page or a scrape
// that shows no tasks needs.
func (c *Core) Summary() Summary {
	st := Summary{StartTime: c.start, Time: c.now, Policy: c.policyView(), TaskCounts: map[string]int{}, Cluster: c.cluster,
		Agents: []AgentState{}, Frameworks: []FrameworkState{}, CompletedFrameworks: []FrameworkState{}, Roles: []RoleState{}}
	for k, n := range c.reg.counts {
		if n > 0 {
			st.TaskCounts[k] = n
		}
	}
	offered := map[string]allocator.Resources{}
	fwOffered := map[string]allocator.Resources{}
	var allOffered allocator.Resources
	for _, o := range c.alloc.Offers() {
		offered[string(o.Agent)] = offered[string(o.Agent)].Add(o.Resources)
		fwOffered[string(o.Framework)] = fwOffered[string(o.Framework)].Add(o.Resources)
		allOffered = allOffered.Add(o.Resources)
	}
	st.Resources = Usage{Total: amounts(c.alloc.Total()), Used: amounts(c.alloc.Allocated().Sub(allOffered)), Offered: amounts(allOffered)}
	st.Agents = c.agentStates(offered)
	for _, v := range c.alloc.Frameworks() {
		f := c.reg.frameworks[string(v.ID)]
		st.Frameworks = append(st.Frameworks, FrameworkState{ID: f.ID, Name: f.Info.Name, Principal: f.Info.Principal, Roles: f.Roles, Connected: f.stream != "", Registered: f.Registered,
			Resources:     Usage{Total: amounts(v.Allocated), Used: amounts(v.Used), Offered: amounts(fwOffered[f.ID])},
			DominantShare: v.DominantShare, Suppressed: v.Suppressed, Tasks: len(f.Tasks)})
	}
	for _, f := range c.reg.gone {
		st.CompletedFrameworks = append(st.CompletedFrameworks, FrameworkState{ID: f.ID, Name: f.Info.Name, Principal: f.Info.Principal, Roles: f.Roles, Registered: f.Registered,
			Removed: f.Removed, RemovedWhy: f.Why})
	}
	for _, r := range c.alloc.Roles() {
		st.Roles = append(st.Roles, RoleState{Name: r.Name, Weight: r.Weight, Allocated: amounts(r.Allocated), DominantShare: r.DominantShare, Guarantee: amounts(r.Guarantee), Limit: amounts(r.Limit), Reserved: amounts(r.Reserved)})
	}
	return st
}

func (c *Core) agentStates(offered map[string]allocator.Resources) []AgentState {
	views := map[string]allocator.AgentView{}
	for _, v := range c.alloc.Agents() {
		views[string(v.ID)] = v
	}
	out := make([]AgentState, 0, len(c.reg.agentOrder))
	for _, id := range c.reg.agentOrder {
		ag := c.reg.agents[id]
		as := AgentState{ID: id, Hostname: ag.Hostname, URL: ag.URL, Principal: ag.Principal, State: ag.State, Isolation: ag.Isolation, Connected: ag.stream != "",
			Registered: ag.Registered, LastHeartbeat: ag.lastSeen, Attributes: ag.Attributes, Tasks: len(ag.Tasks),
			Resources: Usage{Total: amounts(ag.Total()), Used: Amounts{}, Offered: Amounts{}}, Reservations: ag.reservations()}
		if v, ok := views[id]; ok {
			as.Resources = Usage{Total: amounts(v.Total), Used: amounts(v.Allocated.Sub(offered[id])), Offered: amounts(offered[id])}
		}
		out = append(out, as)
	}
	return out
}

func (t *Task) view() TaskState {
	return TaskState{ID: t.Info.TaskID.Value, Name: t.Info.Name, FrameworkID: t.FrameworkID, AgentID: t.AgentID, Role: t.Role,
		State: t.State, Reason: t.Reason, Message: t.Message, Resources: t.Resources, Updated: float64(t.Updated.UnixMilli()) / 1e3}
}

// refresh marks the task's JSON for /state stale after a change: it is
// written again when /state next asks (replicas never do).
func (t *Task) refresh() { t.stale, t.mesos = true, [2][]byte{} }

// json is the task's JSON in /state, written again if it changed.
func (t *Task) json() []byte {
	if t.stale || t.frag == nil {
		t.frag, t.stale = t.view().appendJSON(t.frag[:0]), false
	}
	return t.frag
}
