package core

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// The calls apron answers as Mesos answers one it cannot serve: checked,
// then taken (202) with nothing to do, or refused 400 naming what is
// missing.
func TestCallsMesosCannotServeHere(t *testing.T) {
	r := newRig(t, Config{})
	r.agent("a1", "cpus:2;mem:2048", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
	uuid := uid("op-status")
	tests := []struct {
		name  string
		call  api.Call
		field string // "" for taken
	}{
		{"shutdown", api.Call{Type: api.CallShutdown, Shutdown: &api.Shutdown{ExecutorID: api.ID{Value: "e"}, AgentID: api.ID{Value: "a1"}}}, ""},
		{"shutdown without executor", api.Call{Type: api.CallShutdown, Shutdown: &api.Shutdown{AgentID: api.ID{Value: "a1"}}}, api.CallShutdown},
		{"message", api.Call{Type: api.CallMessage, Message: &api.Message{ExecutorID: api.ID{Value: "e"}, AgentID: api.ID{Value: "a1"}, Data: []byte("x")}}, ""},
		{"message without object", api.Call{Type: api.CallMessage}, api.CallMessage},
		{"request", api.Call{Type: api.CallRequest, Request: &api.RequestCall{}}, ""},
		{"request without object", api.Call{Type: api.CallRequest}, api.CallRequest},
		{"accept inverse offers", api.Call{Type: api.CallAcceptInverseOffers, AcceptInverseOffers: &api.InverseOffersCall{InverseOfferIDs: []api.ID{{Value: "i"}}}}, ""},
		{"decline inverse offers", api.Call{Type: api.CallDeclineInverseOffers, DeclineInverseOffers: &api.InverseOffersCall{}}, ""},
		{"decline inverse offers without object", api.Call{Type: api.CallDeclineInverseOffers}, api.CallDeclineInverseOffers},
		{"acknowledge operation status", api.Call{Type: api.CallAcknowledgeOperationStatus, AcknowledgeOperationStatus: &api.AcknowledgeOperationStatus{
			AgentID: &api.ID{Value: "a1"}, UUID: uuid, OperationID: api.ID{Value: "op"}}}, ""},
		{"acknowledge operation status, short uuid", api.Call{Type: api.CallAcknowledgeOperationStatus, AcknowledgeOperationStatus: &api.AcknowledgeOperationStatus{
			AgentID: &api.ID{Value: "a1"}, UUID: "x", OperationID: api.ID{Value: "op"}}}, "acknowledge_operation_status.uuid"},
		{"acknowledge operation status without agent", api.Call{Type: api.CallAcknowledgeOperationStatus, AcknowledgeOperationStatus: &api.AcknowledgeOperationStatus{
			UUID: uuid, OperationID: api.ID{Value: "op"}}}, "acknowledge_operation_status.agent_id"},
		{"acknowledge with a short uuid", api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: "t"}, UUID: "u1"}}, "acknowledge.uuid"},
		{"reconcile without object", api.Call{Type: api.CallReconcile}, "reconcile"},
		{"subscribe as a call", api.Call{Type: api.CallSubscribe}, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(r.commands)
			ref := r.call(fw, fs, tt.call)
			switch {
			case tt.field == "" && ref != nil:
				t.Errorf("refused: %v", ref)
			case tt.field != "" && (ref == nil || ref.Code != http.StatusBadRequest || ref.Field != tt.field):
				t.Errorf("got %+v, want 400 on %s", ref, tt.field)
			case len(r.commands) != before:
				t.Errorf("the registry changed: %v", r.commands[before:])
			}
		})
	}
}

