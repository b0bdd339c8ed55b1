package core

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Mesos' read-only endpoints: /master/state, /master/slaves,
// /master/frameworks, /master/tasks and /master/roles, written as Mesos'
// master writes them (src/master/readonly_handler.cpp).

// modelMaster is the head of /master/state: the master itself.
type modelMaster struct {
	VersionInfo
	StartTime         float64     `json:"start_time"`
	ElectedTime       float64     `json:"elected_time"`
	ID                string      `json:"id"`
	PID               string      `json:"pid"`
	Hostname          string      `json:"hostname"`
	Capabilities      []string    `json:"capabilities"`
	ActivatedSlaves   int         `json:"activated_slaves"`
	DeactivatedSlaves int         `json:"deactivated_slaves"`
	UnreachableSlaves int         `json:"unreachable_slaves"`
	Leader            string      `json:"leader"`
	LeaderInfo        modelLeader `json:"leader_info"`
}

// modelLeader is the leading master (this one: a standby redirects).
type modelLeader struct {
	ID       string `json:"id"`
	PID      string `json:"pid"`
	Port     int    `json:"port"`
	Hostname string `json:"hostname"`
}

// modelSlave is an agent as /master/state writes it.
type modelSlave struct {
	ID                  string             `json:"id"`
	Hostname            string             `json:"hostname"`
	Port                int                `json:"port"`
	Attributes          map[string]any     `json:"attributes"`
	PID                 string             `json:"pid"`
	RegisteredTime      float64            `json:"registered_time"`
	Resources           summary            `json:"resources"`
	UsedResources       summary            `json:"used_resources"`
	OfferedResources    summary            `json:"offered_resources"`
	ReservedResources   map[string]summary `json:"reserved_resources"`
	UnreservedResources summary            `json:"unreserved_resources"`
	Active              bool               `json:"active"`
	Deactivated         bool               `json:"deactivated"`
	Version             string             `json:"version"`
	Capabilities        []string           `json:"capabilities"`
}

// fullSlave is an agent as /master/slaves writes it: with its resources
// in full, for the operators' reserve and unreserve calls.
type fullSlave struct {
	modelSlave
	ReservedResourcesFull   map[string][]api.Resource `json:"reserved_resources_full"`
	UnreservedResourcesFull []api.Resource            `json:"unreserved_resources_full"`
	UsedResourcesFull       []api.Resource            `json:"used_resources_full"`
	OfferedResourcesFull    []api.Resource            `json:"offered_resources_full"`
}

// modelFramework is a framework as /master/state writes it, but for its
// task, offer and executor lists, which follow.
type modelFramework struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	UsedResources    summary  `json:"used_resources"`
	OfferedResources summary  `json:"offered_resources"`
	Capabilities     []string `json:"capabilities"`
	Hostname         string   `json:"hostname"`
	WebUIURL         string   `json:"webui_url"`
	Active           bool     `json:"active"`
	Connected        bool     `json:"connected"`
	Recovered        bool     `json:"recovered"`
	User             string   `json:"user"`
	FailoverTimeout  float64  `json:"failover_timeout"`
	Checkpoint       bool     `json:"checkpoint"`
	RegisteredTime   float64  `json:"registered_time"`
	UnregisteredTime float64  `json:"unregistered_time"`
	Principal        string   `json:"principal,omitempty"`
	Resources        summary  `json:"resources"`
	Role             string   `json:"role,omitempty"`
	Roles            []string `json:"roles,omitempty"`
}

// modelOffer is an outstanding offer in /master/state.
type modelOffer struct {
	ID             string             `json:"id"`
	FrameworkID    string             `json:"framework_id"`
	AllocationInfo api.AllocationInfo `json:"allocation_info"`
	SlaveID        string             `json:"slave_id"`
	Resources      summary            `json:"resources"`
}

// modelRole is a role in /master/roles.
type modelRole struct {
	Name       string             `json:"name"`
	Weight     float64            `json:"weight"`
	Quota      modelQuota         `json:"quota"`
	Resources  map[string]float64 `json:"resources"`
	Allocated  map[string]float64 `json:"allocated"`
	Offered    map[string]float64 `json:"offered"`
	Reserved   map[string]float64 `json:"reserved"`
	Frameworks []string           `json:"frameworks"`
}

