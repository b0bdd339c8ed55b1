package allocator

import (
	"strings"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		name, from, to string
		err            string
		total          string // the agent's total after
		web, batch     string // what the next cycle offers each role, after the offer is declined
	}{
		{name: "reserve", from: "cpus:2;mem:1024", to: "cpus(web):2;mem(web):1024",
			total: "cpus:2;mem:3072;cpus(web):2;mem(web):1024", web: "cpus:2;mem:3072;cpus(web):2;mem(web):1024", batch: "cpus:2;mem:3072"},
		{name: "nothing", from: "", to: "", total: "cpus:4;mem:4096", web: "cpus:4;mem:4096", batch: "cpus:4;mem:4096"},
		{name: "more than offered", from: "cpus:5", to: "cpus(web):5", err: "is not in the offer"},
		{name: "other amounts", from: "cpus:2", to: "cpus(web):1", err: "not the same amounts by name"},
		{name: "other names", from: "cpus:2", to: "mem(web):2", err: "not the same amounts by name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Config{KeepAgentOrder: true})
			must(t, err)
			must(t, a.AddAgent(AgentInfo{ID: "a1"}, MustParseResources("cpus:4;mem:4096")))
			must(t, a.AddFramework("w", "web"))
			c := a.Allocate(time.Unix(0, 0))
			if len(c.Offers) != 1 {
				t.Fatalf("offers %+v", c.Offers)
			}
			o := c.Offers[0]
			err = a.Convert(o.ID, MustParseResources(tt.from), MustParseResources(tt.to))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Convert: %v; want an error with %q", err, tt.err)
				}
				return
			}
			must(t, err)
			if got := a.Agents()[0].Total; !got.Equal(MustParseResources(tt.total)) {
				t.Errorf("agent total %s, want %s", got, tt.total)
			}
			if got, _ := a.Offer(o.ID); !got.Resources.Equal(MustParseResources(tt.total)) {
				t.Errorf("the offer holds %s, want %s", got.Resources, tt.total)
			}
			must(t, a.Decline(o.ID, -1, time.Unix(1, 0)))
			must(t, a.AddFramework("b", "batch"))
			must(t, a.Suppress("w"))
			if c := a.Allocate(time.Unix(2, 0)); len(c.Offers) != 1 || !c.Offers[0].Resources.Equal(MustParseResources(tt.batch)) {
				t.Errorf("role batch is offered %+v; want %s", c.Offers, tt.batch)
			}
			must(t, a.RemoveFramework("b"))
			must(t, a.Revive("w"))
			if c := a.Allocate(time.Unix(3, 0)); len(c.Offers) != 1 || !c.Offers[0].Resources.Equal(MustParseResources(tt.web)) {
				t.Errorf("role web is offered %+v; want %s", c.Offers, tt.web)
			}
		})
	}
}

// An offer converted and accepted holds the reserved resources in use;
// converting back (UNRESERVE) returns them to every role.
func TestConvertAcceptAndBack(t *testing.T) {
	a, err := New(Config{KeepAgentOrder: true})
	must(t, err)
	must(t, a.AddAgent(AgentInfo{ID: "a1"}, MustParseResources("cpus:4")))
	must(t, a.AddFramework("w", "web"))
	o := a.Allocate(time.Unix(0, 0)).Offers[0]
	must(t, a.Convert(o.ID, MustParseResources("cpus:3"), MustParseResources("cpus(web):3")))
	must(t, a.Accept(o.ID, MustParseResources("cpus(web):1"), -1, time.Unix(1, 0)))
	if r := a.Roles(); len(r) == 0 || !r[0].Reserved.Equal(MustParseResources("cpus(web):3")) {
		t.Errorf("roles %+v: want web with cpus(web):3 reserved", r)
	}
	o = a.Allocate(time.Unix(2, 0)).Offers[0]
	if !o.Resources.Equal(MustParseResources("cpus:1;cpus(web):2")) {
		t.Fatalf("second offer %s", o.Resources)
	}
	must(t, a.Convert(o.ID, MustParseResources("cpus(web):2"), MustParseResources("cpus:2")))
	must(t, a.Release("w", "web", "a1", MustParseResources("cpus(web):1")))
	if got := a.Agents()[0].Total; !got.Equal(MustParseResources("cpus:3;cpus(web):1")) {
		t.Errorf("total %s, want cpus:3;cpus(web):1", got)
	}
}
