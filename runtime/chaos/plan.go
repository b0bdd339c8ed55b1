package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// FaultKind names a fault the suite injects.
type FaultKind string

// The faults. Agent faults last Down (an agent killed with Down 0 comes
// back in the recovery phase); framework faults apply to one framework.
const (
	AgentCrash        FaultKind = "agent-crash"         // kill -9, restart with the same work dir after Down
	AgentStop         FaultKind = "agent-stop"          // SIGTERM, restart with the same work dir after Down
	AgentPause        FaultKind = "agent-pause"         // SIGSTOP, SIGCONT after Down: a partition
	MasterRestart     FaultKind = "master-restart"      // one master: kill -9, start again on the same address after Down
	LeaderKill        FaultKind = "leader-kill"         // three masters: kill -9 of the leader, restarted after Down on its address and data dir
	LeaderPause       FaultKind = "leader-pause"        // three masters: SIGSTOP of the leader (a minority partition), SIGCONT after Down
	FollowerKill      FaultKind = "follower-kill"       // three masters: kill -9 of a follower, restarted after Down
	FrameworkFailover FaultKind = "framework-failover"  // drop the stream, re-subscribe with the framework's id after Down
	AckPause          FaultKind = "ack-pause"           // acknowledge nothing for Down, then everything
	DupAck            FaultKind = "duplicate-ack"       // every acknowledgement sent twice for Down
	DupAccept         FaultKind = "duplicate-accept"    // the next ACCEPT is sent twice
	DupTaskID         FaultKind = "duplicate-task-id"   // the next ACCEPT carries its first task twice
	DupOfferIDs       FaultKind = "duplicate-offer-ids" // the next ACCEPT names its offer twice, with Tasks for more than the offer
	StaleAccept       FaultKind = "stale-accept"        // an ACCEPT of an offer already used, launching Tasks
	KillFinished      FaultKind = "kill-finished"       // a KILL of a task the framework saw end
)

// FaultKinds lists every kind, in the order summaries show them.
var FaultKinds = []FaultKind{AgentCrash, AgentStop, AgentPause, MasterRestart, LeaderKill, LeaderPause, FollowerKill,
	FrameworkFailover, AckPause, DupAck, DupAccept, DupTaskID, DupOfferIDs, StaleAccept, KillFinished}

// Fault is one fault of a plan.
type Fault struct {
	At    time.Duration `json:"at"`
	Kind  FaultKind     `json:"kind"`
	Agent int           `json:"agent,omitempty"` // agent faults: the agent's index
	// Follower picks, for a FollowerKill, the first (0) or second (1)
	// follower in id order. Which master leads is known only when the
	// fault comes: Master is the id (1-based) of the master it was done
	// to, as the history records it (0 in a plan).
	Follower  int           `json:"follower,omitempty"`
	Master    int           `json:"master,omitempty"`
	Framework int           `json:"framework,omitempty"` // framework faults: the framework's index
	Down      time.Duration `json:"down,omitempty"`      // how long it lasts; 0 for an agent: until the recovery phase
	Tasks     []string      `json:"tasks,omitempty"`     // the extra tasks a DupOfferIDs or StaleAccept launches
	// KillAway: once the agent is down or paused, the frameworks kill
	// their tasks there that they would kill later anyway (KillAfter > 0).
	KillAway bool `json:"kill_away,omitempty"`
}

// agentFault says whether k takes an agent down or away.
func (k FaultKind) agentFault() bool { return k == AgentCrash || k == AgentStop || k == AgentPause }

// masterFault says whether k takes a master down or away.
func (k FaultKind) masterFault() bool {
	return k == MasterRestart || k == LeaderKill || k == LeaderPause || k == FollowerKill
}

// leaderFault says whether k takes the leading master away, so that the
// others elect a new one.
func (k FaultKind) leaderFault() bool { return k == LeaderKill || k == LeaderPause }

// TaskSpec is one task of the workload: it sleeps Sleep and exits with
// Exit, unless its framework kills it KillAfter after launching it.
type TaskSpec struct {
	ID        string        `json:"id"`
	Framework int           `json:"framework"`
	At        time.Duration `json:"at"` // launched on the first offer after At
	Sleep     time.Duration `json:"sleep"`
	Exit      int           `json:"exit"`
	KillAfter time.Duration `json:"kill_after,omitempty"` // 0: never killed
	CPUs      float64       `json:"cpus"`
	Mem       float64       `json:"mem"`
	Extra     bool          `json:"extra,omitempty"` // launched only by the fault that lists it
}