type modelQuota struct {
	Role      string             `json:"role"`
	Guarantee map[string]float64 `json:"guarantee"`
	Limit     map[string]float64 `json:"limit"`
	Consumed  map[string]float64 `json:"consumed"`
}

// books are the resources in use (by the tasks charged in the
// allocator) and offered, by agent and by framework, each by role.
type books struct {
	agentUsed, agentOffered map[string]map[string]allocator.Resources
	fwUsed, fwOffered       map[string]map[string]allocator.Resources
	fwOffers                map[string][]allocator.Offer
	totals                  map[string]allocator.Resources // agents' totals, reservations of the policy included
}

func add(m map[string]map[string]allocator.Resources, k, role string, r allocator.Resources) {
	if m[k] == nil {
		m[k] = map[string]allocator.Resources{}
	}
	m[k][role] = m[k][role].Add(r)
}

func sum(m map[string]allocator.Resources) allocator.Resources {
	var out allocator.Resources
	for _, role := range sortedKeys(m) {
		out = out.Add(m[role])
	}
	return out
}

func (c *Core) books() books {
	b := books{agentUsed: map[string]map[string]allocator.Resources{}, agentOffered: map[string]map[string]allocator.Resources{},
		fwUsed: map[string]map[string]allocator.Resources{}, fwOffered: map[string]map[string]allocator.Resources{},
		fwOffers: map[string][]allocator.Offer{}, totals: map[string]allocator.Resources{}}
	for _, id := range sortedKeys(c.reg.frameworks) {
		for _, t := range c.reg.frameworks[id].active() {
			if t.charged {
				add(b.agentUsed, t.AgentID, t.Role, t.res)
				add(b.fwUsed, t.FrameworkID, t.Role, t.res)
			}
		}
	}
	for _, o := range c.alloc.Offers() {
		add(b.agentOffered, string(o.Agent), o.Role, o.Resources)
		add(b.fwOffered, string(o.Framework), o.Role, o.Resources)
		b.fwOffers[string(o.Framework)] = append(b.fwOffers[string(o.Framework)], o)
	}
	for _, v := range c.alloc.Agents() {
		b.totals[string(v.ID)] = v.Total
	}
	return b
}

// registered are the agents Mesos would list: registered, connected or
// not; an unreachable or given-up agent is no longer registered.
func (c *Core) registered() []*Agent {
	var out []*Agent
	for _, id := range c.reg.agentOrder {
		if ag := c.reg.agents[id]; ag.State == AgentActive {
			out = append(out, ag)
		}
	}
	return out
}

// agentAddress is where an agent serves (its URL's host:port), else its
// host name and Mesos' agent port.
func agentAddress(ag *Agent) (string, int) {
	if u, err := url.Parse(ag.URL); err == nil && u.Host != "" {
		host, port := hostPort(u.Host, 5051)
		return host, port
	}
	return ag.Hostname, 5051
}

// attributes are an agent's attributes as Mesos writes them: a value
// that is a number is a scalar, any other text.
func attributes(attrs map[string]string) map[string]any {
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[k] = f
		} else {
			out[k] = v
		}
	}
	return out
}

// total is an agent's resources: the allocator's, with the policy's
// reservations, for a connected agent; else what it registered.
func (b books) total(ag *Agent) allocator.Resources {
	if t, ok := b.totals[ag.ID]; ok {
		return t
	}
	return ag.total
}

func (c *Core) modelSlave(ag *Agent, b books, in MesosInfo) modelSlave {
	total := b.total(ag)
	host, port := agentAddress(ag)
	reserved := map[string]summary{}
	for role, r := range byRole(total) {
		reserved[role] = summarise(r)
	}
	return modelSlave{ID: ag.ID, Hostname: ag.Hostname, Port: port, Attributes: attributes(ag.Attributes),
		PID: "slave(1)@" + host + ":" + strconv.Itoa(port), RegisteredTime: secs(ag.Registered),
		Resources: summarise(total), UsedResources: summarise(sum(b.agentUsed[ag.ID])), OfferedResources: summarise(sum(b.agentOffered[ag.ID])),
		ReservedResources: reserved, UnreservedResources: summarise(total.Unreserved()),
		Active: ag.stream != "", Version: in.Version.Version, Capabilities: []string{"MULTI_ROLE", "HIERARCHICAL_ROLE"}}
}