// RECONCILE_OPERATIONS answers each operation named, by what the master
// knows of its agent, as Mesos' master answers for an operation it does
// not know.
func TestReconcileOperations(t *testing.T) {
	r := newRig(t, Config{AgentTimeout: time.Second, UnreachableTimeout: time.Hour})
	r.agent("a1", "cpus:2;mem:2048", nil)
	as := r.agent("a2", "cpus:2;mem:2048", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
	r.c.AgentGone(r.now, as)
	r.advance(2 * time.Second) // a2 misses its heartbeats; a1 ...
	r.agent("a1", "cpus:2;mem:2048", nil)
	ops := []api.ReconcileOperation{{OperationID: api.ID{Value: "o1"}, AgentID: &api.ID{Value: "a1"}},
		{OperationID: api.ID{Value: "o2"}, AgentID: &api.ID{Value: "a2"}}, {OperationID: api.ID{Value: "o3"}}, {OperationID: api.ID{Value: "o4"}, AgentID: &api.ID{Value: "nope"}}}
	if ref := r.call(fw, fs, api.Call{Type: api.CallReconcileOperations, ReconcileOperations: &api.ReconcileOperations{Operations: ops}}); ref != nil {
		t.Fatal(ref)
	}
	want := map[string]string{"o1": "OPERATION_UNKNOWN", "o2": "OPERATION_UNREACHABLE", "o3": "OPERATION_UNKNOWN", "o4": "OPERATION_UNKNOWN"}
	evs := r.events(fs, api.EventUpdateOperationStatus)
	if len(evs) != len(want) {
		t.Fatalf("%d UPDATE_OPERATION_STATUS, want %d", len(evs), len(want))
	}
	for _, e := range evs {
		st := e.UpdateOperationStatus.Status
		if w := want[st.OperationID.Value]; st.State != w {
			t.Errorf("operation %s: %s, want %s", st.OperationID.Value, st.State, w)
		}
	}
	if ref := r.call(fw, fs, api.Call{Type: api.CallReconcileOperations}); ref == nil || ref.Field != "reconcile_operations" {
		t.Errorf("RECONCILE_OPERATIONS without its object: %+v", ref)
	}
}

// REVIVE and SUPPRESS speak Mesos' "*"; one that names a role the
// framework does not have is dropped whole, as Mesos drops it.
func TestReviveAndSuppressRoles(t *testing.T) {
	r := newRig(t, Config{})
	r.agent("a1", "cpus:2;mem:2048", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f", Roles: []string{"*", "web"}})
	offers := func() int { return len(r.events(fs, api.EventOffers)) }
	for _, tt := range []struct {
		call       api.Call
		suppressed map[string]bool
		dropped    bool
	}{
		{api.Call{Type: api.CallSuppress, Suppress: &api.Roles{Roles: []string{"*"}}}, map[string]bool{"default": true, "web": false}, false},
		{api.Call{Type: api.CallSuppress, Suppress: &api.Roles{Roles: []string{"web", "nope"}}}, map[string]bool{"default": true, "web": false}, true},
		{api.Call{Type: api.CallSuppress, Suppress: &api.Roles{}}, map[string]bool{"default": true, "web": true}, false},
		{api.Call{Type: api.CallRevive, Revive: &api.Roles{Roles: []string{"*"}}}, map[string]bool{"default": false, "web": true}, false},
		{api.Call{Type: api.CallRevive}, map[string]bool{"default": false, "web": false}, false},
	} {
		before := r.c.stats.CallsDropped
		if ref := r.call(fw, fs, tt.call); ref != nil {
			t.Fatalf("%s %v: %v", tt.call.Type, tt.call, ref)
		}
		f := r.c.reg.frameworks[fw]
		for role, want := range tt.suppressed {
			if f.suppressed[role] != want {
				t.Errorf("after %s %+v: role %s suppressed %v, want %v", tt.call.Type, tt.call.Suppress, role, f.suppressed[role], want)
			}
		}
		if dropped := r.c.stats.CallsDropped > before; dropped != tt.dropped {
			t.Errorf("%s %+v: dropped %v, want %v", tt.call.Type, tt.call.Suppress, dropped, tt.dropped)
		}
	}
	n := offers()
	r.advance(time.Second)
	if offers() == n {
		t.Error("no offer after REVIVE")
	}
}

// Offers are Mesos': allocated to the role by Mesos' name, "*", on the
// offer and each resource; attributes as Attribute objects.
func TestOffersAsMesosSendsThem(t *testing.T) {
	r := newRig(t, Config{})
	sub := &api.AgentSubscribe{Name: "a1", Hostname: "box", Resources: api.FromResources(allocator.MustParseResources("cpus:2;mem:2048")),
		Attributes: map[string]string{"rack": "r1", "zone": "3"}}
	if ref := r.c.AgentSubscribe(r.now, r.stream(), "", sub); ref != nil {
		t.Fatal(ref)
	}
	r.drain()
	_, fs := r.framework(api.FrameworkInfo{Name: "f"})
	r.advance(time.Millisecond)
	o := r.lastOffer(fs)
	b, _ := json.Marshal(o)
	for _, want := range []string{`"allocation_info":{"role":"*"}`, `"role":"*"`, `{"name":"rack","type":"TEXT","text":{"value":"r1"}}`,
		`{"name":"zone","type":"SCALAR","scalar":{"value":3}}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("offer %s: no %s", b, want)
		}
	}
	if strings.Contains(string(b), "default") {
		t.Errorf("offer %s names the allocator's role", b)
	}
}

// A task is refused (TASK_ERROR) for each thing it asks that apron's
// agents do not do, with Mesos' reason and a message naming the field.
func TestTasksAskingWhatApronDoesNotDo(t *testing.T) {
	raw := json.RawMessage(`{"x":1}`)
	no := false
	tests := []struct {
		name   string
		edit   func(*api.TaskInfo)
		says   string
		reason string
	}{
		{"executor", func(ti *api.TaskInfo) {
			ti.Executor = &api.ExecutorInfo{Type: api.ExecutorCustom, ExecutorID: api.ID{Value: "e"}}
		}, ".executor:", api.ReasonTaskInvalid},
		{"container", func(ti *api.TaskInfo) { ti.Container = raw }, ".container:", api.ReasonTaskInvalid},
		{"health check", func(ti *api.TaskInfo) { ti.HealthCheck = raw }, ".health_check:", api.ReasonTaskInvalid},
		{"check", func(ti *api.TaskInfo) { ti.Check = raw }, ".check:", api.ReasonTaskInvalid},
		{"max completion time", func(ti *api.TaskInfo) { ti.MaxCompletionTime = &api.DurationInfo{Nanoseconds: 1} }, ".max_completion_time:", api.ReasonTaskInvalid},
		{"limits", func(ti *api.TaskInfo) { ti.Limits = map[string]json.RawMessage{"cpus": json.RawMessage(`"Infinity"`)} }, ".limits:", api.ReasonTaskInvalid},
		{"uris", func(ti *api.TaskInfo) { ti.Command.URIs = json.RawMessage(`[{"value":"http://x"}]`) }, ".command.uris:", api.ReasonTaskInvalid},
		{"secret", func(ti *api.TaskInfo) {
			ti.Command.Environment = &api.Environment{Variables: []api.EnvVariable{{Name: "A", Type: "SECRET", Secret: raw}}}
		}, "SECRET", api.ReasonTaskInvalid},
		{"no executable", func(ti *api.TaskInfo) { ti.Command = &api.CommandInfo{Shell: &no, Arguments: []string{"ls"}} }, ".command.value: empty", api.ReasonTaskInvalid},
		{"ranges", func(ti *api.TaskInfo) {
			ti.Resources = append(ti.Resources, api.Resource{Name: "ports", Type: api.ValueRanges, Ranges: &api.Ranges{Range: []api.Range{{Begin: 1, End: 2}}}})
		}, "apron has only SCALAR", api.ReasonTaskInvalid},
		{"a disk", func(ti *api.TaskInfo) { ti.Resources[0].Disk = raw }, ".disk:", api.ReasonTaskInvalid},
		{"another role's allocation", func(ti *api.TaskInfo) { ti.Resources[0].AllocationInfo = &api.AllocationInfo{Role: "web"} },
			"allocation_info.role", api.ReasonTaskInvalid},
		{"too long a grace", func(ti *api.TaskInfo) {
			ti.KillPolicy = &api.KillPolicy{GracePeriod: &api.DurationInfo{Nanoseconds: int64(2 * time.Hour)}}
		}, "kill_policy.grace_period", api.ReasonTaskInvalid},
		{"root, which the ACLs deny", func(ti *api.TaskInfo) { ti.Command.User = "root" }, "run_tasks", api.ReasonTaskUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Config{Authorizer: auth.DefaultACLs(auth.NewCredentials(auth.Credential{Principal: "p", Secret: "0123456789abcdef"}))})
			r.principal = "p"
			r.agent("a1", "cpus:2;mem:2048", nil)
			fw, fs := r.framework(api.FrameworkInfo{Name: "f", Principal: "p"})
			r.advance(time.Millisecond)
			ti := taskInfo("t1", "cpus:1;mem:128")
			tt.edit(&ti)
			if ref := r.call(fw, fs, launchCall([]string{r.lastOffer(fs).ID.Value}, ti)); ref != nil {
				t.Fatal(ref)
			}
			evs := r.events(fs, api.EventUpdate)
			if len(evs) != 1 {
				t.Fatalf("%d updates, want TASK_ERROR", len(evs))
			}
			s := evs[0].Update.Status
			if s.State != TaskError || s.Reason != tt.reason || !strings.Contains(s.Message, tt.says) {
				t.Errorf("%s %s %q; want TASK_ERROR %s saying %q", s.State, s.Reason, s.Message, tt.reason, tt.says)
			}
		})
	}
}

// A task Mesos' way, with what apron does: a command with no shell, its
// arguments, labels, a kill policy, resources allocated to the offer's
// role in either form of reservation; its data is not kept.
func TestTaskMesosWay(t *testing.T) {
	r := newRig(t, Config{})
	as := r.agent("a1", "cpus:2;mem:2048", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
	r.advance(time.Millisecond)
	no := false
	ti := taskInfo("t1", "cpus:1;mem:128")
	ti.Command = &api.CommandInfo{Shell: &no, Value: "/bin/echo", Arguments: []string{"echo", "hi"}}
	ti.Labels = &api.Labels{Labels: []api.Label{{Key: "k", Value: "v"}}}
	ti.KillPolicy = &api.KillPolicy{GracePeriod: &api.DurationInfo{Nanoseconds: int64(time.Second)}}
	ti.Data = []byte("opaque")
	for i := range ti.Resources {
		ti.Resources[i].AllocationInfo = &api.AllocationInfo{Role: "*"}
		ti.Resources[i].Role = "*"
	}
	if ref := r.call(fw, fs, launchCall([]string{r.lastOffer(fs).ID.Value}, ti)); ref != nil {
		t.Fatal(ref)
	}
	if evs := r.events(fs, api.EventUpdate); len(evs) != 0 {
		t.Fatalf("refused: %+v", evs[0].Update.Status)
	}
	l := r.agentEvents(as, api.AgentEventLaunch)
	if len(l) != 1 {
		t.Fatalf("%d launches", len(l))
	}
	got := l[0].Launch.Task
	if got.Command.IsShell() || len(got.Command.Arguments) != 2 || got.Data != nil || got.KillPolicy == nil {
		t.Errorf("launched %+v", got)
	}
	if v, _ := r.task(fw, "t1").Info.Labels.Get("k"); v != "v" {
		t.Errorf("labels not kept: %+v", r.task(fw, "t1").Info.Labels)
	}
}

// UPDATE_FRAMEWORK changes what a resubscription may change, as Mesos
// does: name, roles (new ones offered to, one dropped once its tasks have
// ended), suppressed roles; never the principal, user or checkpoint.
func TestUpdateFramework(t *testing.T) {
	r := newRig(t, Config{})
	r.agent("a1", "cpus:4;mem:4096", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f", User: "u", Roles: []string{"*"}})
	r.advance(time.Millisecond)
	id := &api.ID{Value: fw}
	upd := func(info api.FrameworkInfo, suppressed ...string) *Refusal {
		return r.call(fw, fs, api.Call{Type: api.CallUpdateFramework, UpdateFramework: &api.UpdateFramework{FrameworkInfo: info, SuppressedRoles: suppressed}})
	}
	if ref := r.call(fw, fs, launchCall([]string{r.lastOffer(fs).ID.Value}, taskInfo("t1", "cpus:1;mem:128"))); ref != nil {
		t.Fatal(ref)
	}
	for _, tt := range []struct {
		name  string
		info  api.FrameworkInfo
		field string
	}{
		{"no id", api.FrameworkInfo{Name: "g", User: "u"}, "update_framework.framework_info.id"},
		{"another user", api.FrameworkInfo{ID: id, Name: "g", User: "v"}, "update_framework.framework_info.user"},
		{"another principal", api.FrameworkInfo{ID: id, Name: "g", User: "u", Principal: "eve"}, "update_framework.framework_info.principal"},
		{"dropping the role of a running task", api.FrameworkInfo{ID: id, Name: "g", User: "u", Roles: []string{"web"}}, "update_framework.framework_info.roles"},
		{"offer filters", api.FrameworkInfo{ID: id, Name: "g", User: "u", OfferFilters: map[string]json.RawMessage{"*": json.RawMessage(`{}`)}},
			"update_framework.framework_info.offer_filters"},
	} {
		if ref := upd(tt.info); ref == nil || ref.Code != http.StatusBadRequest || ref.Field != tt.field {
			t.Errorf("%s: %+v, want 400 on %s", tt.name, ref, tt.field)
		}
	}
	if ref := upd(api.FrameworkInfo{ID: id, Name: "renamed", User: "u", Roles: []string{"*", "web"}}, "*"); ref != nil {
		t.Fatal(ref)
	}
	f := r.c.reg.frameworks[fw]
	if f.Info.Name != "renamed" || len(f.Roles) != 2 || !f.suppressed["default"] || f.suppressed["web"] {
		t.Errorf("after the update: name %s roles %v suppressed %v", f.Info.Name, f.Roles, f.suppressed)
	}
	if !r.used("a1").Equal(allocator.MustParseResources("cpus:1;mem:128")) {
		t.Errorf("the running task's resources: %s charged", r.used("a1"))
	}
	r.advance(time.Second)
	if o := r.lastOffer(fs); o.Role() != "web" {
		t.Errorf("offer to %s, want web (\"*\" is suppressed)", o.Role())
	}
}

// Suppressed roles given at SUBSCRIBE get no offers; Mesos' single role
// is taken when roles is empty.
func TestSubscribeSuppressedAndSingleRole(t *testing.T) {
	r := newRig(t, Config{})
	r.agent("a1", "cpus:2;mem:2048", nil)
	s := r.stream()
	fw, ref := r.c.Subscribe(r.now, s, api.FrameworkInfo{Name: "f", Role: "web"}, "web")
	r.drain()
	if ref != nil {
		t.Fatal(ref)
	}
	if f := r.c.reg.frameworks[fw]; len(f.Roles) != 1 || f.Roles[0] != "web" {
		t.Errorf("roles %v, want [web]", f.Roles)
	}
	r.advance(time.Second)
	if n := len(r.events(s, api.EventOffers)); n != 0 {
		t.Errorf("%d offers to a suppressed role", n)
	}
	if _, ref := r.c.Subscribe(r.now, r.stream(), api.FrameworkInfo{Name: "g"}, "web"); ref == nil || ref.Field != "subscribe.suppressed_roles[0]" {
		t.Errorf("suppressing a role not subscribed: %+v", ref)
	}
}

// The statuses of an unreachable agent's tasks say when it became
// unreachable, with Mesos' reason; a kill naming another agent is
// dropped.
func TestUnreachableTimeAndKillAgent(t *testing.T) {
	r, fw, fs, _ := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	if ref := r.call(fw, fs, api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "t1"}, AgentID: &api.ID{Value: "a2"}}}); ref != nil {
		t.Fatal(ref)
	}
	if r.task(fw, "t1").KillAsked {
		t.Error("a kill naming another agent was taken")
	}
	r.advance(2 * time.Minute)
	evs := r.events(fs, api.EventUpdate)
	s := evs[len(evs)-1].Update.Status
	if s.State != TaskLost || s.Reason != api.ReasonAgentRemoved || s.UnreachableTime == nil || s.UnreachableTime.Nanoseconds <= 0 {
		t.Errorf("after the agent's timeout: %+v", s)
	}
}