// FrameworkSpec is one framework of a plan.
type FrameworkSpec struct {
	Name           string `json:"name"`
	PartitionAware bool   `json:"partition_aware"`
}

// Plan is one seed's scenario: the cluster, the workload and the faults.
type Plan struct {
	Seed           uint64          `json:"seed"`
	Masters        int             `json:"masters"` // 1, or 3 replicated over raft
	Agents         int             `json:"agents"`
	AgentResources string          `json:"agent_resources"`
	AgentCPUs      float64         `json:"agent_cpus"`
	AgentMem       float64         `json:"agent_mem"`
	AgentTimeout   time.Duration   `json:"agent_timeout"`
	Active         time.Duration   `json:"active"` // the workload and faults; then the recovery phase
	Frameworks     []FrameworkSpec `json:"frameworks"`
	Tasks          []TaskSpec      `json:"tasks"`
	Faults         []Fault         `json:"faults"`
}

const (
	agentCPUs    = 2
	agentMem     = 1024
	agentTimeout = 2 * time.Second
	activePhase  = 16 * time.Second
	lastLaunch   = 11 * time.Second // tasks are launched before this
	lastFault    = 14 * time.Second // faults begin before this
	longSleep    = 300 * time.Second
	// electionTimeout is the longest a follower waits for its leader
	// before it campaigns: 20 ticks of the masters' default --raft-tick.
	electionTimeout = 2 * time.Second
	// failoverBound is how soon after the leader is killed or stopped a
	// new leader answers /state (issue 15: within 5 s of the election
	// timeout).
	failoverBound = electionTimeout + 5*time.Second
)

// Generate makes the plan of a seed: a pure function of it.
func Generate(seed uint64) Plan {
	r := rand.New(rand.NewPCG(seed, 0x6170726f6e2d6368)) // "apron-ch"
	p := Plan{Seed: seed, Masters: mastersOf(seed), Agents: 2 + r.IntN(2), AgentCPUs: agentCPUs, AgentMem: agentMem,
		AgentResources: fmt.Sprintf("cpus:%d;mem:%d", agentCPUs, agentMem), AgentTimeout: agentTimeout, Active: activePhase,
		Frameworks: []FrameworkSpec{{Name: "pa", PartitionAware: true}, {Name: "np"}}}
	for fw := range p.Frameworks {
		for i := range 9 + r.IntN(5) {
			p.Tasks = append(p.Tasks, workloadTask(r, fmt.Sprintf("%s-t%02d", p.Frameworks[fw].Name, i), fw))
		}
	}
	p.Faults = faults(r, &p)
	slices.SortStableFunc(p.Tasks, func(a, b TaskSpec) int { return int(a.At - b.At) })
	return p
}

// mastersOf is how many masters a seed's plan has: three replicated ones
// for an even seed, one for an odd seed, so that any two seeds in a row
// (make test's 1-3) have both.
func mastersOf(seed uint64) int {
	if seed%2 == 0 {
		return 3
	}
	return 1
}

// ms draws a duration of lo to hi milliseconds, in whole milliseconds.
func ms(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo+r.IntN(hi-lo+1)) * time.Millisecond
}

// workloadTask draws a task: quick, medium, or a long sleeper that is
// always killed; some quick and medium ones are killed too, racing their
// own end.
func workloadTask(r *rand.Rand, id string, fw int) TaskSpec {
	t := TaskSpec{ID: id, Framework: fw, At: ms(r, 0, int(lastLaunch/time.Millisecond)),
		CPUs: float64(2+r.IntN(5)) * 5 / 100, Mem: float64(32 + 16*r.IntN(3))}
	exits := []int{0, 0, 0, 3, 1, 7}
	switch k := r.IntN(10); {
	case k < 5:
		t.Sleep, t.Exit = ms(r, 0, 1500), exits[r.IntN(len(exits))]
	case k < 8:
		t.Sleep, t.Exit = ms(r, 2000, 7000), exits[r.IntN(len(exits))]
	default:
		t.Sleep, t.KillAfter = longSleep, ms(r, 1000, 6000)
	}
	if t.KillAfter == 0 && r.IntN(7) == 0 {
		t.KillAfter = t.Sleep + ms(r, -300, 300)
		t.KillAfter = max(t.KillAfter, 100*time.Millisecond)
	}
	return t
}

