package faultsim

import (
	"fmt"
	"github.com/apronlab/apron/runtime/auth"
	"math/rand/v2"
	"time"

	"github.com/apronlab/apron/allocator"
	acore "github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/master/replica"
)

// Options shape a schedule. The zero value of each field takes the
// default named beside it.
type Options struct {
	Seed uint64
	// Masters is the number of masters: one keeps everything in memory
	// (unless Persist), more replicate their registry over raft.
	Masters    int           // default 1
	Persist    bool          // a lone master keeps its registry on its disk
	Agents     int           // default 3, of cpus:4;mem:4096
	Frameworks int           // default 2
	Tasks      int           // per framework (default 12)
	FaultPhase time.Duration // faults are injected this long (default 60s)
	FaultEvery time.Duration // about one fault this often (default 3s)
	Settle     time.Duration // after the faults, at most this long for every task to end (default 10m)
	Net        NetFaults
	// AgentTimeout and UnreachableTimeout are the master's (default 5s
	// and 40s: shorter than the longest pauses, so both sides of the
	// timeouts happen).
	AgentTimeout       time.Duration
	UnreachableTimeout time.Duration
	OfferTimeout       time.Duration // default 30s
	Policy             allocator.Config
	TraceLines         int // lines of the trace kept for a failure's report (default 200; 0 with NoTrace)
	NoTrace            bool
}

// NetFaults are the probabilities of the network's faults, per message,
// while faults are injected.
type NetFaults struct {
	Drop      float64 // a call, its answer, or a subscription is lost (default 0.03)
	Duplicate float64 // a call arrives twice (default 0.03)
	Slow      float64 // a message takes 0.2-2 s, which reorders calls (default 0.05)
}

func (o *Options) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&o.Masters, 1)
	set(&o.Agents, 3)
	set(&o.Frameworks, 2)
	set(&o.Tasks, 12)
	setD(&o.FaultPhase, time.Minute)
	setD(&o.FaultEvery, 3*time.Second)
	setD(&o.Settle, 10*time.Minute)
	setD(&o.AgentTimeout, 5*time.Second)
	setD(&o.UnreachableTimeout, 40*time.Second)
	setD(&o.OfferTimeout, 30*time.Second)
	if o.Net == (NetFaults{}) {
		o.Net = NetFaults{Drop: 0.03, Duplicate: 0.03, Slow: 0.05}
	}
	if o.Policy.Policy == "" {
		o.Policy = allocator.Config{Policy: "drf", AllocationInterval: 200 * time.Millisecond, OfferTimeout: o.OfferTimeout}
	}
	if o.TraceLines == 0 && !o.NoTrace {
		o.TraceLines = 200
	}
}

// Result is what a schedule did and what the checker found.
type Result struct {
	Seed       uint64
	Faults     map[string]int // injected, by kind
	Operations map[string]int // offer operations the frameworks sent, by type
	Tasks      int            // tasks the frameworks launched
	Steps      int            // events run
	Virtual    time.Duration  // simulated time
	Violations []string       // empty when every promise held
	Trace      []string       // the last Options.TraceLines lines of the schedule
}

// Run runs one schedule.
func Run(opts Options) Result {
	opts.defaults()
	w := &world{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x6661756c74)), now: epoch,
		procs: map[procKey]*proc{}, faults: map[string]int{}, ops: map[string]int{}, programs: map[fwTaskKey]program{}}
	for i := range opts.Masters {
		w.masters = append(w.masters, &masterNode{w: w, id: uint64(i + 1), disk: &replica.MemDisk{}})
	}
	res := api.FromResources(allocator.MustParseResources("cpus:4;mem:4096"))
	for i := range opts.Agents {
		w.agents = append(w.agents, &agentNode{w: w, name: fmt.Sprintf("agent-%d", i+1), res: res, disk: map[acore.TaskKey]*acore.Record{}})
	}
	for i := range opts.Frameworks {
		f := &fwNode{w: w, name: fmt.Sprintf("fw-%d", i+1), tasks: map[string]*fwTask{}, offers: map[string]api.Offer{}, lastUUID: map[string]api.UUID{},
			info: api.FrameworkInfo{Name: fmt.Sprintf("fw-%d", i+1), Principal: fmt.Sprintf("fw-%d", i+1), Roles: []string{fmt.Sprintf("role-%d", i+1)},
				FailoverTimeout: 3600, Capabilities: []api.Capability{{Type: api.PartitionAware}}}}
		for range opts.Tasks {
			f.pending = append(f.pending, f.newTask(w.workload()))
		}
		f.makeGroups()
		w.fws = append(w.fws, f)
	}
	w.acls = simACLs(w)
	for _, m := range w.masters {
		m.start()
	}
	for _, a := range w.agents {
		a.start()
	}
	for _, f := range w.fws {
		f.start()
	}
	w.planFaults()
	w.run(epoch.Add(opts.FaultPhase), nil)
	w.run(epoch.Add(opts.FaultPhase+opts.Settle), w.settled)
	w.check()
	r := Result{Seed: opts.Seed, Faults: w.faults, Operations: w.ops, Steps: w.steps, Virtual: w.now.Sub(epoch), Violations: w.errs}
	for _, f := range w.fws {
		r.Tasks += len(f.tasks)
	}
	r.Trace = w.trace
	return r
}

