package core

import (
	"fmt"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"pgregory.net/rapid"
)

// Dynamic reservations and task groups under any sequence of calls, on a
// cluster that always has offers to work on: frameworks of roles a, a/x
// and b reserve (for their role, or wrongly for another), unreserve (what
// they hold, or more), launch on reservations and launch groups, their
// tasks end, agents disconnect and come back (some smaller), the leader
// fails over to a replica of the commands, the policy is swapped. After
// every step the books balance, no agent holds more than it registered
// with (by name), every dynamic reservation is in its agent's total, a
// reserved resource is offered only to its role or a sub-role, and the
// replica and the snapshot hold the leader's registry.
func TestReservationsAndGroupsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := newRig(t, Config{AgentTimeout: time.Minute, Policy: allocator.Config{Policy: "hdrf", Seed: rapid.Uint64().Draw(t, "seed")}})
		agents := map[string]string{}
		for i := range 3 {
			name := fmt.Sprintf("a%d", i)
			agents[name] = r.agent(name, "cpus:4;mem:4096", nil)
		}
		fws := map[string]string{}
		for _, role := range []string{"a", "a/x", "b"} {
			id, s := r.framework(api.FrameworkInfo{Name: role, Roles: []string{role}, FailoverTimeout: 3600})
			fws[id] = s
		}
		ids := 0
		offer := func(t *rapid.T) (allocator.Offer, string, bool) {
			r.advance(time.Duration(rapid.IntRange(1, 3000).Draw(t, "ms")) * time.Millisecond)
			offers := r.c.alloc.Offers()
			if len(offers) == 0 {
				return allocator.Offer{}, "", false
			}
			o := offers[rapid.IntRange(0, len(offers)-1).Draw(t, "offer")]
			return o, fws[string(o.Framework)], true
		}
		steps := map[string]func(*rapid.T){
			"reserve": func(t *rapid.T) {
				o, s, ok := offer(t)
				if !ok {
					return
				}
				role := o.Role
				if rapid.IntRange(0, 4).Draw(t, "other role") == 0 {
					role = rapid.SampledFrom([]string{"a", "a/x", "b"}).Draw(t, "role")
				}
				amount := o.Resources.Unreserved()
				for range rapid.IntRange(0, 3).Draw(t, "halvings") {
					amount = halve(amount)
				}
				if rapid.IntRange(0, 5).Draw(t, "too much") == 0 {
					amount = amount.Add(allocator.MustParseResources("cpus:1"))
				}
				_ = r.call(string(o.Framework), s, accept(r.c.offerID(o.ID), reserveOp(reservedFor(amount, role)), launchOp(&ids, t, role)))
			},
			"unreserve": func(t *rapid.T) {
				o, s, ok := offer(t)
				if !ok {
					return
				}
				amount := halve(o.Resources.Reserved())
				if rapid.Bool().Draw(t, "all") {
					amount = o.Resources.Reserved()
				}
				if rapid.IntRange(0, 5).Draw(t, "more") == 0 {
					amount = amount.Add(amount).Add(allocator.MustParseResources("cpus(a):1"))
				}
				var rs []api.Resource
				for _, e := range amount {
					rs = append(rs, reservedFor(allocator.Resources{{Name: e.Name, Value: e.Value}}, e.Role)...)
				}
				_ = r.call(string(o.Framework), s, accept(r.c.offerID(o.ID), unreserveOp(rs)))
			},
			"launch group": func(t *rapid.T) {
				o, s, ok := offer(t)
				if !ok {
					return
				}
				var infos []api.TaskInfo
				for range rapid.IntRange(1, 3).Draw(t, "tasks") {
					ids++
					res := fmt.Sprintf("cpus:%g;mem:%d", float64(rapid.IntRange(1, 20).Draw(t, "dcpus"))/10, 64*rapid.IntRange(1, 20).Draw(t, "mem64"))
					infos = append(infos, taskInfo(fmt.Sprintf("t%d", ids), res))
				}
				ids++
				_ = r.call(string(o.Framework), s, accept(r.c.offerID(o.ID), groupOp(defaultExecutor(fmt.Sprintf("e%d", ids)), infos...)))
			},
			"end": func(t *rapid.T) {
				live := r.liveTasks()
				if len(live) == 0 {
					return
				}
				tk := live[rapid.IntRange(0, len(live)-1).Draw(t, "task")]
				ids++
				_ = r.status(tk.AgentID, tk.FrameworkID, tk.Info.TaskID.Value, rapid.SampledFrom([]string{TaskRunning, TaskFinished, TaskFailed}).Draw(t, "state"), "", fmt.Sprintf("u%d", ids))
			},
			"agent back": func(t *rapid.T) {
				name := rapid.SampledFrom(sortedKeys(agents)).Draw(t, "agent")
				r.c.AgentGone(r.now, agents[name])
				var report []api.AgentTask
				for _, k := range sortedTaskKeys(r.c.reg.agents[name].Tasks) {
					tk := r.c.reg.agents[name].Tasks[k]
					report = append(report, api.AgentTask{FrameworkID: k.fw, Task: tk.Info, State: TaskRunning, Role: tk.Role})
				}
				agents[name] = r.agent(name, rapid.SampledFrom([]string{"cpus:4;mem:4096", "cpus:2;mem:4096", "cpus:8;mem:8192"}).Draw(t, "resources"), report)
			},
			"failover": func(t *rapid.T) {
				c2, err := Recover(Config{AgentTimeout: time.Minute}, r.replay(), r.now)
				if err != nil {
					t.Fatal(err)
				}
				r.c = c2
				r.drain()
				for _, name := range sortedKeys(agents) {
					var report []api.AgentTask
					for _, k := range sortedTaskKeys(r.c.reg.agents[name].Tasks) {
						tk := r.c.reg.agents[name].Tasks[k]
						if !Terminal(tk.State) {
							report = append(report, api.AgentTask{FrameworkID: k.fw, Task: tk.Info, State: tk.State, Role: tk.Role})
						}
					}
					agents[name] = r.agent(name, r.c.reg.agents[name].Resources, report)
				}
				for _, id := range sortedKeys(fws) {
					f := r.c.reg.frameworks[id]
					_, fws[id] = r.framework(f.Info)
				}
			},
			"policy": func(t *rapid.T) {
				_ = r.c.SetPolicy(r.now, "", allocator.Config{Policy: rapid.SampledFrom([]string{"drf", "hdrf"}).Draw(t, "policy"), Seed: 3}, "test")
				r.drain()
			},
		}
		for range rapid.IntRange(10, 60).Draw(t, "steps") {
			steps[rapid.SampledFrom(sortedKeys(steps)).Draw(t, "step")](t)
			checkBooks(t, r.c)
		}
		if got, want := replicaDigest(r.replay()), replicaDigest(r.c.reg); got != want {
			t.Fatalf("the replica's registry differs:\n%s\nleader's:\n%s", got, want)
		}
		back, err := LoadRegistry(r.c.reg.Snapshot(), Limits{})
		if err != nil || replicaDigest(back) != replicaDigest(r.c.reg) {
			t.Fatalf("the snapshot loads back differently (%v)", err)
		}
	})
}

