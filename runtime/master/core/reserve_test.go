package core

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// dynamic is res reserved dynamically for role by principal, in Mesos'
// format before reservation refinement.
func dynamic(res, role, principal string) []api.Resource {
	out := wire(res)
	for i := range out {
		out[i].Role, out[i].Reservation = role, &api.ReservationInfo{Principal: principal}
	}
	return out
}

func reserveOp(rs []api.Resource) api.Operation {
	return api.Operation{Type: api.OpReserve, ID: &api.ID{Value: "op"}, Reserve: &api.Reserve{Resources: rs}}
}

func unreserveOp(rs []api.Resource) api.Operation {
	return api.Operation{Type: api.OpUnreserve, ID: &api.ID{Value: "op"}, Unreserve: &api.Unreserve{Resources: rs}}
}

// opStatus is the state and message of the last operation status a
// framework got.
func opStatus(t *testing.T, r *rig, fs string) (string, string) {
	t.Helper()
	st := r.events(fs, api.EventUpdateOperationStatus)
	if len(st) == 0 {
		t.Fatal("no operation status")
	}
	s := st[len(st)-1].UpdateOperationStatus.Status
	return s.State, s.Message
}

// web is framework "web" in role web with principal p1, on a rig with an
// ACL that lets p1 reserve for web only.
func webRig(t *testing.T) (r *rig, fw, fs, as, offer string) {
	acls := &auth.ACLs{Permissive: true, Rules: map[string][]auth.Rule{
		auth.ReserveResources:   {{Principals: auth.Entity{Values: []string{"p1"}}, Objects: auth.Entity{Values: []string{"web"}}}, {Principals: auth.Entity{Type: "ANY"}, Objects: auth.Entity{Type: "NONE"}}},
		auth.UnreserveResources: {{Principals: auth.Entity{Values: []string{"p1"}}, Objects: auth.Entity{Values: []string{"p1"}}}, {Principals: auth.Entity{Type: "ANY"}, Objects: auth.Entity{Type: "NONE"}}},
	}}
	r, fw, fs, as, offer = offered(t, Config{Authorizer: acls}, api.FrameworkInfo{Name: "web", Roles: []string{"web"}, Principal: "p1"})
	r.principal = "p1"
	return r, fw, fs, as, offer
}

// A RESERVE, then a LAUNCH on what it reserved, in one ACCEPT: the
// operations apply in order. The rest of the reservation is offered back
// to the role, marked dynamic with its principal.
func TestReserveThenLaunch(t *testing.T) {
	r, fw, fs, _, offer := webRig(t)
	ti := api.TaskInfo{TaskID: api.ID{Value: "t1"}, Name: "t1", Resources: dynamic("cpus:1;mem:256", "web", "p1"), Command: &api.CommandInfo{Value: "true"}}
	_ = r.call(fw, fs, accept(offer, reserveOp(dynamic("cpus:2;mem:1024", "web", "p1")), api.Operation{Type: api.OpLaunch, Launch: &api.Launch{TaskInfos: []api.TaskInfo{ti}}}))
	if state, msg := opStatus(t, r, fs); state != api.OperationFinished {
		t.Fatalf("RESERVE: %s %s", state, msg)
	}
	if tk := r.task(fw, "t1"); tk == nil || tk.Resources != "cpus(web):1;mem(web):256" {
		t.Fatalf("task t1 %+v; want it launched on the reservation", tk)
	}
	if got := r.c.Summary().Agents[0].Reservations; len(got) != 1 || got[0] != (ReservationRecord{Agent: "a1", Role: "web", Principal: "p1", Resources: "cpus:2;mem:1024"}) {
		t.Errorf("/state reservations %+v", got)
	}
	o := nextOffer(r, fs)
	if !allOf(o, "cpus:2;mem:3072;cpus(web):1;mem(web):768") {
		t.Fatalf("the offer after %+v", o.Resources)
	}
	for _, res := range o.Resources {
		if res.Role == "web" && (res.Reservation == nil || res.Reservation.Principal != "p1") {
			t.Errorf("reserved resource %+v is not marked as p1's dynamic reservation", res)
		}
	}
	if err := r.c.CheckBooks(); err != nil {
		t.Fatal(err)
	}
}