func (c *Core) fullSlave(ag *Agent, b books, in MesosInfo) fullSlave {
	s := fullSlave{modelSlave: c.modelSlave(ag, b, in), ReservedResourcesFull: map[string][]api.Resource{}}
	total := b.total(ag)
	for role, r := range byRole(total) {
		s.ReservedResourcesFull[role] = v1Resources(r, "", ag.dynamicParts)
	}
	s.UnreservedResourcesFull = v1Resources(total.Unreserved(), "", nil)
	s.UsedResourcesFull = v1ByRole(b.agentUsed[ag.ID], ag.dynamicParts)
	s.OfferedResourcesFull = v1ByRole(b.agentOffered[ag.ID], ag.dynamicParts)
	return s
}

// capabilities are a framework's capabilities' names.
func capabilities(f *Framework) []string {
	out := []string{}
	for _, c := range f.Info.Capabilities {
		out = append(out, c.Type)
	}
	return out
}

// recovered says whether a framework is known only from the registry or
// its agents: it has not subscribed since this master began to lead (it
// was disconnected when the master took over, or since it was adopted
// from an agent's tasks).
func (c *Core) recovered(f *Framework) bool {
	return f.stream == "" && f.Removed.IsZero() && (!f.disconnected.After(c.start) || f.disconnected.Equal(f.Registered))
}

func (c *Core) modelFramework(f *Framework, b books) modelFramework {
	used, offered := sum(b.fwUsed[f.ID]), sum(b.fwOffered[f.ID])
	v := modelFramework{ID: f.ID, Name: f.Info.Name, UsedResources: summarise(used), OfferedResources: summarise(offered),
		Capabilities: capabilities(f), Hostname: f.Info.Hostname, Active: f.stream != "", Connected: f.stream != "", Recovered: c.recovered(f),
		User: f.Info.User, FailoverTimeout: f.Info.FailoverTimeout, Checkpoint: true, RegisteredTime: secs(f.Registered),
		Principal: f.Info.Principal, Resources: summarise(used.Add(offered))}
	switch {
	case !f.Removed.IsZero():
		v.UnregisteredTime = secs(f.Removed)
	case f.stream == "":
		v.UnregisteredTime = secs(f.disconnected)
	}
	roles := make([]string, len(f.Roles))
	for i, r := range f.Roles {
		roles[i] = mesosRole(r)
	}
	if slices.Contains(v.Capabilities, "MULTI_ROLE") || len(roles) != 1 {
		v.Roles = roles
	} else {
		v.Role = roles[0]
	}
	return v
}

// appendFramework appends a framework with its tasks, offers and
// executors.
func (c *Core) appendFramework(out []byte, f *Framework, b books) []byte {
	var running, unreachable []*Task
	for _, t := range f.active() {
		if t.State == TaskUnreachable {
			unreachable = append(unreachable, t)
		} else {
			running = append(running, t)
		}
	}
	out = appendObject(out, c.modelFramework(f, b))
	out = appendJSONList(append(out, `,"tasks":`...), running, (*Task).modelJSON)
	out = appendJSONList(append(out, `,"unreachable_tasks":`...), unreachable, (*Task).modelJSON)
	out = appendJSONList(append(out, `,"completed_tasks":`...), f.Done, (*Task).modelJSON)
	out = appendJSONList(append(out, `,"offers":`...), b.fwOffers[f.ID], func(o allocator.Offer) []byte {
		return mustJSON(modelOffer{ID: c.offerID(o.ID), FrameworkID: string(o.Framework), AllocationInfo: api.AllocationInfo{Role: mesosRole(o.Role)},
			SlaveID: string(o.Agent), Resources: summarise(o.Resources)})
	})
	out = appendJSONList(append(out, `,"executors":`...), c.reg.executorsOf(f.ID), func(e *Executor) []byte {
		return mustJSON(modelExecutor{ID: e.Info.ExecutorID.Value, Name: e.Info.Name, FrameworkID: e.FrameworkID, Command: modelCommand{Argv: []string{}, URIs: []string{}},
			Resources: summarise(e.res), Role: mesosRole(e.Role), Type: e.Info.Type, SlaveID: e.AgentID})
	})
	return append(out, `,"offer_constraints":{}}`...)
}

