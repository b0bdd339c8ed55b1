package core

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// Refusal is a call the master refuses: the HTTP status, the field that
// was wrong and what is allowed.
type Refusal struct {
	Code    int
	Field   string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

func (c *Core) refuse(code int, field, format string, args ...any) *Refusal {
	c.stats.Refused++
	return &Refusal{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Subscribe registers a framework, takes back one that failed over (its
// id given), or adopts one this master does not know (after a restart, as
// Mesos' master does), and makes stream its event stream: the first event
// on it is SUBSCRIBED. Offers start for its roles but the suppressed ones.
// The shell must be ready to carry messages for stream before the call.
func (c *Core) Subscribe(now time.Time, stream string, info api.FrameworkInfo, suppressed ...string) (string, *Refusal) {
	c.now = now
	roles, r := c.checkFrameworkInfo("subscribe.framework_info", &info)
	if r == nil {
		suppressed, r = c.checkSuppressed("subscribe.suppressed_roles", suppressed, roles)
	}
	if r != nil {
		return "", r
	}
	for _, role := range roles {
		if r := c.authorize(info.Principal, auth.RegisterFrameworks, mesosRole(role), "subscribe.framework_info.roles"); r != nil {
			return "", r
		}
	}
	f, r := c.frameworkFor(info, roles)
	if r != nil {
		return "", r
	}
	if f.stream != "" {
		c.closeStream(f.stream, &api.Event{Type: api.EventError, Error: &api.Error{Message: "framework resubscribed on another connection"}})
	}
	f.stream, f.disconnected = stream, time.Time{}
	c.streams[stream] = f.ID
	clear(f.suppressed)
	_ = c.alloc.Revive(allocator.FrameworkID(f.ID))
	c.suppress(f, suppressed)
	c.toFw(f, api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: f.ID},
		HeartbeatIntervalSeconds: c.cfg.Heartbeat.Seconds(), MasterInfo: c.masterInfo}})
	c.soon = true
	return f.ID, nil
}

// checkFrameworkInfo checks a subscription's info and returns its roles
// as the allocator names them.
func (c *Core) checkFrameworkInfo(field string, info *api.FrameworkInfo) ([]string, *Refusal) {
	lim := c.cfg.Limits
	for name, v := range map[string]string{"name": info.Name, "user": info.User, "hostname": info.Hostname} {
		if len(v) > lim.MaxName {
			return nil, c.refuse(http.StatusBadRequest, field+"."+name, "%s.%s: %d bytes; at most %d", field, name, len(v), lim.MaxName)
		}
	}
	if info.ID != nil && info.ID.Value != "" {
		if err := api.ValidName(info.ID.Value); err != nil {
			return nil, c.refuse(http.StatusBadRequest, field+".id.value", "%s.id.value: %v", field, err)
		}
	}
	ft := info.FailoverTimeout
	if math.IsNaN(ft) || math.IsInf(ft, 0) || ft < 0 {
		return nil, c.refuse(http.StatusBadRequest, field+".failover_timeout", "%s.failover_timeout %v: want seconds, 0 or more", field, ft)
	}
	info.FailoverTimeout = min(ft, MaxRefuse.Seconds())
	if len(info.Roles) == 0 {
		info.Roles = []string{cmp.Or(info.Role, "*")} // Mesos' single role, before MULTI_ROLE
	}
	if len(info.Roles) > lim.MaxRoles || len(info.Capabilities) > lim.MaxRoles {
		return nil, c.refuse(http.StatusBadRequest, field+".roles", "%s: %d roles and %d capabilities; at most %d of each", field, len(info.Roles), len(info.Capabilities), lim.MaxRoles)
	}
	if r := c.checkMesosInfo(field, info); r != nil {
		return nil, r
	}
	roles := make([]string, len(info.Roles))
	for i, role := range info.Roles {
		if err := allocator.ValidateRole(role); err != nil && role != "*" {
			return nil, c.refuse(http.StatusBadRequest, fmt.Sprintf("%s.roles[%d]", field, i), "%v", err)
		}
		roles[i] = wireRole(role)
	}
	slices.Sort(roles)
	if len(slices.Compact(roles)) != len(info.Roles) {
		return nil, c.refuse(http.StatusBadRequest, field+".roles", "%s.roles %v: a role is named twice", field, info.Roles)
	}
	return roles, nil
}

// frameworkFor finds or adds the framework a subscription is for.
func (c *Core) frameworkFor(info api.FrameworkInfo, roles []string) (*Framework, *Refusal) {
	if info.ID != nil && info.ID.Value != "" {
		id := info.ID.Value
		if f := c.reg.frameworks[id]; f != nil {
			if r := c.owns(info.Principal, f.Info.Principal, "framework "+id, "subscribe.framework_info.id"); r != nil {
				return nil, r
			}
			// As Mesos takes a resubscription: the new info, but the
			// user and checkpoint of the old.
			info.User, info.Checkpoint = f.Info.User, f.Info.Checkpoint
			if r := c.updateFramework(f, info, roles, "subscribe.framework_info.roles"); r != nil {
				return nil, r
			}
			return f, nil
		}
		for _, g := range c.reg.gone {
			if g.ID == id {
				return nil, c.refuse(http.StatusNotFound, "subscribe.framework_info.id", "framework %s was removed (%s); subscribe without an id", id, g.Why)
			}
		}
		if !c.issuedTo(id, info.Principal) {
			return nil, c.refuse(http.StatusForbidden, "subscribe.framework_info.id", "framework id %.64q was not issued to principal %q (its last part is the cluster's MAC of the principal and the rest of the id)", id, info.Principal)
		}
		return c.addFramework(id, info, roles)
	}
	return c.addFramework(c.issue(fmt.Sprintf("%s-%04d", c.cfg.ID, c.reg.nextFw+1), info.Principal), info, roles)
}

// issue makes a new framework id that proves which principal it was
// issued to: with Config.IDKey, base is followed by a MAC of the
// principal and base. A master that restarted with no memory of the
// framework can tell its owner from someone who read the id in /state.
func (c *Core) issue(base, principal string) string {
	if len(c.cfg.IDKey) == 0 {
		return base
	}
	return base + "-" + idMAC(c.cfg.IDKey, base, principal)
}

// issuedTo says whether the master may take a subscription of principal
// with an id it does not know: with no IDKey anyone may; with one, the
// id must have been issued to the principal.
func (c *Core) issuedTo(id, principal string) bool {
	if len(c.cfg.IDKey) == 0 {
		return true
	}
	i := strings.LastIndexByte(id, '-')
	return i > 0 && hmac.Equal([]byte(id[i+1:]), []byte(idMAC(c.cfg.IDKey, id[:i], principal)))
}

func idMAC(key []byte, base, principal string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(principal + "\x00" + base))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// addFramework adds a framework to the registry and the allocator.
func (c *Core) addFramework(id string, info api.FrameworkInfo, roles []string) (*Framework, *Refusal) {
	if len(c.reg.frameworks) >= c.cfg.Limits.MaxFrameworks {
		return nil, c.refuse(http.StatusServiceUnavailable, "", "this master holds %d frameworks, its limit (--max-frameworks)", len(c.reg.frameworks))
	}
	if c.reg.frameworks[id] != nil {
		id = fmt.Sprintf("%s-%d", id, c.reg.nextFw+1) // a recovered framework took the id
	}
	if err := c.alloc.AddFramework(allocator.FrameworkID(id), roles...); err != nil {
		return nil, c.refuse(http.StatusBadRequest, "subscribe.framework_info.roles", "%v", err)
	}
	info.ID = &api.ID{Value: id}
	c.apply(Command{Op: OpAddFramework, Framework: &FrameworkRecord{ID: id, Info: info, Roles: roles, Registered: c.now}})
	return c.reg.frameworks[id], nil
}

// wireRole maps Mesos' "*" (the default role) to the allocator's name for
// it; mesosRole maps it back, at the edge.
func wireRole(r string) string {
	if r == "*" {
		return "default"
	}
	return r
}

func mesosRole(r string) string {
	if r == "default" {
		return "*"
	}
	return r
}

func failoverTimeout(f *Framework) time.Duration {
	return time.Duration(f.Info.FailoverTimeout * float64(time.Second))
}

// FrameworkGone tells the core a framework's event stream ended (the
// client went away, or the shell closed it): the framework's offers are
// rescinded and it gets no more until it resubscribes, within its
// failover timeout, or it is torn down.
func (c *Core) FrameworkGone(now time.Time, stream string) {
	c.now = now
	id, ok := c.streams[stream]
	if !ok {
		return
	}
	delete(c.streams, stream)
	f := c.reg.frameworks[id]
	if f == nil || f.stream != stream {
		return
	}
	f.stream, f.disconnected = "", now
	_ = c.alloc.Suppress(allocator.FrameworkID(f.ID))
	c.rescindAll(f)
	if failoverTimeout(f) <= 0 {
		c.teardown(f, "disconnected with no failover timeout")
	}
}

func (c *Core) rescindAll(f *Framework) {
	for _, o := range c.alloc.Offers() {
		if string(o.Framework) == f.ID {
			_ = c.alloc.Rescind(o.ID)
		}
	}
}

// teardown removes a framework: its tasks are killed and their resources
// freed.
func (c *Core) teardown(f *Framework, why string) {
	for _, id := range sortedKeys(f.Tasks) {
		t := f.Tasks[id]
		if Terminal(t.State) {
			continue
		}
		c.toAgent(c.reg.agents[t.AgentID], api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: f.ID, TaskID: id}})
		c.setTask(t, Ref{State: TaskKilled, Reason: api.ReasonFrameworkRemoved, Message: why}, false)
	}
	_ = c.alloc.RemoveFramework(allocator.FrameworkID(f.ID))
	if f.stream != "" {
		c.closeStream(f.stream, nil)
		f.stream = ""
	}
	c.apply(Command{Op: OpRemoveFramework, Ref: Ref{Framework: f.ID, Message: why}})
}

