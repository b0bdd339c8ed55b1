package core

import (
	"fmt"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"pgregory.net/rapid"
)

// The master's books stay consistent whatever happens: agents come, go,
// come back with what they still run and become unreachable; frameworks
// subscribe, fail over, launch (some tasks too large, some on stale or
// repeated offers, some with repeated ids), kill, acknowledge and are torn
// down; agents report states in any order; the policy is swapped. After
// every step the allocator holds exactly the outstanding offers and the
// tasks that have not ended on connected agents, no agent is allocated
// more than it has, and a replica that applied the commands holds the
// same registry.
func TestBooksBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := newRig(t, Config{AgentTimeout: 10 * time.Second, Policy: allocator.Config{Policy: "drf", Seed: rapid.Uint64().Draw(t, "seed")}})
		fws := map[string]string{} // framework id -> stream
		agents := map[string]string{}
		ids := 0
		uuids := 0
		steps := map[string]func(*rapid.T){
			"agent": func(t *rapid.T) {
				name := fmt.Sprintf("a%d", rapid.IntRange(0, 3).Draw(t, "agent"))
				var report []api.AgentTask
				if ag := r.c.reg.agents[name]; ag != nil {
					for _, k := range sortedTaskKeys(ag.Tasks) {
						tk := ag.Tasks[k]
						if rapid.Bool().Draw(t, "still has "+k.task) {
							states := []string{TaskRunning, TaskFinished}
							if agentStates[tk.State] { // not one the master decided (TASK_UNREACHABLE): an agent reports its own
								states = append(states, tk.State)
							}
							report = append(report, api.AgentTask{FrameworkID: k.fw, Task: tk.Info, State: rapid.SampledFrom(states).Draw(t, "state"), Role: tk.Role})
						}
					}
				}
				agents[name] = r.agent(name, fmt.Sprintf("cpus:%d;mem:%d", rapid.IntRange(1, 8).Draw(t, "cpus"), 1024*rapid.IntRange(1, 4).Draw(t, "mem")), report)
			},
			"agent gone": func(t *rapid.T) {
				if names := sortedKeys(agents); len(names) > 0 {
					r.c.AgentGone(r.now, agents[rapid.SampledFrom(names).Draw(t, "agent")])
					r.drain()
				}
			},
			"framework": func(t *rapid.T) {
				info := api.FrameworkInfo{Name: "f", Roles: []string{rapid.SampledFrom([]string{"*", "a", "b"}).Draw(t, "role")}, FailoverTimeout: 30}
				if rapid.Bool().Draw(t, "partition aware") {
					info.Capabilities = []api.Capability{{Type: api.PartitionAware}}
				}
				if old := sortedKeys(fws); len(old) > 0 && rapid.Bool().Draw(t, "resubscribe") {
					id := rapid.SampledFrom(old).Draw(t, "fw")
					f := r.c.reg.frameworks[id]
					if f == nil {
						return
					}
					info = f.Info
				}
				id, s := r.framework(info)
				fws[id] = s
			},
			"framework gone": func(t *rapid.T) {
				if ids := sortedKeys(fws); len(ids) > 0 {
					r.c.FrameworkGone(r.now, fws[rapid.SampledFrom(ids).Draw(t, "fw")])
					r.drain()
				}
			},
			"time": func(t *rapid.T) {
				r.advance(time.Duration(rapid.IntRange(1, 15000).Draw(t, "ms")) * time.Millisecond)
			},
			"launch": func(t *rapid.T) {
				offers := r.c.alloc.Offers()
				if len(offers) == 0 {
					return
				}
				o := offers[rapid.IntRange(0, len(offers)-1).Draw(t, "offer")]
				var infos []api.TaskInfo
				for range rapid.IntRange(0, 3).Draw(t, "tasks") {
					if !rapid.Bool().Draw(t, "same id") {
						ids++
					}
					res := fmt.Sprintf("cpus:%g;mem:%d", float64(rapid.IntRange(1, 40).Draw(t, "dcpus"))/10, 64*rapid.IntRange(1, 40).Draw(t, "mem64"))
					infos = append(infos, taskInfo(fmt.Sprintf("t%d", ids), res))
				}
				offerIDs := []string{r.c.offerID(o.ID)}
				switch rapid.IntRange(0, 3).Draw(t, "offer ids") {
				case 1:
					offerIDs = append(offerIDs, offerIDs[0])
				case 2:
					offerIDs = []string{"apron.O9-9"}
				}
				_ = r.call(string(o.Framework), fws[string(o.Framework)], launchCall(offerIDs, infos...))
			},
			"status": func(t *rapid.T) {
				live := r.liveTasks()
				if len(live) == 0 {
					return
				}
				tk := live[rapid.IntRange(0, len(live)-1).Draw(t, "task")]
				uuids++
				states := []string{TaskRunning, TaskFinished, TaskFailed, TaskKilled, TaskStarting}
				_ = r.status(tk.AgentID, tk.FrameworkID, tk.Info.TaskID.Value, rapid.SampledFrom(states).Draw(t, "state"),
					rapid.SampledFrom(append(states, "")).Draw(t, "latest"), fmt.Sprintf("u%d", uuids))
			},
			"ack": func(t *rapid.T) {
				live := r.liveTasks()
				if len(live) == 0 {
					return
				}
				tk := live[rapid.IntRange(0, len(live)-1).Draw(t, "task")]
				_ = r.call(tk.FrameworkID, fws[tk.FrameworkID], api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{
					AgentID: api.ID{Value: tk.AgentID}, TaskID: tk.Info.TaskID, UUID: mangle(tk.statusUUID, rapid.Bool().Draw(t, "wrong uuid"))}})
			},
			"kill": func(t *rapid.T) {
				live := r.liveTasks()
				if len(live) > 0 {
					tk := live[rapid.IntRange(0, len(live)-1).Draw(t, "task")]
					_ = r.call(tk.FrameworkID, fws[tk.FrameworkID], api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: tk.Info.TaskID}})
				}
			},
			"decline": func(t *rapid.T) {
				if offers := r.c.alloc.Offers(); len(offers) > 0 {
					o := offers[rapid.IntRange(0, len(offers)-1).Draw(t, "offer")]
					_ = r.call(string(o.Framework), fws[string(o.Framework)], api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{{Value: r.c.offerID(o.ID)}}}})
				}
			},
			"teardown": func(t *rapid.T) {
				if ids := sortedKeys(r.c.reg.frameworks); len(ids) > 0 {
					id := rapid.SampledFrom(ids).Draw(t, "fw")
					_ = r.call(id, fws[id], api.Call{Type: api.CallTeardown})
				}
			},
			"policy": func(t *rapid.T) {
				cfg := allocator.Config{Policy: rapid.SampledFrom([]string{"drf", "hdrf", "asset", "random"}).Draw(t, "policy"), Seed: 7,
					Roles: []allocator.RoleConfig{{Name: "a", Weight: float64(rapid.IntRange(1, 4).Draw(t, "weight"))}}}
				_ = r.c.SetPolicy(r.now, "", cfg, "test")
				r.drain()
			},
		}
		for range rapid.IntRange(1, 80).Draw(t, "steps") {
			steps[rapid.SampledFrom(sortedKeys(steps)).Draw(t, "step")](t)
			checkBooks(t, r.c)
		}
		if got, want := replicaDigest(r.replay()), replicaDigest(r.c.reg); got != want {
			t.Fatalf("the replica's registry differs:\n%s\nleader's:\n%s", got, want)
		}
	})
}

