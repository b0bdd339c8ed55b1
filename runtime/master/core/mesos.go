package core

import (
	"encoding/json"
	"net"
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// The Mesos views (mesos_state.go, operator.go) show the core's state in
// the shapes of Mesos' read-only endpoints (/master/state and its kin)
// and of its v1 operator API. This file holds what they share: what the
// shell tells them of the master, names, times and resources as Mesos
// writes them, and each task's JSON, written once per change.

// MesosInfo is what the Mesos views say of the master itself, which its
// shell knows and the core does not: its build, host and address, when
// the process started.
type MesosInfo struct {
	Version  VersionInfo
	Hostname string    // the master's host name
	Address  string    // host:port it serves at; its pid is master@Address
	Started  time.Time // when the master process started
}

// VersionInfo is Mesos' VersionInfo (mesos.proto): the Mesos release
// whose APIs apron speaks, and apron's build as the git fields.
type VersionInfo struct {
	Version   string  `json:"version"`
	BuildDate string  `json:"build_date,omitempty"`
	BuildTime float64 `json:"build_time,omitempty"`
	BuildUser string  `json:"build_user,omitempty"`
	GitSHA    string  `json:"git_sha,omitempty"`
	GitBranch string  `json:"git_branch,omitempty"`
	GitTag    string  `json:"git_tag,omitempty"`
}

// pid is the master's libprocess-style pid.
func (in MesosInfo) pid() string { return "master@" + in.Address }

// hostPort splits an address into host and port; a missing or bad port
// is def.
func hostPort(addr string, def int) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, def
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return host, def
	}
	return host, port
}

// secs is a time as Mesos' endpoints write it: Unix seconds, fractional;
// the zero time is 0.
func secs(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// nanos is a time as the v1 API writes it; nil for the zero time.
func nanos(t time.Time) *api.TimeInfo {
	if t.IsZero() {
		return nil
	}
	return &api.TimeInfo{Nanoseconds: t.UnixNano()}
}

// summary is resources as Mesos' endpoints summarise them: scalars by
// name over every reservation, cpus, gpus, mem and disk always present.
type summary map[string]float64

func summarise(r allocator.Resources) summary {
	s := summary{"cpus": 0, "gpus": 0, "mem": 0, "disk": 0}
	for _, name := range r.Names() {
		s[name] = r.Sum(name).Float()
	}
	return s
}

// quantities is resources by name as Mesos' ResourceQuantities are
// written: only the names present.
func quantities(r allocator.Resources) map[string]float64 {
	q := map[string]float64{}
	for _, name := range r.Names() {
		q[name] = r.Sum(name).Float()
	}
	return q
}

// byRole splits resources into the unreserved ones and those reserved,
// by role.
func byRole(r allocator.Resources) map[string]allocator.Resources {
	out := map[string]allocator.Resources{}
	for _, e := range r.Reserved() {
		out[mesosRole(e.Role)] = out[mesosRole(e.Role)].Add(allocator.Resources{e})
	}
	return out
}

// dynamicSplit says how resources reserved for a role split into dynamic
// reservations, by principal (Agent.dynamicParts); nil: all static.
type dynamicSplit func(name, role string) []api.DynamicPart

// v1Resources writes resources in the v1 form, as Mesos' endpoints write
// them (its ENDPOINT format): a reserved one with its reservations stack
// (STATIC, or DYNAMIC by a principal, as dyn says) and also role and, if
// dynamic, reservation; an unreserved one with role "*". allocatedTo
// names the role they are offered or allocated to ("": not allocated).
func v1Resources(r allocator.Resources, allocatedTo string, dyn dynamicSplit) []api.Resource {
	if dyn == nil {
		dyn = func(string, string) []api.DynamicPart { return nil }
	}
	out := api.MarkReservations(api.FromResources(r), true, dyn)
	for i := range out {
		v := &out[i]
		v.Role = "*"
		if n := len(v.Reservations); n > 0 {
			ri := &v.Reservations[n-1]
			ri.Role = mesosRole(ri.Role)
			v.Role = ri.Role
			if ri.Type == api.ReservationDynamic {
				v.Reservation = &api.ReservationInfo{Principal: ri.Principal}
			}
		}
		if allocatedTo != "" {
			v.AllocationInfo = &api.AllocationInfo{Role: mesosRole(allocatedTo)}
		}
	}
	return out
}

// v1ByRole writes resources allocated to several roles, role by role in
// order.
func v1ByRole(m map[string]allocator.Resources, dyn dynamicSplit) []api.Resource {
	out := []api.Resource{}
	for _, role := range sortedKeys(m) {
		out = append(out, v1Resources(m[role], role, dyn)...)
	}
	return out
}

// dynamicOf is how an agent's reserved resources split into dynamic
// reservations (none for an agent the master does not know).
func (c *Core) dynamicOf(agent string) dynamicSplit {
	if ag := c.reg.agents[agent]; ag != nil {
		return ag.dynamicParts
	}
	return nil
}

// clusterDynamic is a dynamicSplit for resources summed over every agent (a
// framework's): each principal's dynamic reservations of the cluster.
func (c *Core) clusterDynamic(name, role string) []api.DynamicPart {
	by := map[string]float64{}
	for _, id := range c.reg.agentOrder {
		for _, d := range c.reg.agents[id].dynamicParts(name, role) {
			by[d.Principal] += d.Amount
		}
	}
	out := make([]api.DynamicPart, 0, len(by))
	for _, p := range sortedKeys(by) {
		out = append(out, api.DynamicPart{Principal: p, Amount: by[p]})
	}
	return out
}

// mustJSON marshals a view type, which always marshals.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// modelTask is a task as /master/state writes it (Mesos' Task model).
type modelTask struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	FrameworkID string        `json:"framework_id"`
	ExecutorID  string        `json:"executor_id"`
	SlaveID     string        `json:"slave_id"`
	State       string        `json:"state"`
	Resources   summary       `json:"resources"`
	Role        string        `json:"role"`
	Statuses    []modelStatus `json:"statuses"`
	User        string        `json:"user,omitempty"`
}

