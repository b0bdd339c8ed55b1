package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Actions the ACLs govern, with what their objects are.
const (
	RegisterFrameworks = "register_frameworks" // object: a role the framework subscribes to
	TeardownFrameworks = "teardown_frameworks" // object: the framework's principal
	RegisterAgents     = "register_agents"     // object: the agent's name
	UpdatePolicy       = "update_policy"       // object: what changes: weights, quota, reservations, policy
	KillTasks          = "kill_tasks"          // object: the principal of the task's framework
	AccessSandboxes    = "access_sandboxes"    // object: the principal of the task's framework
	ViewState          = "view_state"          // object: "state", "metrics" or "ui"
	RunTasks           = "run_tasks"           // object: the user a task runs as
	ReserveResources   = "reserve_resources"   // object: the role resources are reserved for
	UnreserveResources = "unreserve_resources" // object: the principal that reserved them (Mesos' reserver_principals)
)

// Actions lists every action, in order.
var Actions = []string{RegisterFrameworks, TeardownFrameworks, RegisterAgents, UpdatePolicy, KillTasks, AccessSandboxes, ViewState, RunTasks,
	ReserveResources, UnreserveResources}

// Entity is the subjects or the objects of a rule: a list of values, or
// one of the types ANY and NONE, as Mesos writes them.
type Entity struct {
	Values []string `json:"values,omitempty"`
	Type   string   `json:"type,omitempty"` // ANY or NONE
}

// Rule says that its principals may do the action on its objects. A rule
// with principals NONE or objects NONE forbids instead: principals NONE
// with objects {root} means no one may act on root; principals {bob}
// with objects NONE means bob may act on nothing.
type Rule struct {
	Principals Entity `json:"principals"`
	Objects    Entity `json:"objects"`
}

// ACLs are the rules of each action, checked in order as Mesos' local
// authorizer does: the first rule whose principals and objects both
// include the request's (NONE includes everything) decides, allowing it
// unless one of them is NONE. When no rule decides, Permissive does
// (Mesos' default is true; apron up writes false).
type ACLs struct {
	Permissive bool              `json:"permissive"`
	Rules      map[string][]Rule `json:"-"`
}

// Decision is the answer to a request, with the rule that gave it.
type Decision struct {
	Allowed bool
	Rule    string // e.g. "acls.register_frameworks[1]", or "acls.permissive"
}

func (d Decision) String() string {
	if d.Allowed {
		return "allowed by " + d.Rule
	}
	return "denied by " + d.Rule
}

// Authorizer decides whether a principal may do an action on an object.
type Authorizer interface {
	Authorize(principal, action, object string) Decision
}

// AllowAll is the authorizer of a cluster that runs --insecure.
type AllowAll struct{}

// Authorize allows everything.
func (AllowAll) Authorize(string, string, string) Decision {
	return Decision{Allowed: true, Rule: "--insecure"}
}

// Authorize checks the rules of action in order.
func (a *ACLs) Authorize(principal, action, object string) Decision {
	for i, r := range a.Rules[action] {
		if r.Principals.matches(principal) && r.Objects.matches(object) {
			allowed := r.Principals.Type != "NONE" && r.Objects.Type != "NONE"
			return Decision{Allowed: allowed, Rule: fmt.Sprintf("acls.%s[%d]", action, i)}
		}
	}
	return Decision{Allowed: a.Permissive, Rule: fmt.Sprintf("acls.permissive (%v: no rule of %s names principal %q and %q)", a.Permissive, action, principal, object)}
}

func (e Entity) matches(x string) bool {
	switch e.Type {
	case "ANY", "NONE":
		return true
	}
	return slices.Contains(e.Values, x)
}