// modelExecutor is an executor as /master/state writes it (Mesos'
// json(ExecutorInfo) with the agent's id). apron's are task groups'
// DEFAULT executors, with no command.
type modelExecutor struct {
	ID          string       `json:"executor_id"`
	Name        string       `json:"name"`
	FrameworkID string       `json:"framework_id"`
	Command     modelCommand `json:"command"`
	Resources   summary      `json:"resources"`
	Role        string       `json:"role"`
	Type        string       `json:"type"`
	SlaveID     string       `json:"slave_id"`
}

// modelCommand is an executor's CommandInfo as Mesos writes it: argv and
// uris always (empty for the DEFAULT executor, which has no command).
type modelCommand struct {
	Argv []string `json:"argv"`
	URIs []string `json:"uris"`
}

// appendFrameworks appends the frameworks and completed_frameworks
// fields (and Mesos' empty unregistered_frameworks), of the framework
// id only when id is not "".
func (c *Core) appendFrameworks(out []byte, id string, b books) []byte {
	pick := func(fs []*Framework) []*Framework {
		return slices.DeleteFunc(fs, func(f *Framework) bool { return id != "" && f.ID != id })
	}
	var registered []*Framework
	for _, k := range sortedKeys(c.reg.frameworks) {
		registered = append(registered, c.reg.frameworks[k])
	}
	each := func(out []byte, f *Framework) []byte { return c.appendFramework(out, f, b) }
	out = appendList(append(out, `"frameworks":`...), pick(registered), each)
	out = appendList(append(out, `,"completed_frameworks":`...), pick(slices.Clone(c.reg.gone)), each)
	return append(out, `,"unregistered_frameworks":[]`...)
}

func (c *Core) modelMaster(in MesosInfo) modelMaster {
	_, port := hostPort(in.Address, 5050)
	m := modelMaster{VersionInfo: in.Version, StartTime: secs(in.Started), ElectedTime: secs(c.start), ID: c.cfg.ID, PID: in.pid(),
		Hostname: in.Hostname, Capabilities: []string{"QUOTA_V2"}, Leader: in.pid(),
		LeaderInfo: modelLeader{ID: c.cfg.ID, PID: in.pid(), Port: port, Hostname: in.Hostname}}
	for _, id := range c.reg.agentOrder {
		switch ag := c.reg.agents[id]; {
		case ag.State == AgentUnreachable:
			m.UnreachableSlaves++
		case ag.State == AgentActive && ag.stream != "":
			m.ActivatedSlaves++
		case ag.State == AgentActive:
			m.DeactivatedSlaves++
		}
	}
	return m
}

// AppendMesosState appends Mesos' /master/state. Each task's JSON is kept
// with the task, written again only when it changes, as /state's is.
func (c *Core) AppendMesosState(out []byte, in MesosInfo) []byte {
	b := c.books()
	out = appendObject(out, c.modelMaster(in))
	out = appendJSONList(append(out, `,"slaves":`...), c.registered(), func(ag *Agent) []byte { return mustJSON(c.modelSlave(ag, b, in)) })
	out = c.appendFrameworks(append(append(out, `,"recovered_slaves":[]`...), ','), "", b)
	return append(out, `,"orphan_tasks":[]}`...)
}

// AppendMesosSlaves appends Mesos' /master/slaves: the registered agents,
// or the one of id when id is not "".
func (c *Core) AppendMesosSlaves(out []byte, in MesosInfo, id string) []byte {
	b := c.books()
	agents := slices.DeleteFunc(c.registered(), func(ag *Agent) bool { return id != "" && ag.ID != id })
	out = appendJSONList(append(out, `{"slaves":`...), agents, func(ag *Agent) []byte { return mustJSON(c.fullSlave(ag, b, in)) })
	return append(out, `,"recovered_slaves":[]}`...)
}