// Reserved resources are offered to their role only; UNRESERVE gives
// them back to every role. An UNRESERVE of resources a task uses is
// dropped: they are not in the offer.
func TestReservedOfferedToTheRoleOnly(t *testing.T) {
	r, fw, fs, _, offer := webRig(t)
	_ = r.call(fw, fs, accept(offer, reserveOp(dynamic("cpus:3", "web", "p1")), api.Operation{Type: api.OpLaunch, Launch: &api.Launch{TaskInfos: []api.TaskInfo{
		{TaskID: api.ID{Value: "t1"}, Resources: dynamic("cpus:1", "web", "p1"), Command: &api.CommandInfo{Value: "true"}}}}}))
	bid, bs := r.framework(api.FrameworkInfo{Name: "batch", Roles: []string{"batch"}, Principal: "p1"})
	r.call(fw, fs, api.Call{Type: api.CallSuppress})
	bo := nextOffer(r, bs)
	if !allOf(bo, "cpus:1;mem:4096") {
		t.Fatalf("role batch is offered %v; want the unreserved rest only", bo.Resources)
	}
	refuse := 0.0
	r.call(bid, bs, api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{bo.ID}, Filters: &api.Filters{RefuseSeconds: &refuse}}})
	r.call(bid, bs, api.Call{Type: api.CallSuppress})
	r.call(fw, fs, api.Call{Type: api.CallRevive})
	o := nextOffer(r, fs)
	if !allOf(o, "cpus:1;mem:4096;cpus(web):2") {
		t.Fatalf("role web is offered %v; want the rest and its reservation's free part", o.Resources)
	}
	_ = r.call(fw, fs, accept(o.ID.Value, unreserveOp(dynamic("cpus:3", "web", "p1"))))
	if state, msg := opStatus(t, r, fs); state != api.OperationError || !strings.Contains(msg, "in use by a task") {
		t.Fatalf("UNRESERVE of what a task uses: %s %q; want OPERATION_ERROR", state, msg)
	}
	o = nextOffer(r, fs)
	_ = r.call(fw, fs, accept(o.ID.Value, unreserveOp(dynamic("cpus:2", "web", "p1"))))
	if state, msg := opStatus(t, r, fs); state != api.OperationFinished {
		t.Fatalf("UNRESERVE: %s %q", state, msg)
	}
	if got := r.c.reg.agents["a1"].Total(); !got.Equal(allocator.MustParseResources("cpus:3;mem:4096;cpus(web):1")) {
		t.Errorf("agent total %s; want cpus(web):1 still reserved under the task", got)
	}
	_ = r.status("a1", fw, "t1", TaskFinished, "", "u1")
	r.call(fw, fs, api.Call{Type: api.CallSuppress})
	r.call(bid, bs, api.Call{Type: api.CallRevive})
	if o := nextOffer(r, bs); !allOf(o, "cpus:3;mem:4096") {
		t.Errorf("role batch is offered %v after the UNRESERVE", o.Resources)
	}
	if err := r.c.CheckBooks(); err != nil {
		t.Fatal(err)
	}
}