// ParseACLs reads ACLs in JSON, Mesos' form: {"permissive": false,
// "register_frameworks": [{"principals": {...}, "roles": {...}}], ...}.
// Each action's object key may be "objects" or the action's own noun
// (roles, framework_principals, agents, parts, users, endpoints).
func ParseACLs(name string, data []byte) (*ACLs, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %v", name, err)
	}
	a := &ACLs{Permissive: true, Rules: map[string][]Rule{}}
	for key, v := range raw {
		if key == "permissive" {
			if err := json.Unmarshal(v, &a.Permissive); err != nil {
				return nil, fmt.Errorf("%s: permissive: want true or false", name)
			}
			continue
		}
		if !slices.Contains(Actions, key) {
			return nil, fmt.Errorf("%s: unknown key %q; known: permissive, %s", name, key, strings.Join(Actions, ", "))
		}
		rules, err := parseRules(name, key, v)
		if err != nil {
			return nil, err
		}
		a.Rules[key] = rules
	}
	return a, nil
}

// objectKeys are the names each action's objects may go by.
var objectKeys = map[string]string{RegisterFrameworks: "roles", TeardownFrameworks: "framework_principals", RegisterAgents: "agents",
	UpdatePolicy: "parts", KillTasks: "framework_principals", AccessSandboxes: "framework_principals", ViewState: "endpoints", RunTasks: "users",
	ReserveResources: "roles", UnreserveResources: "reserver_principals"}

func parseRules(name, action string, data json.RawMessage) ([]Rule, error) {
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("%s: %s: want a list of rules", name, action)
	}
	rules := make([]Rule, len(raws))
	for i, raw := range raws {
		where := fmt.Sprintf("%s: %s[%d]", name, action, i)
		for k := range raw {
			if k != "principals" && k != "objects" && k != objectKeys[action] {
				return nil, fmt.Errorf("%s: unknown key %q; want principals and %s (or objects)", where, k, objectKeys[action])
			}
		}
		var err error
		if rules[i].Principals, err = parseEntity(where+".principals", raw["principals"]); err != nil {
			return nil, err
		}
		obj := raw["objects"]
		if o, ok := raw[objectKeys[action]]; ok {
			obj = o
		}
		if rules[i].Objects, err = parseEntity(where+"."+objectKeys[action], obj); err != nil {
			return nil, err
		}
	}
	return rules, nil
}

func parseEntity(where string, data json.RawMessage) (Entity, error) {
	var e Entity
	if data == nil {
		return e, fmt.Errorf("%s: missing; want {\"values\": [...]} or {\"type\": \"ANY\"} or {\"type\": \"NONE\"}", where)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("%s: %v; want {\"values\": [...]} or {\"type\": \"ANY\"} or {\"type\": \"NONE\"}", where, err)
	}
	switch {
	case e.Type != "" && len(e.Values) > 0:
		return e, fmt.Errorf("%s: both values and a type; give one", where)
	case e.Type != "" && e.Type != "ANY" && e.Type != "NONE":
		return e, fmt.Errorf("%s: type %q; want ANY or NONE", where, e.Type)
	case e.Type == "" && len(e.Values) == 0:
		return e, fmt.Errorf("%s: no values and no type", where)
	}
	return e, nil
}

// LoadACLs reads an ACL file.
func LoadACLs(path string) (*ACLs, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("acls: %w", err)
	}
	return ParseACLs(path, data)
}

// MarshalJSON writes the ACLs in the form ParseACLs reads.
func (a *ACLs) MarshalJSON() ([]byte, error) {
	out := map[string]any{"permissive": a.Permissive}
	for action, rules := range a.Rules {
		var rs []map[string]Entity
		for _, r := range rules {
			rs = append(rs, map[string]Entity{"principals": r.Principals, objectKeys[action]: r.Objects})
		}
		out[action] = rs
	}
	return json.Marshal(out)
}

// DefaultACLs are the ACLs of a server given credentials and no ACL
// file: the principals of the file may do everything but run tasks as
// root; no one else may do anything.
func DefaultACLs(c *Credentials) *ACLs {
	var who []string
	for _, cr := range c.list {
		who = append(who, cr.Principal)
	}
	them, anything := Entity{Values: who}, Entity{Type: "ANY"}
	a := &ACLs{Rules: map[string][]Rule{}}
	for _, action := range Actions {
		a.Rules[action] = []Rule{{Principals: them, Objects: anything}}
	}
	a.Rules[RunTasks] = []Rule{{Principals: Entity{Type: "NONE"}, Objects: Entity{Values: []string{"root"}}}, {Principals: them, Objects: anything}}
	return a
}