// faults draws 4 to 8 faults. An agent suffers one fault at a time, and
// so do the masters; a plan of three masters begins its master faults
// with one of its leader (a kill, or for a seed divisible by 4 a pause). The extra tasks of ACCEPT faults join the plan's
// tasks.
func faults(r *rand.Rand, p *Plan) []Fault {
	weights := map[FaultKind]int{AgentCrash: 4, AgentStop: 2, AgentPause: 4, FrameworkFailover: 3,
		AckPause: 1, DupAck: 1, DupAccept: 2, DupTaskID: 1, DupOfferIDs: 1, StaleAccept: 2, KillFinished: 2}
	if p.Masters == 1 {
		weights[MasterRestart] = 2
	} else {
		weights[LeaderKill], weights[LeaderPause], weights[FollowerKill] = 3, 2, 2
	}
	total := 0
	for _, k := range FaultKinds {
		total += weights[k]
	}
	busy := make([]time.Duration, p.Agents) // when each agent's last fault ends
	var sched masterSchedule
	var out []Fault
	if p.Masters > 1 {
		kind := LeaderKill // seeds 2, 6, 10...; 4, 8, 12... pause their leader first
		if p.Seed%4 == 0 {
			kind = LeaderPause
		}
		if f, ok := sched.add(r, Fault{At: ms(r, 1500, 7000), Kind: kind}); ok {
			out = append(out, f)
		}
	}
	for range 4 + r.IntN(5) - len(out) {
		n := r.IntN(total)
		kind := FaultKinds[0]
		for _, k := range FaultKinds {
			if n < weights[k] {
				kind = k
				break
			}
			n -= weights[k]
		}
		f := Fault{At: ms(r, 1000, int(lastFault/time.Millisecond)), Kind: kind}
		switch {
		case kind.agentFault():
			f.Agent = r.IntN(p.Agents)
			f.Down = agentDown(r, kind)
			f.KillAway = r.IntN(5) < 2
			if f.At < busy[f.Agent] {
				f.At = busy[f.Agent] + ms(r, 200, 1000)
			}
			if f.At >= lastFault {
				continue
			}
			busy[f.Agent] = f.At + f.Down
			if f.Down == 0 {
				busy[f.Agent] = 1 << 62
			}
		case kind.masterFault():
			var ok bool
			if f, ok = sched.add(r, f); !ok {
				continue
			}
		default:
			f.Framework = r.IntN(len(p.Frameworks))
			f.Down = frameworkDown(r, kind)
			if kind == AckPause { // early and long, so that tasks held unacknowledged show before the recovery phase
				f.At = ms(r, 1000, 2500)
				f.Down = activePhase - 500*time.Millisecond - f.At - ms(r, 0, 500)
			}
			f.Tasks = extraTasks(r, p, f, len(out))
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Fault) int { return int(a.At - b.At) })
	return out
}

// masterSchedule keeps master faults apart: at most two, one at a time,
// the next at least a second after the last one's end, and after a leader
// fault not before the new leader is due.
type masterSchedule struct {
	n    int
	free time.Duration // when the next may begin
}

// add draws how long a master fault lasts and moves it past the last
// one; false: there is no room for it.
func (s *masterSchedule) add(r *rand.Rand, f Fault) (Fault, bool) {
	if s.n == 2 {
		return f, false
	}
	switch f.Kind {
	case MasterRestart:
		f.Down = ms(r, 200, 2000)
	case LeaderKill:
		f.Down = ms(r, 500, 4000)
	case LeaderPause: // well beyond the election timeout: the others elect a leader meanwhile
		f.Down = ms(r, 3000, 6000)
	case FollowerKill:
		f.Down = ms(r, 500, 4000)
		f.Follower = r.IntN(2)
	}
	if f.At < s.free {
		f.At = s.free + ms(r, 200, 1000)
	}
	if f.At >= lastFault {
		return f, false
	}
	s.n++
	s.free = f.At + f.Down + time.Second
	if f.Kind.leaderFault() {
		s.free = max(s.free, f.At+failoverBound+time.Second)
	}
	return f, true
}