// launchOp is a LAUNCH of one task on the reservation of role, or of
// nothing.
func launchOp(ids *int, t *rapid.T, role string) api.Operation {
	op := api.Operation{Type: api.OpLaunch, Launch: &api.Launch{}}
	if rapid.Bool().Draw(t, "launch on it") {
		*ids++
		ti := taskInfo(fmt.Sprintf("t%d", *ids), fmt.Sprintf("cpus(%s):0.5", role))
		ti.Resources[0].Role, ti.Resources[0].Reservation = mesosRole(role), &api.ReservationInfo{}
		op.Launch.TaskInfos = append(op.Launch.TaskInfos, ti)
	}
	return op
}

// halve is half of r, in whole thousandths.
func halve(r allocator.Resources) allocator.Resources {
	var out allocator.Resources
	for _, e := range r {
		out = out.Add(allocator.Resources{{Name: e.Name, Role: e.Role, Value: e.Value / 2}})
	}
	return out
}

// reservedFor is amounts (by name) reserved dynamically for role, with no
// principal, in Mesos' format.
func reservedFor(amounts allocator.Resources, role string) []api.Resource {
	rs := api.FromResources(withRole(amounts, role))
	for i := range rs {
		rs[i].Role, rs[i].Reservation = mesosRole(role), &api.ReservationInfo{}
	}
	return rs
}
