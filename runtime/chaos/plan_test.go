package chaos

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
		checkMasterFaults(rt, p)
	})
}

// checkMasterFaults: one master or three, each with its own kinds of
// fault; at most two master faults, one at a time, apart; three masters
// always lose their leader once, in the way the seed says; a stopped
// leader stays stopped beyond the election timeout.
func checkMasterFaults(rt *rapid.T, p Plan) {
	if p.Masters != mastersOf(p.Seed) || p.Masters != 1 && p.Masters != 3 {
		rt.Fatalf("seed %d: %d masters", p.Seed, p.Masters)
	}
	var masters []Fault
	for _, f := range p.Faults {
		if f.Kind.masterFault() {
			masters = append(masters, f)
		}
	}
	if len(masters) > 2 {
		rt.Fatalf("%d master faults: %v", len(masters), masters)
	}
	for i, f := range masters {
		if (f.Kind == MasterRestart) != (p.Masters == 1) || f.Master != 0 || f.Follower < 0 || f.Follower > 1 {
			rt.Fatalf("%d masters, fault %+v", p.Masters, f)
		}
		if f.Kind == LeaderPause && f.Down <= electionTimeout {
			rt.Fatalf("a leader paused for %v, within the election timeout %v", f.Down, electionTimeout)
		}
		if i > 0 {
			prev := masters[i-1]
			next := prev.At + prev.Down + time.Second
			if prev.Kind.leaderFault() {
				next = max(next, prev.At+failoverBound+time.Second)
			}
			if f.At < next {
				rt.Fatalf("master fault %+v begins before %v, after %+v", f, next, prev)
			}
		}
	}
	if p.Masters == 3 {
		want := LeaderKill
		if p.Seed%4 == 0 {
			want = LeaderPause
		}
		if len(masters) == 0 || masters[0].Kind != want {
			rt.Fatalf("seed %d: master faults %v, want a %s first", p.Seed, masters, want)
		}
	}
}

// checkAgentFaults: an agent has one fault at a time, and a pause is
// clearly shorter or clearly longer than the agent timeout.
func checkAgentFaults(rt *rapid.T, p Plan) {
	free := make([]int64, p.Agents)
	for _, f := range p.Faults {
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
}

// The short run of make test (seeds 1-3) has one master and three, and
// kills a leader.
func TestShortRunCoversBothClusters(t *testing.T) {
	kinds := map[int]bool{}
	kill := false
	for seed := uint64(1); seed <= 3; seed++ {
		p := Generate(seed)
		kinds[p.Masters] = true
		kill = kill || slices.ContainsFunc(p.Faults, func(f Fault) bool { return f.Kind == LeaderKill })
	}
	if !kinds[1] || !kinds[3] || !kill {
		t.Errorf("seeds 1-3: masters %v, a leader kill %v; want plans of 1 and 3 masters and a leader kill", kinds, kill)
	}
}