// workload draws a task's program: most run a few seconds and exit 0,
// some fail, some run long and are killed, some ignore SIGTERM.
func (w *world) workload() program {
	p := program{run: w.between(200*time.Millisecond, 6*time.Second)}
	switch r := w.rng.Float64(); {
	case r < 0.25:
		p.code = 3
	case r < 0.4:
		p.run, p.ignoreTerm = 30*time.Second, w.chance(0.3)
	}
	return p
}

// newTask adds a task to the framework's tasks.
func (f *fwNode) newTask(p program) *fwTask {
	t := &fwTask{id: fmt.Sprintf("%s-t%d", f.name, len(f.tasks)+1), prog: p,
		res: allocator.MustParseResources(fmt.Sprintf("cpus:%g;mem:%d", 0.5*float64(1+f.w.rng.IntN(2)), 128*(1+f.w.rng.IntN(3))))}
	if p.run >= 30*time.Second {
		t.killAfter = f.w.between(500*time.Millisecond, 3*time.Second)
	}
	f.tasks[t.id] = t
	return t
}

// settled says whether every framework's tasks ended and every agent is
// registered again.
func (w *world) settled() bool {
	if !w.healed {
		return false
	}
	for _, f := range w.fws {
		if !f.done() {
			return false
		}
	}
	for _, a := range w.agents {
		if state, _, _ := a.c.Connection(); state != "registered" {
			return false
		}
	}
	m := w.leader()
	if m == nil {
		return false
	}
	for _, a := range m.c.Summary().Agents {
		if !a.Connected {
			return false
		}
	}
	return true
}

func seed32(r *rand.Rand) [32]byte {
	var b [32]byte
	for i := range 4 {
		v := r.Uint64()
		for j := range 8 {
			b[8*i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// simACLs deny what no principal of the simulation was given: each
// framework registers for any role as itself, runs tasks as anyone but
// root and reserves for its own role, and unreserves what it reserved;
// each agent registers only its own name.
func simACLs(w *world) *auth.ACLs {
	a := &auth.ACLs{Rules: map[string][]auth.Rule{}}
	any := auth.Entity{Type: "ANY"}
	var fws []string
	for _, f := range w.fws {
		fws = append(fws, f.name)
	}
	a.Rules[auth.RegisterFrameworks] = []auth.Rule{{Principals: auth.Entity{Values: fws}, Objects: any}}
	a.Rules[auth.RunTasks] = []auth.Rule{{Principals: auth.Entity{Type: "NONE"}, Objects: auth.Entity{Values: []string{"root"}}}, {Principals: auth.Entity{Values: fws}, Objects: any}}
	for _, f := range w.fws {
		me := auth.Entity{Values: []string{f.name}}
		a.Rules[auth.ReserveResources] = append(a.Rules[auth.ReserveResources], auth.Rule{Principals: me, Objects: auth.Entity{Values: f.info.Roles}})
		a.Rules[auth.UnreserveResources] = append(a.Rules[auth.UnreserveResources], auth.Rule{Principals: me, Objects: me})
	}
	for _, ag := range w.agents {
		a.Rules[auth.RegisterAgents] = append(a.Rules[auth.RegisterAgents], auth.Rule{Principals: auth.Entity{Values: []string{ag.name}}, Objects: auth.Entity{Values: []string{ag.name}}})
	}
	return a
}