type modelStatus struct {
	State     string  `json:"state"`
	Timestamp float64 `json:"timestamp"`
}

// v1Task is Mesos' v1 Task (mesos.proto), as the operator API writes it.
type v1Task struct {
	Name        string         `json:"name"`
	TaskID      api.ID         `json:"task_id"`
	FrameworkID api.ID         `json:"framework_id"`
	ExecutorID  *api.ID        `json:"executor_id,omitempty"`
	AgentID     api.ID         `json:"agent_id"`
	State       string         `json:"state"`
	Resources   []api.Resource `json:"resources,omitempty"`
	Statuses    []v1Status     `json:"statuses,omitempty"`
	User        string         `json:"user,omitempty"`
}

// v1Status is Mesos' TaskStatus, one of a task's statuses.
type v1Status struct {
	TaskID    api.ID  `json:"task_id"`
	State     string  `json:"state"`
	Message   string  `json:"message,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	AgentID   api.ID  `json:"agent_id"`
	Timestamp float64 `json:"timestamp"`
}

// statuses are the states a task reported or the master decided, oldest
// first, as Mesos keeps a task's status updates: the master's own
// TASK_STAGING at launch is no update.
func (t *Task) statuses() []Transition {
	out := make([]Transition, 0, len(t.History))
	for _, h := range t.History {
		if h.State != TaskStaging {
			out = append(out, h)
		}
	}
	return out
}

// user is the user a task runs as, when its command names one.
func (t *Task) user() string {
	if t.Info.Command != nil {
		return t.Info.Command.User
	}
	return ""
}

// modelJSON is the task's JSON in /master/state, written again if the
// task changed since (refresh empties it).
func (t *Task) modelJSON() []byte {
	if len(t.mesos[0]) == 0 {
		v := modelTask{ID: t.Info.TaskID.Value, Name: t.Info.Name, FrameworkID: t.FrameworkID, ExecutorID: t.executorID(), SlaveID: t.AgentID, State: t.State,
			Resources: summarise(t.res), Role: mesosRole(t.Role), Statuses: []modelStatus{}, User: t.user()}
		for _, h := range t.statuses() {
			v.Statuses = append(v.Statuses, modelStatus{State: h.State, Timestamp: secs(h.Time)})
		}
		t.mesos[0] = mustJSON(v)
	}
	return t.mesos[0]
}

// v1JSON is the task's v1 Task JSON, written again if the task changed;
// dyn is its agent's dynamic reservations.
func (t *Task) v1JSON(dyn dynamicSplit) []byte {
	if len(t.mesos[1]) == 0 {
		id, agent := api.ID{Value: t.Info.TaskID.Value}, api.ID{Value: t.AgentID}
		v := v1Task{Name: t.Info.Name, TaskID: id, FrameworkID: api.ID{Value: t.FrameworkID}, AgentID: agent, State: t.State,
			Resources: v1Resources(t.res, t.Role, dyn), User: t.user()}
		if e := t.executorID(); e != "" {
			v.ExecutorID = &api.ID{Value: e}
		}
		for _, h := range t.statuses() {
			v.Statuses = append(v.Statuses, v1Status{TaskID: id, State: h.State, Message: h.Message, Reason: h.Reason, AgentID: agent, Timestamp: secs(h.Time)})
		}
		t.mesos[1] = mustJSON(v)
	}
	return t.mesos[1]
}

// appendList appends a JSON list, each item appended by each.
func appendList[T any](b []byte, items []T, each func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, it)
	}
	return append(b, ']')
}

// appendJSONList appends the JSON of each item as a list.
func appendJSONList[T any](b []byte, items []T, js func(T) []byte) []byte {
	return appendList(b, items, func(b []byte, it T) []byte { return append(b, js(it)...) })
}

// appendObject appends v's JSON object without its closing brace, so that
// fields written by hand can follow; close it with '}'.
func appendObject(b []byte, v any) []byte {
	o := mustJSON(v)
	return append(b, o[:len(o)-1]...)
}
