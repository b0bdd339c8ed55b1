package allocator

import (
	"testing"
	"time"
)

// A deactivated agent is not offered, its offers are rescinded, and what
// its tasks use stays charged; activated, it is offered again.
func TestDeactivateAgent(t *testing.T) {
	a, err := New(Config{Policy: "drf", KeepAgentOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	for _, id := range []AgentID{"a1", "a2"} {
		if err := a.AddAgent(AgentInfo{ID: id}, MustParseResources("cpus:4;mem:4096")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddFramework("f", "r"); err != nil {
		t.Fatal(err)
	}
	if err := a.Restore("f", "r", "a1", MustParseResources("cpus:1;mem:512")); err != nil {
		t.Fatal(err)
	}
	c := a.Allocate(now)
	if len(c.Offers) != 2 {
		t.Fatalf("%d offers, want one per agent", len(c.Offers))
	}
	rescinded, err := a.DeactivateAgent("a1")
	if err != nil || len(rescinded) != 1 || rescinded[0].Agent != "a1" {
		t.Fatalf("rescinded %v, %v; want a1's offer", rescinded, err)
	}
	if got := a.FrameworkAllocation("f"); !got.Contains(MustParseResources("cpus:1;mem:512")) {
		t.Errorf("f holds %s after a1 was deactivated; its task's cpus:1;mem:512 stays charged", got)
	}
	if c := a.Allocate(now.Add(time.Hour)); len(c.Offers) != 0 {
		t.Errorf("offers %v while a1 is inactive and a2's offer is outstanding", c.Offers)
	}
	if err := a.ActivateAgent("a1"); err != nil {
		t.Fatal(err)
	}
	if c := a.Allocate(now.Add(2 * time.Hour)); len(c.Offers) != 1 || c.Offers[0].Agent != "a1" {
		t.Errorf("offers %v after a1 is active again; want a1's", c.Offers)
	}
	if _, err := a.DeactivateAgent("nope"); err == nil {
		t.Error("deactivating an unknown agent: no error")
	}
}

// Release by refs releases as Release does, and refuses a ref whose agent
// was removed, even when another agent takes its place.
func TestReleaseRef(t *testing.T) {
	a, err := New(Config{Policy: "drf"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddAgent(AgentInfo{ID: "a1"}, MustParseResources("cpus:4;mem:4096")); err != nil {
		t.Fatal(err)
	}
	if err := a.AddFramework("f", "r"); err != nil {
		t.Fatal(err)
	}
	if err := a.Restore("f", "r", "a1", MustParseResources("cpus:2;mem:1024")); err != nil {
		t.Fatal(err)
	}
	c, err := a.ClientRef("f", "r")
	if err != nil {
		t.Fatal(err)
	}
	ag, err := a.AgentRef("a1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseRef(c, ag, MustParseResources("cpus:1;mem:512")); err != nil {
		t.Fatal(err)
	}
	if got, want := a.FrameworkAllocation("f"), MustParseResources("cpus:1;mem:512"); !got.Equal(want) {
		t.Errorf("f holds %s after releasing half, want %s", got, want)
	}
	if err := a.ReleaseRef(c, ag, MustParseResources("cpus:2")); err == nil {
		t.Error("released more than held")
	}
	if _, err := a.ClientRef("f", "other"); err == nil {
		t.Error("a ref of a role the framework is not subscribed to")
	}
	if _, err := a.RemoveAgent("a1"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddAgent(AgentInfo{ID: "a1"}, MustParseResources("cpus:4;mem:4096")); err != nil {
		t.Fatal(err)
	}
	if err := a.Restore("f", "r", "a1", MustParseResources("cpus:1")); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseRef(c, ag, MustParseResources("cpus:1")); err == nil {
		t.Error("released through the ref of a removed agent")
	}
}
