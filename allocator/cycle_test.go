package allocator_test

import (
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
)

var t0 = time.Unix(0, 0).UTC()

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func mustNew(t testing.TB, cfg allocator.Config) *allocator.Allocator {
	t.Helper()
	a, err := allocator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The Mesos paper's offer example (Hindman et al. 2011, figure 3): an agent
// with 4 CPUs and 4 GB is offered to framework 1, which launches two tasks,
// <2 CPUs, 1 GB> and <1 CPU, 2 GB>; the leftover <1 CPU, 1 GB> is offered to
// framework 2 in the next cycle.
func TestMesosPaperOfferExample(t *testing.T) {
	a := mustNew(t, allocator.Config{})
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;mem:4096")))
	must(t, a.AddFramework("fw1", "r1"))
	c := a.Allocate(at(0))
	if len(c.Offers) != 1 || c.Offers[0].Framework != "fw1" || c.Offers[0].Resources.String() != "cpus:4;mem:4096" {
		t.Fatalf("first cycle offers %+v; want all of s1 to fw1", c.Offers)
	}
	must(t, a.AddFramework("fw2", "r2"))
	tasks := allocator.MustParseResources("cpus:2;mem:1024").Add(allocator.MustParseResources("cpus:1;mem:2048"))
	must(t, a.Accept(c.Offers[0].ID, tasks, 0, at(0.5)))
	c = a.Allocate(at(1))
	if len(c.Offers) != 1 || c.Offers[0].Framework != "fw2" || c.Offers[0].Resources.String() != "cpus:1;mem:1024" {
		t.Fatalf("second cycle offers %+v; want cpus:1;mem:1024 to fw2", c.Offers)
	}
}

func TestDeclineFilterLastsAtLeastOneInterval(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refuse  time.Duration
		cycles  []float64 // allocation cycles after the decline at 0s
		offered bool      // at the last cycle
	}{
		{"short filter holds at the next cycle", 100 * time.Millisecond, []float64{1}, false},
		{"short filter holds at a late next cycle", 100 * time.Millisecond, []float64{5}, false},
		{"short filter gone a cycle later", 100 * time.Millisecond, []float64{1, 2}, true},
		{"long filter holds", 10 * time.Second, []float64{1, 5, 9}, false},
		{"long filter expires", 10 * time.Second, []float64{1, 10}, true},
		{"negative refuse sets no filter", -1, []float64{1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustNew(t, allocator.Config{})
			must(t, a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;mem:4096")))
			must(t, a.AddFramework("fw", "r"))
			c := a.Allocate(at(0))
			must(t, a.Decline(c.Offers[0].ID, tc.refuse, at(0)))
			var last allocator.Cycle
			for _, s := range tc.cycles {
				last = a.Allocate(at(s))
			}
			if got := len(last.Offers) == 1; got != tc.offered {
				t.Fatalf("offered at %vs: %v; want %v", tc.cycles[len(tc.cycles)-1], got, tc.offered)
			}
		})
	}
}

func TestSuppressRevive(t *testing.T) {
	a := mustNew(t, allocator.Config{})
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;mem:4096")))
	must(t, a.AddFramework("fw", "r"))
	must(t, a.Suppress("fw"))
	if c := a.Allocate(at(0)); len(c.Offers) != 0 {
		t.Fatalf("suppressed framework got %v", c.Offers)
	}
	must(t, a.Revive("fw"))
	c := a.Allocate(at(1))
	if len(c.Offers) != 1 {
		t.Fatalf("revived framework got %v", c.Offers)
	}
	must(t, a.Decline(c.Offers[0].ID, time.Hour, at(1)))
	if c := a.Allocate(at(2)); len(c.Offers) != 0 {
		t.Fatalf("filtered framework got %v", c.Offers)
	}
	must(t, a.Revive("fw"))
	if c := a.Allocate(at(3)); len(c.Offers) != 1 {
		t.Fatalf("revive did not clear the filter: %v", c.Offers)
	}
}

func TestOfferTimeoutRescinds(t *testing.T) {
	a := mustNew(t, allocator.Config{OfferTimeout: 5 * time.Second})
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;mem:4096")))
	must(t, a.AddFramework("fw", "r"))
	first := a.Allocate(at(0)).Offers[0]
	if c := a.Allocate(at(4)); len(c.Rescinded) != 0 || len(c.Offers) != 0 {
		t.Fatalf("at 4s: %+v; want nothing", c)
	}
	c := a.Allocate(at(5))
	if len(c.Rescinded) != 1 || c.Rescinded[0].ID != first.ID {
		t.Fatalf("at 5s rescinded %+v; want offer %d", c.Rescinded, first.ID)
	}
	if len(c.Offers) != 1 || c.Offers[0].ID == first.ID {
		t.Fatalf("at 5s offers %+v; want a new offer of the rescinded resources", c.Offers)
	}
}

func TestReservedResourcesOnlyReachTheirRole(t *testing.T) {
	a := mustNew(t, allocator.Config{})
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;cpus(analytics):4;mem:4096")))
	must(t, a.AddFramework("web", "web"))
	must(t, a.AddFramework("ml", "analytics/ml"))
	c := a.Allocate(at(0))
	got := map[allocator.FrameworkID]allocator.Resources{}
	for _, o := range c.Offers {
		got[o.Framework] = o.Resources
	}
	// web and analytics/ml tie at share 0 with no allocations; "analytics/ml"
	// sorts before "web", so it is offered first and takes all it may: the
	// reservation and the unreserved resources. web gets nothing.
	if !got["ml"].Equal(allocator.MustParseResources("cpus:4;cpus(analytics):4;mem:4096")) || got["web"] != nil {
		t.Fatalf("offers %v", got)
	}
	_, err := a.RemoveAgent("s1")
	must(t, err)
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s2"}, allocator.MustParseResources("cpus(analytics):4;mem(analytics):1024")))
	must(t, a.Suppress("ml"))
	if c := a.Allocate(at(1)); len(c.Offers) != 0 {
		t.Fatalf("reserved resources reached another role: %+v", c.Offers)
	}
}

func TestAgentRemovalRescindsAndReleases(t *testing.T) {
	a := mustNew(t, allocator.Config{})
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;mem:4096")))
	must(t, a.AddAgent(allocator.AgentInfo{ID: "s2"}, allocator.MustParseResources("cpus:4;mem:4096")))
	must(t, a.AddFramework("fw", "r"))
	c := a.Allocate(at(0))
	if len(c.Offers) != 2 {
		t.Fatalf("offers %+v", c.Offers)
	}
	var onS1 allocator.Offer
	for _, o := range c.Offers {
		if o.Agent == "s1" {
			onS1 = o
		} else {
			must(t, a.Accept(o.ID, allocator.MustParseResources("cpus:1;mem:128"), 0, at(0)))
		}
	}
	rescinded, err := a.RemoveAgent("s1")
	must(t, err)
	if len(rescinded) != 1 || rescinded[0].ID != onS1.ID {
		t.Fatalf("rescinded %+v; want the offer on s1", rescinded)
	}
	fws := a.Frameworks()
	if fws[0].Allocated.String() != "cpus:1;mem:128" {
		t.Fatalf("framework holds %s after s1 left; want its task on s2", fws[0].Allocated)
	}
	if _, err := a.RemoveAgent("s2"); err != nil {
		t.Fatal(err)
	}
	if fw := a.Frameworks()[0]; !fw.Allocated.IsEmpty() {
		t.Fatalf("framework holds %s with no agents", fw.Allocated)
	}
}

func TestQuotaGuaranteeAndLimit(t *testing.T) {
	cfg := allocator.Config{KeepAgentOrder: true, Roles: []allocator.RoleConfig{
		{Name: "prod", Guarantee: allocator.MustParseResources("cpus:6;mem:6144")},
		{Name: "dev", Limit: allocator.MustParseResources("cpus:2;mem:2048")},
	}}
	a := mustNew(t, cfg)
	for _, id := range []allocator.AgentID{"s1", "s2", "s3", "s4"} {
		must(t, a.AddAgent(allocator.AgentInfo{ID: id}, allocator.MustParseResources("cpus:2;mem:2048")))
	}
	must(t, a.AddFramework("batch", "batch"))
	must(t, a.AddFramework("dev", "dev"))
	// prod's guarantee is unmet and it has no framework yet: the headroom
	// for it (6 of 8 CPUs) is held back from everyone else.
	c := a.Allocate(at(0))
	total := allocator.Resources{}
	for _, o := range c.Offers {
		total = total.Add(o.Resources)
	}
	if !total.Equal(allocator.MustParseResources("cpus:2;mem:2048")) {
		t.Fatalf("offered %s with prod's guarantee unmet; want only cpus:2;mem:2048 beyond the headroom", total)
	}
	must(t, a.AddFramework("prod", "prod"))
	c = a.Allocate(at(1))
	var prod allocator.Resources
	for _, o := range c.Offers {
		if o.Framework == "prod" {
			prod = prod.Add(o.Resources)
		}
	}
	if !prod.Equal(allocator.MustParseResources("cpus:6;mem:6144")) {
		t.Fatalf("prod offered %s; want its guarantee cpus:6;mem:6144", prod)
	}
	for _, fw := range a.Frameworks() {
		if fw.ID == "dev" && !allocator.MustParseResources("cpus:2;mem:2048").Contains(fw.Allocated) {
			t.Fatalf("dev holds %s past its limit", fw.Allocated)
		}
	}
}

func TestHierarchicalDRF(t *testing.T) {
	// eng/ml and eng/web share eng's half with ops holding the other half:
	// under hdrf eng's subtree counts as one client against ops.
	agents := make([]string, 8)
	for i := range agents {
		agents[i] = "cpus:1;mem:1024"
	}
	fws := []fwSpec{
		{"ml", "eng/ml", "cpus:1;mem:1024", allocator.Unlimited},
		{"web", "eng/web", "cpus:1;mem:1024", allocator.Unlimited},
		{"ops", "ops", "cpus:1;mem:1024", allocator.Unlimited},
	}
	for _, tc := range []struct {
		policy       string
		ml, web, ops int
	}{{"hdrf", 2, 2, 4}, {"drf", 3, 3, 2}} {
		_, counts, _ := fill(t, allocator.Config{Policy: tc.policy}, agents, fws)
		if counts["ml"] != tc.ml || counts["web"] != tc.web || counts["ops"] != tc.ops {
			t.Errorf("%s: ml %d web %d ops %d; want %d %d %d", tc.policy, counts["ml"], counts["web"], counts["ops"], tc.ml, tc.web, tc.ops)
		}
	}
}

func TestStaticPartitions(t *testing.T) {
	cfg := allocator.Config{Policy: "static", Partitions: []allocator.Partition{{Role: "hadoop"}, {Role: "spark"}, {Role: "rails"}}}
	agents := make([]string, 9)
	for i := range agents {
		agents[i] = "cpus:4;mem:4096"
	}
	_, counts, _ := fill(t, cfg, agents, []fwSpec{
		{"hadoop", "hadoop", "cpus:1;mem:1024", allocator.Unlimited},
		{"spark", "spark", "cpus:1;mem:1024", allocator.Unlimited},
	})
	// rails has no framework: its three agents stay idle; nothing is shared.
	if counts["hadoop"] != 12 || counts["spark"] != 12 {
		t.Fatalf("hadoop %d spark %d; want 12 each (3 agents of 4 CPUs)", counts["hadoop"], counts["spark"])
	}
}

func TestUnknownPolicyListsKnownOnes(t *testing.T) {
	_, err := allocator.New(allocator.Config{Policy: "fifo"})
	if err == nil || err.Error() != `unknown policy "fifo"; known policies: asset, ceei, drf, hdrf, hdrf-naive, random, static` {
		t.Fatalf("err = %v", err)
	}
}