// agentDown draws how long an agent fault lasts: well within the agent
// timeout or well beyond it (a crash also until the recovery phase).
func agentDown(r *rand.Rand, kind FaultKind) time.Duration {
	short := ms(r, 300, int(agentTimeout/time.Millisecond)/2)
	long := ms(r, 2*int(agentTimeout/time.Millisecond), 8000)
	switch n := r.IntN(20); {
	case n < 8:
		return short
	case n < 17 || kind == AgentPause:
		return long
	}
	return 0
}

func frameworkDown(r *rand.Rand, kind FaultKind) time.Duration {
	switch kind {
	case FrameworkFailover:
		return ms(r, 300, 4000)
	case DupAck:
		return ms(r, 2000, 6000)
	}
	return 0
}

// extraTasks adds the tasks a DupOfferIDs or StaleAccept fault launches:
// for DupOfferIDs, three of one CPU each, more than an agent has, so that
// counting the offer twice would overcommit it.
func extraTasks(r *rand.Rand, p *Plan, f Fault, n int) []string {
	count, cpus := 0, 0.0
	switch f.Kind {
	case DupOfferIDs:
		count, cpus = 3, 1
	case StaleAccept:
		count, cpus = 1, 0.1
	}
	var ids []string
	for i := range count {
		t := TaskSpec{ID: fmt.Sprintf("%s-x%02d%c", p.Frameworks[f.Framework].Name, n, 'a'+i), Framework: f.Framework, At: f.At,
			Sleep: ms(r, 2500, 3500), CPUs: cpus, Mem: 64, Extra: true}
		p.Tasks = append(p.Tasks, t)
		ids = append(ids, t.ID)
	}
	return ids
}

// Task returns the plan's task of id.
func (p *Plan) Task(id string) (TaskSpec, bool) {
	i := slices.IndexFunc(p.Tasks, func(t TaskSpec) bool { return t.ID == id })
	if i < 0 {
		return TaskSpec{}, false
	}
	return p.Tasks[i], true
}

// String is the plan for a person: the cluster, the faults, the tasks.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d master(s), %d agents of %s, agent timeout %v, active phase %v\n", p.Seed, p.Masters, p.Agents, p.AgentResources, p.AgentTimeout, p.Active)
	fmt.Fprintf(&b, "faults:\n")
	for _, f := range p.Faults {
		fmt.Fprintf(&b, "  %7.3fs %s\n", f.At.Seconds(), p.describe(f))
	}
	fmt.Fprintf(&b, "tasks:\n")
	for _, t := range p.Tasks {
		fmt.Fprintf(&b, "  %7.3fs %s\n", t.At.Seconds(), t)
	}
	return b.String()
}

func (p Plan) describe(f Fault) string {
	switch {
	case f.Kind.agentFault():
		down := fmt.Sprintf("for %v", f.Down)
		if f.Down == 0 {
			down = "until the recovery phase"
		}
		kill := ""
		if f.KillAway {
			kill = ", its killable tasks killed meanwhile"
		}
		return fmt.Sprintf("%s of agent a%d %s%s", f.Kind, f.Agent+1, down, kill)
	case f.Kind == FollowerKill:
		return fmt.Sprintf("%s of the %s follower, down for %v", f.Kind, []string{"first", "second"}[f.Follower], f.Down)
	case f.Kind.masterFault():
		return fmt.Sprintf("%s, down for %v", f.Kind, f.Down)
	}
	s := fmt.Sprintf("%s by framework %s", f.Kind, p.Frameworks[f.Framework].Name)
	if f.Down > 0 {
		s += fmt.Sprintf(" for %v", f.Down)
	}
	if len(f.Tasks) > 0 {
		s += " launching " + strings.Join(f.Tasks, ", ")
	}
	return s
}

func (t TaskSpec) String() string {
	s := fmt.Sprintf("%s: sleep %v, exit %d, cpus %g, mem %g", t.ID, t.Sleep, t.Exit, t.CPUs, t.Mem)
	if t.KillAfter > 0 {
		s += fmt.Sprintf(", killed %v after launch", t.KillAfter)
	}
	if t.Extra {
		s += " (extra)"
	}
	return s
}
