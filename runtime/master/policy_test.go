package master

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

func TestPolicyViewJSON(t *testing.T) {
	cfg := allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "web", Weight: 2, Guarantee: allocator.MustParseResources("cpus:1")}},
		Reservations: []allocator.Reservation{{Agent: "a1", Role: "web", Resources: allocator.MustParseResources("cpus:1;mem:512")}}}
	data, err := json.Marshal(policyState{Config: cfg}.view())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"guarantee":"cpus:1"`, `"resources":"cpus:1;mem:512"`, `"agent":"a1"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("policy JSON lacks %s:\n%s", want, data)
		}
	}
}

// A policy swap changes reservations on registered agents; one the agents
// cannot hold leaves the policy in force and says why.
func TestPolicySwapReservations(t *testing.T) {
	m, err := New(Options{Policy: allocator.Config{Policy: "drf"}})
	if err != nil {
		t.Fatal(err)
	}
	total := allocator.MustParseResources("cpus:4;mem:4096")
	if _, err := m.registerAgent(&api.AgentSubscribe{Name: "a1"}, total); err != nil {
		t.Fatal(err)
	}
	swap := func(res string) {
		cfg := allocator.Config{Policy: "hdrf", Reservations: []allocator.Reservation{{Agent: "a1", Role: "web", Resources: allocator.MustParseResources(res)}}}
		m.policy.Pending, m.policy.PendingOf = &cfg, res
		m.applyPending()
	}
	swap("cpus:1")
	st := m.State()
	if got := st.Agents[0].Resources.Total; got["cpus(web)"] != 1 || got["cpus"] != 3 || st.Policy.Policy != "hdrf" {
		t.Fatalf("after reserving cpus:1 for web: %v, policy %s", got, st.Policy.Policy)
	}
	swap("cpus:9")
	st = m.State()
	if st.Policy.Source != "cpus:1" || !strings.Contains(st.Policy.LastError, "has 4 unreserved") {
		t.Errorf("an impossible reservation: source %q, last error %q", st.Policy.Source, st.Policy.LastError)
	}
}

func TestAmountsRoundTrip(t *testing.T) {
	for _, text := range []string{"cpus:1.5;mem:512", "cpus:3;cpus(web):1;gpus:0.25", ""} {
		r := allocator.MustParseResources(text)
		if back := amounts(r).Resources(); !back.Equal(r) {
			t.Errorf("%q: back as %s", text, back)
		}
	}
}