// failovers tears down frameworks disconnected past their failover timeout.
func (c *Core) failovers() {
	for _, id := range sortedKeys(c.reg.frameworks) {
		f := c.reg.frameworks[id]
		if f.stream == "" && c.now.Sub(f.disconnected) >= failoverTimeout(f) {
			c.teardown(f, "failover timeout passed")
		}
	}
}

// Call runs one call of a subscribed framework, from principal; stream is
// the stream id the call presents. A refused call changes nothing. The
// statuses are Mesos': 400 for a framework the master does not have and
// for a stream id that is missing or not the subscription's, 403 for a
// framework that is not connected (and, apron's, for another principal's
// framework).
func (c *Core) Call(now time.Time, stream, principal string, call *api.Call) *Refusal {
	c.now = now
	if call.FrameworkID == nil || call.FrameworkID.Value == "" {
		return c.refuse(http.StatusBadRequest, "framework_id", "framework_id is required for a %s call", call.Type)
	}
	f := c.reg.frameworks[call.FrameworkID.Value]
	if f == nil {
		return c.refuse(http.StatusBadRequest, "framework_id", "framework %.64q cannot be found: it never subscribed, or it was torn down", call.FrameworkID.Value)
	}
	if r := c.owns(principal, f.Info.Principal, "framework "+f.ID, "framework_id"); r != nil {
		return r
	}
	switch {
	case f.stream == "":
		return c.refuse(http.StatusForbidden, "framework_id", "framework %s is not subscribed: its stream is closed; subscribe again with its id", f.ID)
	case stream == "":
		return c.refuse(http.StatusBadRequest, api.StreamIDHeader, "a %s call needs the Mesos-Stream-Id header (or %s) its SUBSCRIBE was answered with", call.Type, api.StreamIDHeader)
	case stream != f.stream:
		return c.refuse(http.StatusBadRequest, api.StreamIDHeader, "the stream id %.64q is not framework %s's current subscription's", stream, f.ID)
	}
	return c.dispatch(f, call)
}

// Teardown removes a framework at an operator's request: its own
// principal may, others need teardown_frameworks for it.
func (c *Core) Teardown(now time.Time, principal, id string) *Refusal {
	c.now = now
	f := c.reg.frameworks[id]
	if f == nil {
		return c.refuse(http.StatusNotFound, "framework_id", "framework %.64q is not subscribed (it never was, or it was torn down)", id)
	}
	if principal != f.Info.Principal {
		if r := c.authorize(principal, auth.TeardownFrameworks, f.Info.Principal, "framework_id"); r != nil {
			return r
		}
	}
	c.teardown(f, "torn down by principal "+principal)
	return nil
}
