package allocator

import (
	"strings"
	"testing"
	"time"
)

func TestRestore(t *testing.T) {
	tests := []struct {
		name    string
		fw      FrameworkID
		role    string
		agent   AgentID
		used    string
		wantErr string
		offered string // what the next cycle offers the framework on a1
	}{
		{name: "in use is not offered", fw: "f", role: "r", agent: "a1", used: "cpus:3;mem:1024", offered: "cpus:1;mem:3072"},
		{name: "too much", fw: "f", role: "r", agent: "a1", used: "cpus:5", wantErr: "does not fit"},
		{name: "unknown framework", fw: "g", role: "r", agent: "a1", used: "cpus:1", wantErr: `no such framework "g"`},
		{name: "wrong role", fw: "f", role: "x", agent: "a1", used: "cpus:1", wantErr: `not subscribed to role "x"`},
		{name: "unknown agent", fw: "f", role: "r", agent: "zz", used: "cpus:1", wantErr: `no such agent "zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Config{KeepAgentOrder: true})
			if err != nil {
				t.Fatal(err)
			}
			must(t, a.AddAgent(AgentInfo{ID: "a1"}, MustParseResources("cpus:4;mem:4096")))
			must(t, a.AddFramework("f", "r"))
			err = a.Restore(tt.fw, tt.role, tt.agent, MustParseResources(tt.used))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Restore: got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			must(t, err)
			c := a.Allocate(time.Unix(0, 0))
			if len(c.Offers) != 1 || !c.Offers[0].Resources.Equal(MustParseResources(tt.offered)) {
				t.Fatalf("offers after restore: %+v, want %s", c.Offers, tt.offered)
			}
			must(t, a.Release("f", "r", "a1", MustParseResources(tt.used)))
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfiguredReservations(t *testing.T) {
	cfg := Config{KeepAgentOrder: true, Reservations: []Reservation{{Agent: "a1", Role: "web", Resources: MustParseResources("cpus:1;mem:512")}}}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	must(t, a.AddAgent(AgentInfo{ID: "a1"}, MustParseResources("cpus:4;mem:4096")))
	if got := a.Agents()[0].Total; !got.Equal(MustParseResources("cpus:3;mem:3584;cpus(web):1;mem(web):512")) {
		t.Fatalf("total after the reservation: %s", got)
	}
	must(t, a.AddFramework("batch", "batch"))
	c := a.Allocate(time.Unix(0, 0))
	if len(c.Offers) != 1 || !c.Offers[0].Resources.Equal(MustParseResources("cpus:3;mem:3584")) {
		t.Fatalf("another role is offered %+v; want the unreserved part only", c.Offers)
	}
	if err := a.AddAgent(AgentInfo{ID: "a1x"}, MustParseResources("cpus:1")); err != nil {
		t.Fatalf("an agent without a reservation: %v", err)
	}
	small, _ := New(Config{Reservations: []Reservation{{Agent: "a2", Role: "web", Resources: MustParseResources("cpus:8")}}})
	if err := small.AddAgent(AgentInfo{ID: "a2"}, MustParseResources("cpus:4")); err == nil || !strings.Contains(err.Error(), "has 4 unreserved") {
		t.Errorf("reserving more than the agent has: %v", err)
	}
	for _, bad := range []Reservation{{Role: "web", Resources: MustParseResources("cpus:1")}, {Agent: "a", Role: "", Resources: MustParseResources("cpus:1")},
		{Agent: "a", Role: "web", Resources: MustParseResources("cpus(x):1")}} {
		if _, err := New(Config{Reservations: []Reservation{bad}}); err == nil {
			t.Errorf("New accepted reservation %+v", bad)
		}
	}
}
