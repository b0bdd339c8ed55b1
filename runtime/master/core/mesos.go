package core

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// The Mesos views (mesos_state.go, operator.go) show the core's state in
// the shapes of Mesos' read-only endpoints (/master/state and its kin)
// and of its v1 operator API. This file holds what they share: what the
// shell tells them of the master, names, times and resources as Mesos
// writes them, and each task's JSON, written once per change.

// MesosVersion is the Mesos release whose APIs apron answers: the
// version /version, GET_VERSION and /master/state report. apron's own
// build is in their git fields.
const MesosVersion = "1.11.0"

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

// packedIP is an IPv4 address as Mesos' MasterInfo.ip holds it: the
// address's bytes in network order read as a little-endian uint32
// (127.0.1.1 is 16842879); 0 for anything else.
func packedIP(host string) uint32 {
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(ip)
}

// mesosRole is a role as Mesos names it: the allocator's "default" is "*".
func mesosRole(r string) string {
	if r == "default" {
		return "*"
	}
	return r
}

// secs is a time as Mesos' endpoints write it: Unix seconds, fractional;
// the zero time is 0.
func secs(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// timeInfo is Mesos' TimeInfo, a time in the v1 API.
type timeInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

func nanos(t time.Time) *timeInfo {
	if t.IsZero() {
		return nil
	}
	return &timeInfo{Nanoseconds: t.UnixNano()}
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

// resource is Mesos' v1 Resource: a scalar, with the role it is
// reserved for ("*" unreserved, as Mesos' endpoints still write it), the
// reservation and, for resources offered or in use, the role they are
// allocated to.
type resource struct {
	Name           string        `json:"name"`
	Type           string        `json:"type"`
	Scalar         api.Scalar    `json:"scalar"`
	Role           string        `json:"role,omitempty"`
	AllocationInfo *roleInfo     `json:"allocation_info,omitempty"`
	Reservations   []reservation `json:"reservations,omitempty"`
}

type roleInfo struct {
	Role string `json:"role"`
}

type reservation struct {
	Type string `json:"type"`
	Role string `json:"role"`
}

// v1Resources writes resources in the v1 form; allocatedTo names the
// role they are offered or allocated to ("": not allocated).
func v1Resources(r allocator.Resources, allocatedTo string) []resource {
	out := make([]resource, 0, len(r))
	for _, e := range r {
		v := resource{Name: e.Name, Type: "SCALAR", Scalar: api.Scalar{Value: e.Value.Float()}, Role: "*"}
		if e.Role != "" {
			v.Role = mesosRole(e.Role)
			v.Reservations = []reservation{{Type: "STATIC", Role: v.Role}}
		}
		if allocatedTo != "" {
			v.AllocationInfo = &roleInfo{Role: mesosRole(allocatedTo)}
		}
		out = append(out, v)
	}
	return out
}

// v1ByRole writes resources allocated to several roles, role by role in
// order.
func v1ByRole(m map[string]allocator.Resources) []resource {
	out := []resource{}
	for _, role := range sortedKeys(m) {
		out = append(out, v1Resources(m[role], role)...)
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
	Name        string     `json:"name"`
	TaskID      api.ID     `json:"task_id"`
	FrameworkID api.ID     `json:"framework_id"`
	AgentID     api.ID     `json:"agent_id"`
	State       string     `json:"state"`
	Resources   []resource `json:"resources,omitempty"`
	Statuses    []v1Status `json:"statuses,omitempty"`
	User        string     `json:"user,omitempty"`
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
		v := modelTask{ID: t.Info.TaskID.Value, Name: t.Info.Name, FrameworkID: t.FrameworkID, SlaveID: t.AgentID, State: t.State,
			Resources: summarise(t.res), Role: mesosRole(t.Role), Statuses: []modelStatus{}, User: t.user()}
		for _, h := range t.statuses() {
			v.Statuses = append(v.Statuses, modelStatus{State: h.State, Timestamp: secs(h.Time)})
		}
		t.mesos[0] = mustJSON(v)
	}
	return t.mesos[0]
}

// v1JSON is the task's v1 Task JSON, written again if the task changed.
func (t *Task) v1JSON() []byte {
	if len(t.mesos[1]) == 0 {
		id, agent := api.ID{Value: t.Info.TaskID.Value}, api.ID{Value: t.AgentID}
		v := v1Task{Name: t.Info.Name, TaskID: id, FrameworkID: api.ID{Value: t.FrameworkID}, AgentID: agent, State: t.State,
			Resources: v1Resources(t.res, t.Role), User: t.user()}
		for _, h := range t.statuses() {
			v.Statuses = append(v.Statuses, v1Status{TaskID: id, State: h.State, Message: h.Message, Reason: mesosReason(h.Reason), AgentID: agent, Timestamp: secs(h.Time)})
		}
		t.mesos[1] = mustJSON(v)
	}
	return t.mesos[1]
}

// mesosReason is a reason as Mesos' TaskStatus.Reason enum can hold it:
// apron's own reasons (their detail is in the message) are left out.
func mesosReason(r string) string {
	if strings.HasPrefix(r, "REASON_") {
		return r
	}
	return ""
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