// A RESERVE or UNRESERVE that is not valid is dropped, OPERATION_ERROR
// saying why, and changes nothing.
func TestReservationRefused(t *testing.T) {
	labelled := dynamic("cpus:1", "web", "p1")
	labelled[0].Reservation.Labels = &api.Labels{Labels: []api.Label{{Key: "k", Value: "v"}}}
	source := reserveOp(dynamic("cpus:1", "web", "p1"))
	source.Reserve.Source = wire("cpus:1")
	tests := []struct {
		name string
		op   api.Operation
		msg  string
	}{
		{"static", reserveOp(func() []api.Resource { r := wire("cpus:1"); r[0].Role = "web"; return r }()), "not dynamically reserved"},
		{"unreserved", reserveOp(wire("cpus:1")), "not dynamically reserved"},
		{"another role", reserveOp(dynamic("cpus:1", "batch", "p1")), "offers are allocated to \"web\""},
		{"another principal", reserveOp(dynamic("cpus:1", "web", "p2")), "names principal \"p2\""},
		{"more than offered", reserveOp(dynamic("cpus:5", "web", "p1")), "more than what is left unreserved"},
		{"labels", reserveOp(labelled), "no reservation labels"},
		{"source", source, "re-reservation"},
		{"empty", reserveOp(nil), "empty"},
		{"unreserve nothing reserved", unreserveOp(dynamic("cpus:1", "web", "p1")), "holds  so reserved"},
		{"unreserve static", unreserveOp(func() []api.Resource { r := wire("cpus:1"); r[0].Role = "web"; return r }()), "only dynamic reservations"},
		{"volume", api.Operation{Type: api.OpCreate, ID: &api.ID{Value: "op"}, Create: json.RawMessage(`{"volumes":[]}`)}, "CREATE is not supported"},
		{"disk", api.Operation{Type: api.OpCreateDisk, ID: &api.ID{Value: "op"}, CreateDisk: json.RawMessage(`{}`)}, "CREATE_DISK is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, fw, fs, _, offer := webRig(t)
			before := len(r.commands)
			if ref := r.call(fw, fs, accept(offer, tt.op)); ref != nil {
				t.Fatal(ref)
			}
			if state, msg := opStatus(t, r, fs); state != api.OperationError || !strings.Contains(msg, tt.msg) {
				t.Errorf("%s %q; want OPERATION_ERROR with %q", state, msg, tt.msg)
			}
			for _, c := range r.commands[before:] {
				t.Errorf("a dropped operation made command %s", c.Op)
			}
			if o := nextOffer(r, fs); !allOf(o, "cpus:4;mem:4096") {
				t.Errorf("the next offer %v; want all of the agent, unreserved", o.Resources)
			}
		})
	}
}

// The ACLs decide who may reserve for a role, and unreserve another
// principal's reservation.
func TestReservationACLs(t *testing.T) {
	acls := &auth.ACLs{Permissive: false, Rules: map[string][]auth.Rule{
		auth.RegisterFrameworks: {{Principals: auth.Entity{Type: "ANY"}, Objects: auth.Entity{Type: "ANY"}}},
		auth.RegisterAgents:     {{Principals: auth.Entity{Type: "ANY"}, Objects: auth.Entity{Type: "ANY"}}},
		auth.ReserveResources:   {{Principals: auth.Entity{Values: []string{"p1"}}, Objects: auth.Entity{Values: []string{"web"}}}},
	}}
	r := newRig(t, Config{Authorizer: acls})
	r.agent("a1", "cpus:4;mem:4096", nil)
	r.principal = "p2"
	fw, fs := r.framework(api.FrameworkInfo{Name: "w2", Roles: []string{"web"}, Principal: "p2"})
	r.advance(time.Millisecond)
	_ = r.call(fw, fs, accept(r.lastOffer(fs).ID.Value, reserveOp(dynamic("cpus:1", "web", "p2"))))
	if state, msg := opStatus(t, r, fs); state != api.OperationError || !strings.Contains(msg, `may not reserve_resources "web"`) {
		t.Fatalf("p2's RESERVE: %s %q; want OPERATION_ERROR naming the ACL", state, msg)
	}
	r.principal = "p1"
	fw1, fs1 := r.framework(api.FrameworkInfo{Name: "w1", Roles: []string{"web"}, Principal: "p1"})
	r.c.alloc.Suppress(allocator.FrameworkID(fw))
	_ = r.call(fw1, fs1, accept(nextOffer(r, fs1).ID.Value, reserveOp(dynamic("cpus:1", "web", "p1"))))
	if state, msg := opStatus(t, r, fs1); state != api.OperationFinished {
		t.Fatalf("p1's RESERVE: %s %q", state, msg)
	}
	r.principal = "p2"
	_ = r.call(fw1, fs1, api.Call{Type: api.CallSuppress})
	_ = r.call(fw, fs, api.Call{Type: api.CallRevive})
	_ = r.call(fw, fs, accept(nextOffer(r, fs).ID.Value, unreserveOp(dynamic("cpus:1", "web", "p1"))))
	if state, msg := opStatus(t, r, fs); state != api.OperationError || !strings.Contains(msg, `may not unreserve_resources "p1"`) {
		t.Fatalf("p2 unreserving p1's reservation: %s %q; want OPERATION_ERROR naming the ACL", state, msg)
	}
}

