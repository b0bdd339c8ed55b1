package core

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// testACLs: alice and bob run frameworks (bob only in role "batch"),
// agent-1 registers agent a1, ops tears down anyone's frameworks and
// changes weights but not the policy; no one runs tasks as root.
func testACLs(t *testing.T) *auth.ACLs {
	t.Helper()
	a, err := auth.ParseACLs("acls.json", []byte(`{
	  "permissive": false,
	  "register_frameworks": [
	    {"principals": {"values": ["alice"]}, "roles": {"type": "ANY"}},
	    {"principals": {"values": ["bob"]}, "roles": {"values": ["batch"]}}],
	  "register_agents": [{"principals": {"values": ["agent-1"]}, "agents": {"values": ["a1"]}}],
	  "teardown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}],
	  "update_policy": [{"principals": {"values": ["ops"]}, "parts": {"values": ["weights"]}}],
	  "run_tasks": [
	    {"principals": {"type": "NONE"}, "users": {"values": ["root"]}},
	    {"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// secureRig has agent a1 (registered by agent-1) and alice's framework,
// with an offer outstanding.
func secureRig(t *testing.T) (r *rig, fw, stream string) {
	r = newRig(t, Config{Authorizer: testACLs(t)})
	r.principal = "agent-1"
	r.agent("a1", "cpus:4;mem:4096", nil)
	fw, stream = r.framework(api.FrameworkInfo{Name: "f", Principal: "alice", User: "alice"})
	r.advance(time.Millisecond)
	return r, fw, stream
}

func wantDenied(t *testing.T, ref *Refusal, field string) {
	t.Helper()
	if ref == nil || ref.Code != http.StatusForbidden || ref.Field != field {
		t.Fatalf("got %+v; want 403 on field %s", ref, field)
	}
}

func TestAuthorization(t *testing.T) {
	t.Run("a framework's calls come from its principal", func(t *testing.T) {
		r, fw, fs := secureRig(t)
		r.principal = "mallory"
		wantDenied(t, r.call(fw, fs, api.Call{Type: api.CallTeardown}), "framework_id")
		if r.c.reg.frameworks[fw] == nil {
			t.Fatal("mallory tore down alice's framework")
		}
		r.principal = "alice"
		if ref := r.call(fw, fs, api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{r.lastOffer(fs).ID}}}); ref != nil {
			t.Fatalf("alice's own call: %v", ref)
		}
	})
	t.Run("resubscribing takes over only one's own framework", func(t *testing.T) {
		r, fw, _ := secureRig(t)
		_, ref := r.c.Subscribe(r.now, "hijack", api.FrameworkInfo{ID: &api.ID{Value: fw}, Name: "f", Principal: "bob", Roles: []string{"batch"}})
		wantDenied(t, ref, "subscribe.framework_info.id")
	})
	t.Run("register_frameworks per role", func(t *testing.T) {
		r := newRig(t, Config{Authorizer: testACLs(t)})
		if _, ref := r.c.Subscribe(r.now, "s", api.FrameworkInfo{Name: "b", Principal: "bob", Roles: []string{"batch"}}); ref != nil {
			t.Fatalf("bob in batch: %v", ref)
		}
		_, ref := r.c.Subscribe(r.now, "s2", api.FrameworkInfo{Name: "b2", Principal: "bob", Roles: []string{"batch", "prod"}})
		wantDenied(t, ref, "subscribe.framework_info.roles")
		if !strings.Contains(ref.Message, "acls.permissive") {
			t.Errorf("the refusal does not name the rule: %s", ref.Message)
		}
	})
	t.Run("an agent is registered and reported on by its principal only", func(t *testing.T) {
		r, fw, _ := secureRig(t)
		r.principal = "mallory"
		sub := &api.AgentSubscribe{Name: "a1", Hostname: "a1", Resources: api.FromResources(allocator.MustParseResources("cpus:64;mem:65536")), Incarnation: 9}
		wantDenied(t, r.c.AgentSubscribe(r.now, "fake", "mallory", sub), "subscribe.name")
		wantDenied(t, r.c.AgentSubscribe(r.now, "fake", "agent-1", &api.AgentSubscribe{Name: "a2", Hostname: "a2", Resources: sub.Resources}), "subscribe.name")
		wantDenied(t, r.status("a1", fw, "t", TaskFinished, "", "u1"), "agent_id")
	})
	t.Run("no task runs as root", func(t *testing.T) {
		r, fw, fs := secureRig(t)
		ti := taskInfo("t", "cpus:1;mem:128")
		ti.Command.User = "root"
		r.principal = "alice"
		_ = r.call(fw, fs, launchCall([]string{r.lastOffer(fs).ID.Value}, ti))
		if got := r.updates(fs, "t"); len(got) != 1 || got[0] != TaskError {
			t.Fatalf("a task as root: %v, want TASK_ERROR", got)
		}
		if u := r.used("a1"); !u.IsEmpty() {
			t.Errorf("used %s after a refused task", u)
		}
	})
	t.Run("operator teardown needs teardown_frameworks", func(t *testing.T) {
		r, fw, _ := secureRig(t)
		wantDenied(t, r.c.Teardown(r.now, "bob", fw), "framework_id")
		if ref := r.c.Teardown(r.now, "ops", fw); ref != nil {
			t.Fatalf("ops: %v", ref)
		}
		if r.c.reg.frameworks[fw] != nil {
			t.Fatal("still subscribed after the operator's teardown")
		}
	})
	t.Run("update_policy per part changed", func(t *testing.T) {
		r, _, _ := secureRig(t)
		weights := allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "batch", Weight: 2}}}
		if ref := r.c.SetPolicy(r.now, "ops", weights, "w.yaml"); ref != nil {
			t.Fatalf("ops changing weights: %v", ref)
		}
		wantDenied(t, r.c.SetPolicy(r.now, "ops", allocator.Config{Policy: "hdrf", Roles: weights.Roles}, "s.yaml"), "policy")
		wantDenied(t, r.c.SetPolicy(r.now, "alice", weights, "w.yaml"), "weights")
	})
}

func TestPolicyParts(t *testing.T) {
	base, _ := allocator.Config{Policy: "drf"}.WithDefaults()
	for _, tc := range []struct {
		name string
		cfg  allocator.Config
		want string
	}{
		{"nothing", allocator.Config{Policy: "drf"}, ""},
		{"weight 1 is no change", allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "a", Weight: 1}}}, ""},
		{"weights", allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "a", Weight: 3}}}, "weights"},
		{"quota", allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "a", Guarantee: allocator.MustParseResources("cpus:1")}}}, "quota"},
		{"policy and timing", allocator.Config{Policy: "hdrf", OfferTimeout: time.Minute}, "policy timing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full, err := tc.cfg.WithDefaults()
			if err != nil {
				t.Fatal(err)
			}
			full.Seed = base.Seed
			if got := strings.Join(PolicyParts(base, full), " "); got != tc.want {
				t.Errorf("parts %q, want %q", got, tc.want)
			}
		})
	}
}

// A master that restarted with no memory takes a framework's id back
// from its owner only: the id carries a MAC of the principal it was
// issued to.
func TestFrameworkIDsProveTheirOwner(t *testing.T) {
	cfg := Config{Authorizer: testACLs(t), IDKey: []byte("cluster key")}
	first := newRig(t, cfg)
	id, _ := first.framework(api.FrameworkInfo{Name: "f", Principal: "alice"})
	cfg.ID = "restarted"
	r := newRig(t, cfg) // no memory of id
	for _, tc := range []struct {
		who, id string
		want    int
	}{
		{"bob", id, http.StatusForbidden},
		{"alice", id + "0", http.StatusForbidden},
		{"alice", strings.TrimSuffix(id, id[len(id)-16:]) + "0123456789abcdef", http.StatusForbidden},
		{"alice", "made-up", http.StatusForbidden},
		{"alice", id, 0},
	} {
		_, ref := r.c.Subscribe(r.now, r.stream(), api.FrameworkInfo{ID: &api.ID{Value: tc.id}, Name: "f", Principal: tc.who, Roles: []string{"batch"}})
		if got := codeOf(ref); got != tc.want {
			t.Errorf("%s resubscribing %s: %v; want %d", tc.who, tc.id, ref, tc.want)
		}
	}
}

func codeOf(ref *Refusal) int {
	if ref == nil {
		return 0
	}
	return ref.Code
}
