package scheduler

import (
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/sim/framework"
)

// am writes resources as /state's amounts.
func am(s string) master.Amounts {
	out := master.Amounts{}
	for _, e := range allocator.MustParseResources(s) {
		k := e.Name
		if e.Role != "" {
			k += "(" + e.Role + ")"
		}
		out[k] += e.Value.Float()
	}
	return out
}

func agentState(id, total, used string) master.AgentState {
	return master.AgentState{ID: id, State: "active", Resources: master.Usage{Total: am(total), Used: am(used)}}
}

func TestUnfitSaysWhy(t *testing.T) {
	two := []master.AgentState{agentState("a1", "cpus:2;mem:1024", ""), agentState("a2", "cpus:4;mem:512", "")}
	for _, c := range []struct {
		name, want, role string
		agents           []master.AgentState
		roles            []master.RoleState
		why              string
	}{
		{"larger than any agent", "cpus:8;mem:128", "*", two, nil,
			"cpus: the task wants 8, but the largest agent, a2, has 4 in all"},
		{"two resources too large", "cpus:8;mem:4096", "*", two, nil,
			"cpus: the task wants 8, but the largest agent, a2, has 4 in all; mem: the task wants 4096, but the largest agent, a1, has 1024 in all"},
		{"not together", "cpus:3;mem:1000", "*", two, nil, "no agent has cpus:3;mem:1000 together (each has less of one of them)"},
		{"no agent", "cpus:1", "*", nil, nil, "the master has no active agent"},
		{"reserved for another role", "cpus:1;mem:128", "*", []master.AgentState{agentState("a1", "cpus:0.5;cpus(web):1.5;mem:1024", "")}, nil,
			"agent a1 has cpus:2;mem:1024, of which cpus(web):1.5 is reserved for other roles; role * may use only unreserved resources and its own reservations"},
		{"own reservation", "cpus:1;mem:128", "web/api", []master.AgentState{agentState("a1", "cpus:0.5;cpus(web):1.5;mem:1024", "cpus(web):1.5")}, nil,
			"the agents are busy: the most free is agent a1's cpus:0.5;mem:1024; the task can start when tasks end"},
		{"role limit", "cpus:1;mem:128", "capped", two, []master.RoleState{{Name: "capped", Limit: am("cpus:1.5"), Allocated: am("cpus:1")}},
			"cpus: role capped's limit is 1.5 and it holds 1, so it may take 0.5 more; the task wants 1"},
		{"parent role limit", "cpus:1;mem:128", "team/a", two, []master.RoleState{{Name: "team", Limit: am("mem:64")}},
			"mem: role team's limit is 64 and it holds 0, so it may take 64 more; the task wants 128"},
		{"reserved and over the limit", "cpus:1;mem:128", "capped", []master.AgentState{agentState("a1", "cpus:0.5;cpus(web):1.5;mem:1024", "")},
			[]master.RoleState{{Name: "capped", Limit: am("cpus:0.5")}},
			"agent a1 has cpus:2;mem:1024, of which cpus(web):1.5 is reserved for other roles; role capped may use only unreserved resources and its own reservations; and cpus: role capped's limit is 0.5 and it holds 0, so it may take 0.5 more; the task wants 1"},
		{"held for guarantees", "cpus:1;mem:128", "*", []master.AgentState{agentState("a1", "cpus:2;mem:1024", "cpus:0.5")},
			[]master.RoleState{{Name: "gold", Guarantee: am("cpus:1.5")}, {Name: "silver", Guarantee: am("mem:64"), Allocated: am("mem:64")}},
			"cpus: 1.5 of the 1.5 free are held back for other roles' guarantees (role gold is guaranteed cpus:1.5 and holds nothing); the task wants 1"},
		{"busy", "cpus:2;mem:128", "*", []master.AgentState{agentState("a1", "cpus:2;mem:1024", "cpus:1.5;mem:100"), agentState("a2", "cpus:4;mem:512", "cpus:3")}, nil,
			"the agents are busy: the most free is agent a2's cpus:1;mem:512; the task can start when tasks end"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Unfit(allocator.MustParseResources(c.want), c.role, master.Summary{Agents: c.agents, Roles: c.roles})
			if got != c.why {
				t.Errorf("Unfit = %s\nwant    %s", got, c.why)
			}
		})
	}
}

func TestTakeUsesReservationsFirst(t *testing.T) {
	for _, c := range []struct{ offer, want, took string }{
		{"cpus:2;mem:512", "cpus:1;mem:128", "cpus:1;mem:128"},
		{"cpus:0.5;cpus(web):1.5;mem:512", "cpus:1;mem:128", "cpus(web):1;mem:128"},
		{"cpus:0.5;cpus(web):1;mem:512", "cpus:1.2;mem:128", "cpus(web):1;cpus:0.2;mem:128"},
		{"cpus:0.5;cpus(web):0.2;mem:512", "cpus:1;mem:128", ""},
		{"cpus:2;gpus[T4:0]:0.25;gpus[T4:1]:1", "cpus:1;gpus[*]:0.5", "cpus:1;gpus[T4:1]:0.5"}, // a share on one device
		{"cpus:2;gpus[T4:0]:0.5;gpus[T4:1]:0.5", "cpus:1;gpus[*]:1", ""},                       // a whole GPU on no device
	} {
		got, ok := Take(allocator.MustParseResources(c.offer), allocator.MustParseResources(c.want))
		if c.took == "" && ok || c.took != "" && (!ok || !got.Equal(allocator.MustParseResources(c.took))) {
			t.Errorf("Take(%s, %s) = %s, %v; want %q", c.offer, c.want, got, ok, c.took)
		}
	}
}

// After Wait without an offer that holds the task, Waiting hears of the
// largest offer seen; not once the task is launched.
func TestOneTaskSaysWhenNoOfferHoldsIt(t *testing.T) {
	var heard []*framework.Offer
	d := &driver{}
	o := &OneTask{Name: "big", Resources: allocator.MustParseResources("cpus:4;mem:128"), Wait: 10, Waiting: func(l *framework.Offer) { heard = append(heard, l) }}
	o.Subscribed(d)
	if len(d.after) != 1 {
		t.Fatalf("%d timers; want the wait's", len(d.after))
	}
	o.Offers(d, []framework.Offer{
		{ID: "1", Agent: "a1", Resources: allocator.MustParseResources("cpus:1;mem:1024")},
		{ID: "2", Agent: "a2", Resources: allocator.MustParseResources("cpus:3;mem:64")},
		{ID: "3", Agent: "a3", Resources: allocator.MustParseResources("cpus:2;mem:1024")},
	})
	d.after[0]()
	if len(heard) != 1 || heard[0] == nil || heard[0].Agent != "a3" {
		t.Fatalf("heard %+v; want the offer of a3, which holds the most of the task", heard)
	}
	o.Offers(d, []framework.Offer{{ID: "4", Resources: allocator.MustParseResources("cpus:4;mem:128")}})
	d.after[0]()
	if len(heard) != 1 || !o.Started() {
		t.Fatalf("heard again after the launch, or no launch: %d, %v", len(heard), o.Started())
	}
	if strings.Contains(d.launched[0].Resources.String(), "(") {
		t.Errorf("launched %s", d.launched[0].Resources)
	}
}