// AppendMesosFrameworks appends Mesos' /master/frameworks: every
// framework, or the one of id when id is not "".
func (c *Core) AppendMesosFrameworks(out []byte, id string) []byte {
	return append(c.appendFrameworks(append(out, '{'), id, c.books()), '}')
}

// TasksQuery is what /master/tasks takes: a page of tasks in the order
// of their first status (Desc: newest first, Mesos' default), of one
// framework or one task id when those are not "".
type TasksQuery struct {
	Limit, Offset       int
	Desc                bool
	FrameworkID, TaskID string
}

// AppendMesosTasks appends a page of Mesos' /master/tasks: every task,
// running, unreachable or completed, of every framework, removed ones
// too.
func (c *Core) AppendMesosTasks(out []byte, q TasksQuery) []byte {
	var tasks []firstStatus
	for _, f := range c.allFrameworks() {
		if q.FrameworkID != "" && f.ID != q.FrameworkID {
			continue
		}
		for _, t := range append(f.active(), f.Done...) {
			if q.TaskID == "" || t.Info.TaskID.Value == q.TaskID {
				tasks = append(tasks, firstStatusOf(t))
			}
		}
	}
	slices.SortStableFunc(tasks, func(a, b firstStatus) int { return a.compare(b, q.Desc) })
	lo, hi := min(q.Offset, len(tasks)), min(q.Offset+q.Limit, len(tasks))
	out = appendJSONList(append(out, `{"tasks":`...), tasks[lo:hi], func(f firstStatus) []byte { return f.t.modelJSON() })
	return append(out, '}')
}

// firstStatus is a task with the time of its first status, if it has one.
type firstStatus struct {
	t   *Task
	at  time.Time
	has bool
}

func firstStatusOf(t *Task) firstStatus {
	for _, h := range t.History {
		if h.State != TaskStaging {
			return firstStatus{t, h.Time, true}
		}
	}
	return firstStatus{t: t}
}

// compare orders tasks by their first status' time, as Mesos'
// TaskComparator does: a task with no status yet comes first in
// ascending order and last in descending.
func (a firstStatus) compare(b firstStatus, desc bool) int {
	sign := 1
	if desc {
		sign = -1
	}
	switch {
	case !a.has && !b.has:
		return 0
	case !a.has:
		return -sign
	case !b.has:
		return sign
	}
	return sign * a.at.Compare(b.at)
}

// MesosRoles returns Mesos' /master/roles: every role the allocator
// knows (those of frameworks, weights, quota and reservations).
func (c *Core) MesosRoles() []byte {
	offered := map[string]allocator.Resources{}
	for _, o := range c.alloc.Offers() {
		offered[o.Role] = offered[o.Role].Add(o.Resources)
	}
	roles := []modelRole{}
	for _, v := range c.alloc.Roles() {
		var off allocator.Resources
		for role, r := range offered {
			if allocator.IsWithin(role, v.Name) {
				off = off.Add(r)
			}
		}
		alloc := v.Allocated.Sub(off)
		consumed := alloc.Add(v.Reserved.Sub(alloc.Reserved()))
		name := mesosRole(v.Name)
		roles = append(roles, modelRole{Name: name, Weight: v.Weight,
			Quota:     modelQuota{Role: name, Guarantee: quantities(v.Guarantee), Limit: quantities(v.Limit), Consumed: quantities(consumed)},
			Resources: quantities(v.Allocated), Allocated: quantities(alloc), Offered: quantities(off), Reserved: quantities(v.Reserved),
			Frameworks: c.roleFrameworks(v.Name)})
	}
	return append(mustJSON(struct {
		Roles []modelRole `json:"roles"`
	}{roles}), '\n')
}

// roleFrameworks are the ids of the frameworks subscribed to a role.
func (c *Core) roleFrameworks(role string) []string {
	out := []string{}
	for _, id := range sortedKeys(c.reg.frameworks) {
		if slices.Contains(c.reg.frameworks[id].Roles, role) {
			out = append(out, id)
		}
	}
	return out
}
