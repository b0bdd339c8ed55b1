package chaos

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestGenerateIsAPureFunctionOfTheSeed(t *testing.T) {
	for _, seed := range []uint64{0, 1, 2, 123, 1 << 40} {
		a, b := Generate(seed), Generate(seed)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) || a.String() != b.String() {
			t.Fatalf("seed %d: two plans differ:\n%s\n%s", seed, ja, jb)
		}
		if other := Generate(seed + 1); reflect.DeepEqual(a, other) {
			t.Errorf("seeds %d and %d make the same plan", seed, seed+1)
		}
	}
}

// Every plan keeps the rules the checker and the runner rely on.
func TestPlanInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := Generate(rapid.Uint64().Draw(rt, "seed"))
		if p.Agents < 2 || p.Agents > 3 || len(p.Faults) > 8 || len(p.Frameworks) != 2 {
			rt.Fatalf("%d agents, %d faults, %d frameworks", p.Agents, len(p.Faults), len(p.Frameworks))
		}
		ids := map[string]bool{}
		extra := map[string]int{}
		for _, f := range p.Faults {
			for _, id := range f.Tasks {
				extra[id]++
			}
		}
		for _, task := range p.Tasks {
			if ids[task.ID] {
				rt.Fatalf("task id %s twice", task.ID)
			}
			ids[task.ID] = true
			if task.Extra != (extra[task.ID] == 1) {
				rt.Fatalf("task %s: extra %v, named by %d faults", task.ID, task.Extra, extra[task.ID])
			}
			if !task.Extra && task.At > lastLaunch || task.Sleep == longSleep && task.KillAfter == 0 {
				rt.Fatalf("task %s launched at %v, sleeps %v, killed after %v", task.ID, task.At, task.Sleep, task.KillAfter)
			}
			if task.CPUs <= 0 || task.CPUs > p.AgentCPUs || task.Mem <= 0 || task.Mem > p.AgentMem {
				rt.Fatalf("task %s needs cpus %g mem %g of an agent of %s", task.ID, task.CPUs, task.Mem, p.AgentResources)
			}
			if !strings.Contains(Script(task), task.ID) {
				rt.Fatalf("the script of %s does not name it: %s", task.ID, Script(task))
			}
		}
		if !slices.IsSortedFunc(p.Faults, func(a, b Fault) int { return int(a.At - b.At) }) {
			rt.Fatalf("faults out of order: %v", p.Faults)
		}
		checkAgentFaults(rt, p)
	})
}

// checkAgentFaults: an agent has one fault at a time, and a pause is
// clearly shorter or clearly longer than the agent timeout.
func checkAgentFaults(rt *rapid.T, p Plan) {
	free := make([]int64, p.Agents)
	masters := 0
	for _, f := range p.Faults {
		if f.Kind == MasterRestart {
			masters++
		}
		if !f.Kind.agentFault() {
			continue
		}
		if f.Agent < 0 || f.Agent >= p.Agents || int64(f.At) < free[f.Agent] || f.At >= lastFault {
			rt.Fatalf("fault %+v: agent busy until %d", f, free[f.Agent])
		}
		free[f.Agent] = int64(f.At + f.Down)
		if f.Down == 0 {
			free[f.Agent] = 1 << 62
		}
		if f.Kind == AgentPause && f.Down > p.AgentTimeout/2 && f.Down < 2*p.AgentTimeout {
			rt.Fatalf("pause of %v: neither well within nor well beyond the agent timeout %v", f.Down, p.AgentTimeout)
		}
	}
	if masters > 2 {
		rt.Fatalf("%d master restarts", masters)
	}
}