// Reservations are in the registry: a new leader (from the replicated
// commands) offers them as reserved; an agent that comes back smaller
// keeps what still fits.
func TestReservationsSurviveFailover(t *testing.T) {
	r, fw, fs, _, offer := webRig(t)
	_ = r.call(fw, fs, accept(offer, reserveOp(dynamic("cpus:2;mem:1024", "web", "p1"))))
	c2, err := Recover(Config{}, r.replay(), r.now)
	if err != nil {
		t.Fatal(err)
	}
	r.c = c2
	r.drain()
	r.agent("a1", "cpus:4;mem:4096", nil)
	id, s := r.framework(api.FrameworkInfo{ID: &api.ID{Value: fw}, Name: "web", Roles: []string{"web"}, Principal: "p1", Capabilities: []api.Capability{{Type: api.ReservationRefinement}}})
	if id != fw {
		t.Fatalf("resubscribed as %s", id)
	}
	o := nextOffer(r, s)
	if !allOf(o, "cpus:2;mem:3072;cpus(web):2;mem(web):1024") {
		t.Fatalf("the new leader offers %v", o.Resources)
	}
	for _, res := range o.Resources {
		if len(res.Reservations) == 1 && (res.Reservations[0] != api.ReservationInfo{Type: api.ReservationDynamic, Role: "web", Principal: "p1"}) {
			t.Errorf("with RESERVATION_REFINEMENT: %+v", res)
		}
	}
	r.c.AgentGone(r.now, "s1")
	r.agent("a1", "cpus:1;mem:4096", nil)
	if got := r.c.reg.agents["a1"].reservations(); len(got) != 1 || got[0].Resources != "cpus:1;mem:1024" {
		t.Errorf("reservations of an agent back with cpus:1: %+v; want cpus:1;mem:1024", got)
	}
	if err := r.c.CheckBooks(); err != nil {
		t.Fatal(err)
	}
}

// An offer that cannot be used drops every operation: tasks TASK_DROPPED,
// the others OPERATION_ERROR.
func TestBadOfferDropsOperations(t *testing.T) {
	r, fw, fs, _, _ := webRig(t)
	_ = r.call(fw, fs, accept("apron.O1-999", reserveOp(dynamic("cpus:1", "web", "p1")), groupOp(defaultExecutor("pod"), taskInfo("a", "cpus:1"))))
	if state, msg := opStatus(t, r, fs); state != api.OperationError || !strings.Contains(msg, "not outstanding") {
		t.Errorf("RESERVE on a bad offer: %s %q", state, msg)
	}
	if got, want := r.updates(fs, "a"), lostOrDropped(r.c.reg.frameworks[fw]); len(got) != 1 || got[0] != want {
		t.Errorf("group task on a bad offer: %v; want %s", got, want)
	}
}

// A framework with no principal (a master run --insecure) may name any
// principal in its reservations, as Mesos allows; the reservation is
// recorded under it and unreserved by it.
func TestReserveWithoutFrameworkPrincipal(t *testing.T) {
	r, fw, fs, _, offer := offered(t, Config{}, api.FrameworkInfo{Name: "web", Roles: []string{"web"}})
	_ = r.call(fw, fs, accept(offer, reserveOp(append(dynamic("cpus:1", "web", "x"), dynamic("mem:64", "web", "y")...))))
	if state, msg := opStatus(t, r, fs); state != api.OperationFinished {
		t.Fatalf("RESERVE: %s %q", state, msg)
	}
	got := r.c.reg.agents["a1"].reservations()
	if len(got) != 2 || got[0].Principal != "x" || got[0].Resources != "cpus:1" || got[1].Principal != "y" || got[1].Resources != "mem:64" {
		t.Fatalf("reservations %+v; want cpus:1 by x and mem:64 by y", got)
	}
	o := nextOffer(r, fs)
	_ = r.call(fw, fs, accept(o.ID.Value, unreserveOp(dynamic("cpus:1", "web", "x"))))
	if state, msg := opStatus(t, r, fs); state != api.OperationFinished {
		t.Fatalf("UNRESERVE: %s %q", state, msg)
	}
	if got := r.c.reg.agents["a1"].reservations(); len(got) != 1 || got[0].Principal != "y" {
		t.Errorf("reservations after unreserving x's: %+v", got)
	}
}
