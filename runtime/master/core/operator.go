package core

import (
	"net"
	"slices"
	"strings"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// The read calls of Mesos' v1 operator API (master.proto), answered as
// Mesos' master answers them: the Response of each call in the JSON
// Mesos writes (stout's protobuf to JSON: empty lists and unset optional
// fields left out, where the master does not write a list by hand).

// Operator calls the core answers (OperatorGet).
const (
	GetState      = "GET_STATE"
	GetAgents     = "GET_AGENTS"
	GetFrameworks = "GET_FRAMEWORKS"
	GetExecutors  = "GET_EXECUTORS"
	GetOperations = "GET_OPERATIONS"
	GetTasks      = "GET_TASKS"
	GetRoles      = "GET_ROLES"
	GetWeights    = "GET_WEIGHTS"
	GetMaster     = "GET_MASTER"
	GetQuota      = "GET_QUOTA"
)

func capabilityList(names []string) []api.Capability {
	var out []api.Capability
	for _, n := range names {
		out = append(out, api.Capability{Type: n})
	}
	return out
}

type v1AgentInfo struct {
	Hostname   string          `json:"hostname"`
	Port       int             `json:"port"`
	Resources  []api.Resource  `json:"resources,omitempty"`
	Attributes []api.Attribute `json:"attributes,omitempty"`
	ID         api.ID          `json:"id"`
}

type v1Agent struct {
	AgentInfo          v1AgentInfo      `json:"agent_info"`
	Active             bool             `json:"active"`
	Deactivated        bool             `json:"deactivated"`
	Version            string           `json:"version"`
	PID                string           `json:"pid"`
	RegisteredTime     *api.TimeInfo    `json:"registered_time,omitempty"`
	TotalResources     []api.Resource   `json:"total_resources,omitempty"`
	AllocatedResources []api.Resource   `json:"allocated_resources,omitempty"`
	OfferedResources   []api.Resource   `json:"offered_resources,omitempty"`
	Capabilities       []api.Capability `json:"capabilities,omitempty"`
}

type v1FrameworkInfo struct {
	User            string           `json:"user"`
	Name            string           `json:"name"`
	ID              api.ID           `json:"id"`
	FailoverTimeout float64          `json:"failover_timeout"`
	Checkpoint      bool             `json:"checkpoint"`
	Role            string           `json:"role,omitempty"`
	Hostname        string           `json:"hostname,omitempty"`
	Principal       string           `json:"principal,omitempty"`
	Capabilities    []api.Capability `json:"capabilities,omitempty"`
	Roles           []string         `json:"roles,omitempty"`
}

type v1Offer struct {
	ID             api.ID             `json:"id"`
	FrameworkID    api.ID             `json:"framework_id"`
	AgentID        api.ID             `json:"agent_id"`
	Hostname       string             `json:"hostname"`
	Resources      []api.Resource     `json:"resources,omitempty"`
	AllocationInfo api.AllocationInfo `json:"allocation_info"`
}

type v1Framework struct {
	FrameworkInfo      v1FrameworkInfo `json:"framework_info"`
	Active             bool            `json:"active"`
	Connected          bool            `json:"connected"`
	Recovered          bool            `json:"recovered"`
	RegisteredTime     *api.TimeInfo   `json:"registered_time,omitempty"`
	UnregisteredTime   *api.TimeInfo   `json:"unregistered_time,omitempty"`
	Offers             []v1Offer       `json:"offers,omitempty"`
	AllocatedResources []api.Resource  `json:"allocated_resources,omitempty"`
	OfferedResources   []api.Resource  `json:"offered_resources,omitempty"`
}

type v1Role struct {
	Name       string         `json:"name"`
	Weight     float64        `json:"weight"`
	Frameworks []api.ID       `json:"frameworks,omitempty"`
	Resources  []api.Resource `json:"resources,omitempty"`
}

type weightInfo struct {
	Weight float64 `json:"weight"`
	Role   string  `json:"role,omitempty"`
}

type quotaInfo struct {
	Role      string         `json:"role"`
	Guarantee []api.Resource `json:"guarantee,omitempty"`
}

type quotaConfigView struct {
	Role       string                `json:"role"`
	Guarantees map[string]api.Scalar `json:"guarantees,omitempty"`
	Limits     map[string]api.Scalar `json:"limits,omitempty"`
}

func (c *Core) v1Agent(ag *Agent, b books, in MesosInfo) v1Agent {
	_, port := agentAddress(ag)
	m := c.modelSlave(ag, b, in)
	return v1Agent{AgentInfo: v1AgentInfo{Hostname: ag.Hostname, Port: port, Resources: v1Resources(ag.total, "", nil),
		Attributes: api.AttributesOf(ag.Attributes), ID: api.ID{Value: ag.ID}},
		Active: m.Active, Version: m.Version, PID: m.PID, RegisteredTime: nanos(ag.Registered),
		TotalResources: v1Resources(b.total(ag), "", ag.dynamicParts), AllocatedResources: v1ByRole(b.agentUsed[ag.ID], ag.dynamicParts),
		OfferedResources: v1ByRole(b.agentOffered[ag.ID], ag.dynamicParts), Capabilities: capabilityList(m.Capabilities)}
}

func (c *Core) v1Framework(f *Framework, b books) v1Framework {
	m := c.modelFramework(f, b)
	v := v1Framework{FrameworkInfo: v1FrameworkInfo{User: m.User, Name: m.Name, ID: api.ID{Value: f.ID}, FailoverTimeout: m.FailoverTimeout,
		Checkpoint: m.Checkpoint, Role: m.Role, Hostname: m.Hostname, Principal: m.Principal, Capabilities: capabilityList(m.Capabilities), Roles: m.Roles},
		Active: m.Active, Connected: m.Connected, Recovered: m.Recovered, RegisteredTime: nanos(f.Registered),
		AllocatedResources: v1ByRole(b.fwUsed[f.ID], c.clusterDynamic), OfferedResources: v1ByRole(b.fwOffered[f.ID], c.clusterDynamic)}
	if m.UnregisteredTime != 0 {
		v.UnregisteredTime = nanos(cmpTime(f.Removed, f.disconnected))
	}
	for _, o := range b.fwOffers[f.ID] {
		v.Offers = append(v.Offers, v1Offer{ID: api.ID{Value: c.offerID(o.ID)}, FrameworkID: api.ID{Value: f.ID}, AgentID: api.ID{Value: string(o.Agent)},
			Hostname: c.reg.agents[string(o.Agent)].Hostname, Resources: v1Resources(o.Resources, o.Role, c.dynamicOf(string(o.Agent))), AllocationInfo: api.AllocationInfo{Role: mesosRole(o.Role)}})
	}
	return v
}

// cmpTime is a if it is set, else b.
func cmpTime[T interface{ IsZero() bool }](a, b T) T {
	if a.IsZero() {
		return b
	}
	return a
}

func (c *Core) appendGetAgents(out []byte, b books, in MesosInfo) []byte {
	out = appendJSONList(append(out, `{"agents":`...), c.registered(), func(ag *Agent) []byte { return mustJSON(c.v1Agent(ag, b, in)) })
	return append(out, `,"recovered_agents":[]}`...)
}

func (c *Core) appendGetFrameworks(out []byte, b books) []byte {
	each := func(f *Framework) []byte { return mustJSON(c.v1Framework(f, b)) }
	var registered []*Framework
	for _, id := range sortedKeys(c.reg.frameworks) {
		registered = append(registered, c.reg.frameworks[id])
	}
	out = appendJSONList(append(out, `{"frameworks":`...), registered, each)
	out = appendJSONList(append(out, `,"completed_frameworks":`...), c.reg.gone, each)
	return append(out, '}')
}

func (c *Core) appendGetTasks(out []byte) []byte {
	var running, unreachable, done []*Task
	for _, f := range c.allFrameworks() {
		for _, t := range f.active() {
			if t.State == TaskUnreachable {
				unreachable = append(unreachable, t)
			} else {
				running = append(running, t)
			}
		}
		done = append(done, f.Done...)
	}
	js := func(t *Task) []byte { return t.v1JSON(c.dynamicOf(t.AgentID)) }
	out = appendJSONList(append(out, `{"tasks":`...), running, js)
	out = appendJSONList(append(out, `,"unreachable_tasks":`...), unreachable, js)
	out = appendJSONList(append(out, `,"completed_tasks":`...), done, js)
	return append(out, '}')
}

func (c *Core) getRoles() any {
	var roles []v1Role
	for _, v := range c.alloc.Roles() {
		r := v1Role{Name: mesosRole(v.Name), Weight: v.Weight}
		for _, id := range c.roleFrameworks(v.Name) {
			r.Frameworks = append(r.Frameworks, api.ID{Value: id})
		}
		for _, e := range v.Allocated.Flatten() {
			if slices.Contains([]string{"cpus", "mem", "disk", "gpus"}, e.Name) {
				r.Resources = append(r.Resources, api.Resource{Name: e.Name, Type: api.ValueScalar, Scalar: api.Scalar{Value: e.Value.Float()}})
			}
		}
		roles = append(roles, r)
	}
	return struct {
		Roles []v1Role `json:"roles,omitempty"`
	}{roles}
}

func (c *Core) getWeights() any {
	var ws []weightInfo
	for _, r := range c.alloc.Config().Roles {
		if r.Weight != 0 {
			ws = append(ws, weightInfo{Weight: r.Weight, Role: mesosRole(r.Name)})
		}
	}
	return struct {
		WeightInfos []weightInfo `json:"weight_infos,omitempty"`
	}{ws}
}

func scalars(r allocator.Resources) map[string]api.Scalar {
	if r.IsEmpty() {
		return nil
	}
	out := map[string]api.Scalar{}
	for _, name := range r.Names() {
		out[name] = api.Scalar{Value: r.Sum(name).Float()}
	}
	return out
}

func (c *Core) getQuota() any {
	var st struct {
		Infos   []quotaInfo       `json:"infos,omitempty"`
		Configs []quotaConfigView `json:"configs,omitempty"`
	}
	for _, r := range c.alloc.Config().Roles {
		if r.Guarantee.IsEmpty() && r.Limit.IsEmpty() {
			continue
		}
		role := mesosRole(r.Name)
		info := quotaInfo{Role: role}
		for _, e := range r.Guarantee {
			info.Guarantee = append(info.Guarantee, api.Resource{Name: e.Name, Type: api.ValueScalar, Scalar: api.Scalar{Value: e.Value.Float()}})
		}
		st.Infos = append(st.Infos, info)
		st.Configs = append(st.Configs, quotaConfigView{Role: role, Guarantees: scalars(r.Guarantee), Limits: scalars(r.Limit)})
	}
	return map[string]any{"status": st}
}

func (c *Core) getMaster(in MesosInfo) any {
	host, port := hostPort(in.Address, 5050)
	return struct {
		MasterInfo  api.MasterInfo `json:"master_info"`
		StartTime   float64        `json:"start_time"`
		ElectedTime float64        `json:"elected_time"`
	}{api.MasterInfo{ID: c.cfg.ID, IP: api.PackedIP(net.ParseIP(host)), Port: uint32(port), PID: in.pid(), Hostname: in.Hostname, Version: in.Version.Version,
		Address: &api.Address{Hostname: in.Hostname, IP: host, Port: int32(port)}}, secs(in.Started), secs(c.start)}
}

// OperatorGet appends the Response of a read call of the operator API
// the core answers (GET_STATE, GET_AGENTS, ...: the constants above); it
// reports false for any other call type.
func (c *Core) OperatorGet(out []byte, call string, in MesosInfo) ([]byte, bool) {
	out = append(out, `{"type":"`+call+`"`...)
	field := `,"` + strings.ToLower(call) + `":`
	b := c.books()
	switch call {
	case GetState:
		out = append(out, field+`{"get_tasks":`...)
		out = c.appendGetTasks(out)
		out = c.appendGetExecutors(append(out, `,"get_executors":`...))
		out = append(out, `,"get_frameworks":`...)
		out = c.appendGetFrameworks(out, b)
		out = c.appendGetAgents(append(out, `,"get_agents":`...), b, in)
		out = append(out, '}')
	case GetAgents:
		out = c.appendGetAgents(append(out, field...), b, in)
	case GetFrameworks:
		out = c.appendGetFrameworks(append(out, field...), b)
	case GetTasks:
		out = c.appendGetTasks(append(out, field...))
	case GetExecutors:
		out = c.appendGetExecutors(append(out, field...))
	case GetOperations:
		out = append(out, field+`{}`...)
	case GetRoles:
		out = append(append(out, field...), mustJSON(c.getRoles())...)
	case GetWeights:
		out = append(append(out, field...), mustJSON(c.getWeights())...)
	case GetQuota:
		out = append(append(out, field...), mustJSON(c.getQuota())...)
	case GetMaster:
		out = append(append(out, field...), mustJSON(c.getMaster(in))...)
	default:
		return nil, false
	}
	return append(out, "}\n"...), true
}

// v1Executor is GetExecutors.Executor: a task group's DEFAULT executor and
// its agent.
type v1Executor struct {
	AgentID      api.ID           `json:"agent_id"`
	ExecutorInfo api.ExecutorInfo `json:"executor_info"`
}

// appendGetExecutors appends GetExecutors: the executors of task groups
// whose tasks have not all completed (no orphans: apron's master knows
// every executor it launched).
func (c *Core) appendGetExecutors(out []byte) []byte {
	list := []v1Executor{}
	for _, e := range c.reg.executorsOf("") {
		info := e.Info
		info.FrameworkID = &api.ID{Value: e.FrameworkID}
		info.Resources = v1Resources(e.res, e.Role, c.dynamicOf(e.AgentID))
		list = append(list, v1Executor{AgentID: api.ID{Value: e.AgentID}, ExecutorInfo: info})
	}
	return append(out, mustJSON(struct {
		Executors []v1Executor `json:"executors"`
	}{list})...)
}
