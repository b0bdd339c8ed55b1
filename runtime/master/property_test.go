package master

import (
	"fmt"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/internal/sorted"
	"github.com/apronlab/apron/runtime/api"
	"pgregory.net/rapid"
)

// The master's books stay consistent whatever happens: agents come, go and
// come back, frameworks subscribe, launch (some tasks too large, some on
// stale offers), their tasks change state, frameworks are torn down, and
// the policy is swapped. After every step the allocator holds exactly the
// resources of the outstanding offers and the live tasks, no agent is
// allocated more than it has, and the task counts match the tasks.
func TestMasterBooksBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clock := time.Unix(1_700_000_000, 0)
		m, err := New(Options{Policy: allocator.Config{Policy: "drf", Seed: rapid.Uint64().Draw(t, "seed")}, Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		ids := 0
		steps := map[string]func(*rapid.T){
			"agent": func(t *rapid.T) {
				name := fmt.Sprintf("a%d", rapid.IntRange(0, 4).Draw(t, "agent"))
				if ag := m.agents[name]; ag != nil && ag.state == agentActive {
					return
				}
				total := allocator.MustParseResources(fmt.Sprintf("cpus:%d;mem:%d", rapid.IntRange(1, 8).Draw(t, "cpus"), 1024*rapid.IntRange(1, 8).Draw(t, "mem")))
				ag, err := m.registerAgent(&api.AgentSubscribe{Name: name, Resources: api.FromResources(total)}, total)
				if err != nil {
					t.Fatal(err)
				}
				ag.out = newOutbox()
				m.adoptTasks(ag, m.reported(ag))
			},
			"framework": func(t *rapid.T) {
				role := rapid.SampledFrom([]string{"*", "a", "b", "a/x"}).Draw(t, "role")
				f, _, _, err := m.register(api.FrameworkInfo{Name: "f", Roles: []string{role}})
				if err != nil {
					t.Fatal(err)
				}
				f.out = newOutbox()
			},
			"allocate": func(t *rapid.T) {
				clock = clock.Add(time.Second)
				m.allocate()
			},
			"launch": func(t *rapid.T) {
				offers := m.alloc.Offers()
				if len(offers) == 0 {
					return
				}
				o := rapid.SampledFrom(offers).Draw(t, "offer")
				f := m.fws[string(o.Framework)]
				var infos []api.TaskInfo
				for range rapid.IntRange(1, 4).Draw(t, "tasks") {
					ids++
					res := allocator.MustParseResources(fmt.Sprintf("cpus:%g;mem:%d", float64(rapid.IntRange(1, 40).Draw(t, "dcpus"))/10, 64*rapid.IntRange(1, 40).Draw(t, "mem64")))
					infos = append(infos, api.TaskInfo{TaskID: api.ID{Value: fmt.Sprintf("t%d", ids)}, Resources: api.FromResources(res), Command: &api.CommandInfo{Value: "true"}})
				}
				id := m.offerID(o.ID)
				if rapid.Bool().Draw(t, "stale") {
					id = "O9-9"
				}
				if _, err := m.accept(f, &api.Accept{OfferIDs: []api.ID{{Value: id}}, Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}}); err != nil {
					t.Fatal(err)
				}
			},
			"status": func(t *rapid.T) {
				live := m.liveTasks()
				if len(live) == 0 {
					return
				}
				tk := rapid.SampledFrom(live).Draw(t, "task")
				state := rapid.SampledFrom([]string{"TASK_RUNNING", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED"}).Draw(t, "state")
				if ag := m.agents[tk.agent]; ag != nil && ag.state == agentActive {
					m.agentStatus(ag, api.AgentStatus{FrameworkID: tk.fw.id, Status: api.TaskStatus{TaskID: tk.info.TaskID, State: state, UUID: "u"}})
				}
			},
			"lose agent": func(t *rapid.T) {
				for _, id := range m.agentsN {
					if ag := m.agents[id]; ag.state == agentActive && rapid.Bool().Draw(t, "lose "+id) {
						m.loseAgent(ag, "test")
						return
					}
				}
			},
			"teardown": func(t *rapid.T) {
				if ids := sorted.Keys(m.fws); len(ids) > 0 {
					m.teardown(m.fws[rapid.SampledFrom(ids).Draw(t, "fw")], "test")
				}
			},
			"decline": func(t *rapid.T) {
				if offers := m.alloc.Offers(); len(offers) > 0 {
					_ = m.alloc.Decline(rapid.SampledFrom(offers).Draw(t, "offer").ID, 0, clock)
				}
			},
			"swap policy": func(t *rapid.T) {
				cfg := allocator.Config{Policy: rapid.SampledFrom([]string{"drf", "hdrf", "asset", "random"}).Draw(t, "policy"), Seed: 7,
					Roles: []allocator.RoleConfig{{Name: "a", Weight: float64(rapid.IntRange(1, 4).Draw(t, "weight"))}}}
				m.policy.Pending, m.policy.PendingOf = &cfg, "test"
				m.applyPending()
				if m.policy.LastError != "" {
					t.Fatalf("swap: %s", m.policy.LastError)
				}
			},
		}
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			name := rapid.SampledFrom(sorted.Keys(steps)).Draw(t, "step")
			steps[name](t)
			m.checkBooks(t)
		}
	})
}

// reported is what an agent would report of its tasks when it comes back.
func (m *Master) reported(ag *agent) []api.AgentTask {
	var out []api.AgentTask
	for _, k := range sortedTaskKeys(ag.tasks) {
		t := ag.tasks[k]
		out = append(out, api.AgentTask{FrameworkID: k.fw, Task: t.info, State: t.state, Role: t.role})
	}
	return out
}

func (m *Master) liveTasks() []*task {
	var out []*task
	for _, f := range m.allFws() {
		out = append(out, f.launchOrder()...)
	}
	return out
}

func (m *Master) checkBooks(t *rapid.T) {
	perAgent := map[allocator.AgentID]allocator.Resources{}
	counts := map[string]int{}
	for _, tk := range m.liveTasks() {
		counts[tk.state]++
		if ag := m.agents[tk.agent]; ag == nil || ag.state != agentActive {
			t.Fatalf("task %s is live on agent %s, which is not active", tk.info.TaskID.Value, tk.agent)
		}
		perAgent[allocator.AgentID(tk.agent)] = perAgent[allocator.AgentID(tk.agent)].Add(tk.res)
	}
	for _, o := range m.alloc.Offers() {
		perAgent[o.Agent] = perAgent[o.Agent].Add(o.Resources)
	}
	for _, v := range m.alloc.Agents() {
		if !v.Total.Contains(v.Allocated) {
			t.Fatalf("agent %s: allocated %s exceeds its total %s", v.ID, v.Allocated, v.Total)
		}
		if !v.Allocated.Equal(perAgent[v.ID]) {
			t.Fatalf("agent %s: the allocator holds %s, the tasks and offers %s", v.ID, v.Allocated, perAgent[v.ID])
		}
	}
	for _, state := range []string{"TASK_STAGING", "TASK_RUNNING"} {
		if m.counts[state] != counts[state] {
			t.Fatalf("%s: counted %d, there are %d", state, m.counts[state], counts[state])
		}
	}
}
