package core

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
)

func TestPolicyViewJSON(t *testing.T) {
	cfg := allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "web", Weight: 2, Guarantee: allocator.MustParseResources("cpus:1")}},
		Reservations: []allocator.Reservation{{Agent: "a1", Role: "web", Resources: allocator.MustParseResources("cpus:1;mem:512")}}}
	r := newRig(t, Config{Policy: cfg})
	data, err := json.Marshal(r.c.PolicyView())
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
	r := newRig(t, Config{Policy: allocator.Config{Policy: "drf"}})
	r.agent("a1", "cpus:4;mem:4096", nil)
	swap := func(res string) {
		cfg := allocator.Config{Policy: "hdrf", Reservations: []allocator.Reservation{{Agent: "a1", Role: "web", Resources: allocator.MustParseResources(res)}}}
		if ref := r.c.SetPolicy(r.now, "", cfg, res); ref != nil {
			t.Fatal(ref)
		}
		r.advance(time.Millisecond)
	}
	swap("cpus:1")
	st := r.c.State()
	if got := st.Agents[0].Resources.Total; got["cpus(web)"] != 1 || got["cpus"] != 3 || st.Policy.Policy != "hdrf" {
		t.Fatalf("after reserving cpus:1 for web: %v, policy %s", got, st.Policy.Policy)
	}
	swap("cpus:9")
	st = r.c.State()
	if st.Policy.Source != "cpus:1" || !strings.Contains(st.Policy.LastError, "has 4 unreserved") {
		t.Errorf("an impossible reservation: source %q, last error %q", st.Policy.Source, st.Policy.LastError)
	}
}

// Intervals a wall clock cannot keep are refused, and change nothing.
func TestPolicyIntervalsBounded(t *testing.T) {
	r := newRig(t, Config{})
	ref := r.c.SetPolicy(r.now, "", allocator.Config{Policy: "drf", AllocationInterval: time.Nanosecond}, "tiny.yaml")
	if ref == nil || ref.Code != 400 || !strings.Contains(ref.Message, "allocation_interval 1ns") {
		t.Errorf("allocation_interval 1ns: %v, want a 400 naming it", ref)
	}
	if _, err := New(Config{AgentTimeout: 5 * time.Nanosecond}, r.now); err == nil || !strings.Contains(err.Error(), "agent timeout 5ns") {
		t.Errorf("agent timeout 5ns: %v, want an error naming it", err)
	}
}

func TestAmountsRoundTrip(t *testing.T) {
	for _, text := range []string{"cpus:1.5;mem:512", "cpus:3;cpus(web):1;gpus:0.25", "mem:1048576;cpus:2000000", ""} {
		r := allocator.MustParseResources(text)
		if back := amounts(r).Resources(); !back.Equal(r) {
			t.Errorf("%q: back as %s", text, back)
		}
	}
}