func checkBooks(t *rapid.T, c *Core) {
	if err := c.CheckBooks(); err != nil {
		t.Fatal(err)
	}
	// A reserved resource is offered only to its role (or a sub-role).
	for _, o := range c.alloc.Offers() {
		for _, e := range o.Resources {
			if e.Role != "" && !allocator.IsWithin(o.Role, e.Role) {
				t.Fatalf("offer %d to role %s holds %s reserved for %s", o.ID, o.Role, e.Name, e.Role)
			}
		}
	}
	// Reservations never make an agent more than it is: its total by
	// name is what it registered with, and every dynamic reservation
	// is in it.
	for _, id := range c.reg.agentOrder {
		ag := c.reg.agents[id]
		if !ag.Total().Flatten().Equal(ag.total.Flatten()) {
			t.Fatalf("agent %s: total %s with its reservations, %s as it registered", id, ag.Total(), ag.total)
		}
		for _, res := range ag.reservations() {
			amounts, _ := allocator.ParseResources(res.Resources)
			if !ag.Total().Contains(withRole(amounts, res.Role)) {
				t.Fatalf("agent %s: reservation %+v is not in its total %s", id, res, ag.Total())
			}
		}
	}
	live := map[string]int{}
	for _, f := range c.reg.frameworks {
		for _, tk := range f.Tasks {
			if !Terminal(tk.State) {
				live[tk.State]++
			}
		}
	}
	for state, n := range live {
		if c.reg.counts[state] < n {
			t.Fatalf("%s: counted %d, there are %d", state, c.reg.counts[state], n)
		}
	}
}
