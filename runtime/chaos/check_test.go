package chaos

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/master"
)

// A hand-made run for the checker: plan, history and truth.
type scenario struct {
	o Observed
	// leader and term are the master that answers the snapshots from
	// now on, and its term (0: a single master's, as before).
	leader int
	term   uint64
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// newScenario is a cluster of two agents and the frameworks pa
// (partition-aware) and np, with tasks pa-t1 and np-t1 (cpus 1, mem 64),
// a clean end (quiescent, a final /state with nothing used).
func newScenario() *scenario {
	p := Plan{Agents: 2, AgentResources: "cpus:2;mem:1024", AgentCPUs: 2, AgentMem: 1024, AgentTimeout: 2 * time.Second,
		Frameworks: []FrameworkSpec{{Name: "pa", PartitionAware: true}, {Name: "np"}},
		Tasks:      []TaskSpec{{ID: "pa-t1", Framework: 0, CPUs: 1, Mem: 64}, {ID: "np-t1", Framework: 1, CPUs: 1, Mem: 64}}}
	s := &scenario{o: Observed{Plan: &p, Start: epoch, Agents: []string{"a1", "a2"}, Quiescent: true, Truths: map[string]Truth{}}}
	for _, t := range p.Tasks {
		s.o.Truths[t.ID] = Truth{Task: t.ID, Agent: -1, Ending: NeverStarted}
	}
	for _, fw := range p.Frameworks {
		s.add(0, Entry{Who: fw.Name, What: WhatSubscribe, Code: 200, Call: &api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{}}})
	}
	return s
}

func (s *scenario) add(t float64, e Entry) *scenario {
	e.T = sec(t)
	s.o.Entries = append(s.o.Entries, e)
	slices.SortStableFunc(s.o.Entries, func(a, b Entry) int { return int(a.T - b.T) })
	return s
}

func fwOf(task string) string { return task[:2] }

func (s *scenario) accept(t float64, code int, tasks ...string) *scenario {
	return s.acceptOn(t, code, "a1", tasks...)
}

// acceptOn is an ACCEPT of tasks on agent (none: "").
func (s *scenario) acceptOn(t float64, code int, agent string, tasks ...string) *scenario {
	var infos []api.TaskInfo
	for _, id := range tasks {
		infos = append(infos, api.TaskInfo{TaskID: api.ID{Value: id}, AgentID: api.ID{Value: agent}})
	}
	return s.add(t, Entry{Who: fwOf(tasks[0]), What: WhatCall, Code: code, Call: &api.Call{Type: api.CallAccept,
		Accept: &api.Accept{OfferIDs: []api.ID{{Value: "O1-1"}}, Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}}}})
}

func (s *scenario) update(t float64, task, state string, uuid api.UUID, reason string) *scenario {
	return s.add(t, Entry{Who: fwOf(task), What: WhatEvent, Event: &api.Event{Type: api.EventUpdate, Update: &api.Update{Status: api.TaskStatus{
		TaskID: api.ID{Value: task}, State: state, UUID: uuid, Reason: reason, AgentID: &api.ID{Value: "a1"}}}}})
}

func (s *scenario) kill(t float64, task string) *scenario {
	return s.add(t, Entry{Who: fwOf(task), What: WhatCall, Code: 202, Call: &api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: task}}}})
}

// ran says the task's process ran on agent a1 from a to b (seconds) and
// ended as e.
func (s *scenario) ran(task string, a, b float64, e Ending, code int) *scenario {
	tr := Truth{Task: task, Agent: 0, Starts: 1, Started: epoch.Add(sec(a)), Ending: e, Code: code, Term: e == Terminated}
	if e != Killed {
		tr.Ended = epoch.Add(sec(b))
	}
	s.o.Truths[task] = tr
	return s
}

// finished is a task's whole clean life: accepted at a, running, ended
// at b with its true state.
func (s *scenario) finished(task string, a, b float64, code int) *scenario {
	state := "TASK_FINISHED"
	if code != 0 {
		state = "TASK_FAILED"
	}
	return s.accept(a, 202, task).update(a+0.01, task, "TASK_RUNNING", api.UUID(task+"-u1"), "").ran(task, a+0.02, b, Exited, code).
		update(b+0.01, task, state, api.UUID(task+"-u2"), "")
}

func (s *scenario) window(agent int, kind FaultKind, a, b float64) *scenario {
	f := Fault{Kind: kind, Agent: agent}
	s.add(a, Entry{Who: "fault", What: WhatFaultBegin, Fault: &f})
	return s.add(b, Entry{Who: "fault", What: WhatFaultEnd, Fault: &f})
}

// snapshot adds a /state: tasks as "id:state:cpus", both agents active
// and connected with nothing offered.
func (s *scenario) snapshot(t float64, note string, tasks ...string) *scenario {
	snap := &Snapshot{Master: s.leader, Term: s.term, Total: master.Amounts{"cpus": 4, "mem": 2048}, Used: master.Amounts{}, Offered: master.Amounts{}}
	used := map[string]master.Amounts{"a1": {}, "a2": {}}
	for _, t := range tasks {
		var id, state string
		var cpus float64
		fmt.Sscanf(t, "%s %s %g", &id, &state, &cpus)
		snap.Tasks = append(snap.Tasks, SnapTask{ID: id, Agent: "a1", State: state, Resources: fmt.Sprintf("cpus:%g;mem:64", cpus)})
		if !terminal(state) {
			used["a1"]["cpus"] += cpus
			used["a1"]["mem"] += 64
			snap.Used["cpus"] += cpus
			snap.Used["mem"] += 64
		}
	}
	for _, a := range []string{"a1", "a2"} {
		snap.Agents = append(snap.Agents, SnapAgent{ID: a, State: "active", Connected: true,
			Total: master.Amounts{"cpus": 2, "mem": 1024}, Used: used[a], Offered: master.Amounts{}})
	}
	return s.add(t, Entry{Who: "tester", What: WhatSnapshot, Snapshot: snap, Note: note})
}

// end adds the final RECONCILE with its answers ("id state") and the
// final /state.
func (s *scenario) end(t float64, answers ...string) *scenario {
	s.add(t, Entry{Who: "tester", What: WhatPhase, Note: "final-reconcile"})
	for _, a := range answers {
		var id, state string
		fmt.Sscanf(a, "%s %s", &id, &state)
		s.update(t+0.01, id, state, "", "REASON_RECONCILIATION")
	}
	return s.snapshot(t+0.1, "final")
}

func (s *scenario) kinds() []string {
	var out []string
	for _, v := range Check(s.o) {
		out = append(out, v.Kind+":"+v.Task)
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		s    *scenario
		want []string
	}{
		{"clean", newScenario().finished("pa-t1", 1, 2, 0).finished("np-t1", 1, 3, 3).end(5, "pa-t1 TASK_FINISHED", "np-t1 TASK_FAILED"), nil},
		{"a retransmission is one update", newScenario().finished("pa-t1", 1, 2, 0).update(3, "pa-t1", "TASK_FINISHED", "pa-t1-u2", "").end(5, "pa-t1 TASK_FINISHED"), nil},
		{"the master may forget an acknowledged task", newScenario().finished("pa-t1", 1, 2, 0).end(5, "pa-t1 TASK_LOST"), nil},
		{"two terminal updates", newScenario().finished("pa-t1", 1, 2, 0).update(2.5, "pa-t1", "TASK_LOST", "", "REASON_AGENT_RESTARTED").end(5, "pa-t1 TASK_FINISHED"),
			[]string{DupTerminal + ":pa-t1"}},
		{"the wrong end", newScenario().accept(1, 202, "np-t1").ran("np-t1", 1, 2, Exited, 3).update(2.1, "np-t1", "TASK_FINISHED", "u", "").end(5, "np-t1 TASK_FINISHED"),
			[]string{WrongState + ":np-t1"}},
		{"no end", newScenario().accept(1, 202, "np-t1").ran("np-t1", 1, 2, Exited, 0).end(5, "np-t1 TASK_FINISHED"),
			[]string{StatusLost + ":np-t1"}},
		{"a reconciliation answer is no update", newScenario().accept(1, 202, "np-t1").ran("np-t1", 1, 2, Exited, 0).update(3, "np-t1", "TASK_FINISHED", "", "REASON_RECONCILIATION").end(5, "np-t1 TASK_FINISHED"),
			[]string{StatusLost + ":np-t1"}},
		{"a launch the master forgot, learnt by reconciling", newScenario().accept(1, 202, "pa-t1").update(3, "pa-t1", "TASK_LOST", "", "REASON_RECONCILIATION").end(5, "pa-t1 TASK_LOST"), nil},
		{"a process the crashed agent had not recorded, killed by its restart", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1.1, 2, Killed, 0).window(0, AgentCrash, 1.2, 3).
			update(3.5, "pa-t1", "TASK_FAILED", "u", "REASON_AGENT_RESTARTED").end(5, "pa-t1 TASK_FAILED"), nil},
		{"killed, TASK_FAILED REASON_AGENT_RESTARTED, but no agent crash", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1.1, 2, Killed, 0).
			update(3.5, "pa-t1", "TASK_FAILED", "u", "REASON_AGENT_RESTARTED").end(5, "pa-t1 TASK_FAILED"), []string{WrongState + ":pa-t1"}},
		{"an ACCEPT dropped without an update, TASK_UNKNOWN by reconciling", newScenario().accept(1, 202, "pa-t1").update(7, "pa-t1", "TASK_UNKNOWN", "", "REASON_RECONCILIATION").end(9, "pa-t1 TASK_UNKNOWN"), nil},
		{"TASK_UNKNOWN ends no task that ran", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).update(1.5, "pa-t1", "TASK_RUNNING", "u1", "").
			update(7, "pa-t1", "TASK_UNKNOWN", "", "REASON_RECONCILIATION").end(9, "pa-t1 TASK_UNKNOWN"), []string{StatusLost + ":pa-t1"}},
		{"lost while it ran, partition-aware", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 6, Exited, 0).window(0, AgentPause, 2, 6).
			update(4.1, "pa-t1", "TASK_LOST", "", "REASON_AGENT_UNREACHABLE").end(8, "pa-t1 TASK_LOST"), []string{FalseLoss + ":pa-t1"}},
		{"lost while its agent was away, not partition-aware", newScenario().accept(1, 202, "np-t1").ran("np-t1", 1, 6, Terminated, 0).window(0, AgentPause, 2, 6).
			update(4.1, "np-t1", "TASK_LOST", "", "REASON_AGENT_UNREACHABLE").end(8, "np-t1 TASK_LOST"), nil},
		{"lost over a short pause", newScenario().accept(1, 202, "np-t1").ran("np-t1", 1, 6, Exited, 0).window(0, AgentPause, 2, 2.5).
			update(4.1, "np-t1", "TASK_LOST", "", "REASON_AGENT_UNREACHABLE").end(8, "np-t1 TASK_LOST"), []string{FalseLoss + ":np-t1"}},
		{"an end decided while the framework was away, learnt by reconciling", away().update(4.1, "np-t1", "TASK_LOST", "", "REASON_RECONCILIATION").
			end(10, "np-t1 TASK_LOST"), nil},
		{"a reconciliation answer is no update while the framework was there", away().with(func(o *Observed) {
			o.Entries = slices.DeleteFunc(o.Entries, func(e Entry) bool { return e.What == WhatClosed })
		}).update(4.1, "np-t1", "TASK_LOST", "", "REASON_RECONCILIATION").end(10, "np-t1 TASK_LOST"), []string{StatusLost + ":np-t1"}},
		{"an end the agent sent is an update, whoever was away", away().update(4.1, "np-t1", "TASK_FAILED", "", "REASON_RECONCILIATION").
			end(10, "np-t1 TASK_FAILED"), []string{StatusLost + ":np-t1"}},
		{"killed on request", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Terminated, 0).kill(1.5, "pa-t1").update(2.1, "pa-t1", "TASK_KILLED", "u", "").end(5, "pa-t1 TASK_KILLED"), nil},
		{"a kill racing the end", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).kill(1.99, "pa-t1").update(2.1, "pa-t1", "TASK_KILLED", "u", "").end(5, "pa-t1 TASK_KILLED"), nil},
		{"killed unasked", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Terminated, 0).update(2.1, "pa-t1", "TASK_KILLED", "u", "").end(5, "pa-t1 TASK_KILLED"),
			[]string{WrongState + ":pa-t1"}},
		{"refused on an offer of no agent it knows, no answer", newScenario().acceptOn(1, 202, "", "pa-t1").update(1.01, "pa-t1", "TASK_DROPPED", "", "REASON_INVALID_OFFERS").end(5), nil},
		{"refused before it ran", newScenario().accept(1, 202, "pa-t1").update(1.01, "pa-t1", "TASK_DROPPED", "", "REASON_INVALID_OFFERS").end(5, "pa-t1 TASK_LOST"), nil},
		{"finished without running", newScenario().accept(1, 202, "pa-t1").update(1.01, "pa-t1", "TASK_FINISHED", "u", "").end(5, "pa-t1 TASK_FINISHED"),
			[]string{WrongState + ":pa-t1"}},
		{"an ACCEPT and its duplicate refused TASK_LOST, not partition aware", newScenario().accept(1, 202, "np-t1").accept(1.01, 202, "np-t1").
			update(1.02, "np-t1", "TASK_LOST", "", "REASON_INVALID_OFFERS").update(1.03, "np-t1", "TASK_LOST", "", "REASON_INVALID_OFFERS").end(5, "np-t1 TASK_LOST"), nil},
		{"a duplicate ACCEPT refused", newScenario().accept(1, 202, "pa-t1").finished("pa-t1", 1, 2, 0).update(1.01, "pa-t1", "TASK_DROPPED", "", "REASON_INVALID_OFFERS").end(5, "pa-t1 TASK_FINISHED"), nil},
		{"refused, yet it ran", newScenario().finished("pa-t1", 1, 2, 0).update(1.01, "pa-t1", "TASK_DROPPED", "", "REASON_INVALID_OFFERS").end(5, "pa-t1 TASK_FINISHED"),
			[]string{RanRefused + ":pa-t1"}},
		{"ran twice", newScenario().finished("pa-t1", 1, 2, 0).end(5, "pa-t1 TASK_FINISHED").with(func(o *Observed) {
			tr := o.Truths["pa-t1"]
			tr.Starts = 2
			o.Truths["pa-t1"] = tr
		}), []string{RanTwice + ":pa-t1"}},
		{"running after the end", newScenario().finished("pa-t1", 1, 2, 0).update(3, "pa-t1", "TASK_RUNNING", "u9", "").end(5, "pa-t1 TASK_FINISHED"),
			[]string{AfterEnd + ":pa-t1"}},
		{"a uuid with two states", newScenario().finished("pa-t1", 1, 2, 0).update(3, "pa-t1", "TASK_FAILED", "pa-t1-u2", "").end(5, "pa-t1 TASK_FINISHED"),
			[]string{UUIDReused + ":pa-t1"}},
		{"the final RECONCILE says it runs", newScenario().finished("pa-t1", 1, 2, 0).end(5, "pa-t1 TASK_RUNNING"), []string{ReconcileWrong + ":pa-t1"}},
		{"the final RECONCILE does not answer", newScenario().finished("pa-t1", 1, 2, 0).end(5), []string{ReconcileWrong + ":pa-t1"}},
		{"a process left", newScenario().finished("pa-t1", 1, 2, 0).end(5, "pa-t1 TASK_FINISHED").with(func(o *Observed) {
			tr := o.Truths["pa-t1"]
			tr.Alive = []int{123}
			o.Truths["pa-t1"] = tr
		}), []string{ProcessLeft + ":pa-t1", WrongState + ":pa-t1"}},
		{"a cgroup left", newScenario().end(5).with(func(o *Observed) { o.Cgroups = []string{"/sys/fs/cgroup/cpu/apron/a1/x"} }), []string{CgroupLeft + ":"}},
		{"not quiescent", newScenario().end(5).with(func(o *Observed) { o.Quiescent, o.Open = false, "x" }), []string{NotQuiescent + ":"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.kinds(); !slices.Equal(got, tt.want) {
				t.Errorf("violations %v, want %v\n%v", got, tt.want, Check(tt.s.o))
			}
		})
	}
}

// away: np-t1 runs on a1 from 1 and exits with 3 at 6, a1 is paused from
// 2 to 8 (the master finds it unreachable), and np's stream closes at 2.5,
// np subscribed again at 4.
func away() *scenario {
	return newScenario().subscribed(0.05, "np", 0).accept(1, 202, "np-t1").update(1.01, "np-t1", "TASK_RUNNING", "u1", "").
		ran("np-t1", 1.02, 6, Exited, 3).window(0, AgentPause, 2, 8).
		add(2.5, Entry{Who: "np", What: WhatClosed, Err: "EOF"}).subscribed(4, "np", 0)
}

func (s *scenario) with(fn func(*Observed)) *scenario {
	fn(&s.o)
	return s
}

func TestCheckResourcesAgentsFrameworks(t *testing.T) {
	fiddle := func(fn func(s *Snapshot)) func(*Observed) {
		return func(o *Observed) {
			for i := range o.Entries {
				if o.Entries[i].What == WhatSnapshot && o.Entries[i].Note == "" {
					fn(o.Entries[i].Snapshot)
				}
			}
		}
	}
	bigger := func(o *Observed) {
		for i := range o.Plan.Tasks {
			o.Plan.Tasks[i].CPUs = 1.5
		}
	}
	refused := func(s *scenario, t float64) *scenario {
		return s.add(t, Entry{Who: "np", What: WhatSubscribe, Code: 404, Err: "not known", Call: &api.Call{Type: api.CallSubscribe,
			Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{ID: &api.ID{Value: "fw"}}}}})
	}
	tests := []struct {
		name string
		s    *scenario
		want []string
	}{
		{"books that balance", newScenario().finished("pa-t1", 1, 3, 0).snapshot(2, "", "pa-t1 TASK_RUNNING 1").end(5, "pa-t1 TASK_FINISHED"), nil},
		{"used is not what the tasks hold", newScenario().finished("pa-t1", 1, 3, 0).snapshot(2, "", "pa-t1 TASK_RUNNING 1").end(5, "pa-t1 TASK_FINISHED").
			with(fiddle(func(s *Snapshot) { s.Used["mem"] += 64 })), []string{Books + ":"}},
		{"an agent used and offered beyond its total", newScenario().snapshot(2, "").end(5).
			with(fiddle(func(s *Snapshot) { s.Agents[1].Offered = master.Amounts{"cpus": 3} })), []string{Books + ":"}},
		{"a disconnected agent offered", newScenario().snapshot(2, "").end(5).
			with(fiddle(func(s *Snapshot) { s.Agents[1].Connected, s.Agents[1].Offered = false, master.Amounts{"cpus": 1} })), []string{OfferedAway + ":"}},
		{"an offer of an agent that is down", newScenario().window(1, AgentCrash, 2, 5).add(3, offer("a2")).add(5.5, offer("a2")).end(6), []string{OfferedAway + ":"}},
		{"an offer of an agent just killed, or paused", newScenario().window(1, AgentCrash, 2, 5).add(2.1, offer("a2")).window(0, AgentPause, 2, 5).add(3, offer("a1")).end(6), nil},
		{"a task left at the end", newScenario().finished("pa-t1", 1, 3, 0).snapshot(5.1, "final", "pa-t1 TASK_STAGING 1"), []string{Books + ":", Books + ":"}},
		{"resources held long after the end", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).
			snapshot(14, "", "pa-t1 TASK_STARTING 1").update(15, "pa-t1", "TASK_FINISHED", "u", "").end(16, "pa-t1 TASK_FINISHED"), []string{HeldAfterEnd + ":pa-t1"}},
		{"resources held after the master heard of the end", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).
			update(1.1, "pa-t1", "TASK_STARTING", "u1", "").update(3, "pa-t1", "TASK_STARTING", "u1", "").
			snapshot(3.5, "", "pa-t1 TASK_STARTING 1").update(15, "pa-t1", "TASK_FINISHED", "u", "").end(16, "pa-t1 TASK_FINISHED"), []string{HeldAfterEnd + ":pa-t1"}},
		{"resources held before the master heard of the end", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).
			update(1.1, "pa-t1", "TASK_STARTING", "u1", "").snapshot(3.5, "", "pa-t1 TASK_STARTING 1").update(3.6, "pa-t1", "TASK_STARTING", "u1", "").
			update(15, "pa-t1", "TASK_FINISHED", "u", "").end(16, "pa-t1 TASK_FINISHED"), nil},
		{"resources held while the agent was away", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).window(0, AgentCrash, 2.5, 13).
			snapshot(14, "", "pa-t1 TASK_STARTING 1").update(15, "pa-t1", "TASK_FINISHED", "u", "").end(16, "pa-t1 TASK_FINISHED"), nil},
		{"resources held a short while", newScenario().accept(1, 202, "pa-t1").ran("pa-t1", 1, 2, Exited, 0).
			snapshot(5, "", "pa-t1 TASK_STARTING 1").update(15, "pa-t1", "TASK_FINISHED", "u", "").end(16, "pa-t1 TASK_FINISHED"), nil},
		{"overcommit", newScenario().finished("pa-t1", 1, 3, 0).finished("np-t1", 1.5, 4, 0).end(5, "pa-t1 TASK_FINISHED", "np-t1 TASK_FINISHED").
			with(bigger), []string{Overcommit + ":"}},
		{"one after the other", newScenario().finished("pa-t1", 1, 3, 0).finished("np-t1", 3.5, 4, 0).end(5, "pa-t1 TASK_FINISHED", "np-t1 TASK_FINISHED").
			with(bigger), nil},
		{"agents back after a master restart", newScenario().window(-1, MasterRestart, 1, 2).snapshot(3, "").snapshot(12.5, "").end(13), nil},
		{"an agent locked out after a master restart", newScenario().window(-1, MasterRestart, 1, 2).snapshot(3, "").snapshot(12.5, "").end(13).
			with(fiddle(func(s *Snapshot) { s.Agents[0].Connected = false })), []string{NotReregistered + ":"}},
		{"an agent away of its own", newScenario().window(-1, MasterRestart, 1, 2).window(0, AgentCrash, 1.5, 20).snapshot(3, "").snapshot(12.5, "").end(21).
			with(fiddle(func(s *Snapshot) { s.Agents[0].Connected = false })), nil},
		{"a framework refused its id", refused(newScenario().accept(1, 202, "np-t1").ran("np-t1", 1, 2, Exited, 0), 3).end(5),
			[]string{StatusLost + ":np-t1", FrameworkLost + ":"}},
		{"a framework with no task refused its id", refused(newScenario().finished("np-t1", 1, 2, 0), 3).end(5), nil},
		{"a framework refused its id a while", refused(newScenario(), 3).add(4, Entry{Who: "np", What: WhatSubscribe, Code: 200, Call: &api.Call{Type: api.CallSubscribe,
			Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{ID: &api.ID{Value: "fw"}}}}}).end(5), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.kinds(); !slices.Equal(got, tt.want) {
				t.Errorf("violations %v, want %v\n%v", got, tt.want, Check(tt.s.o))
			}
		})
	}
}

func offer(agent string) Entry {
	return Entry{Who: "pa", What: WhatEvent, Event: &api.Event{Type: api.EventOffers, Offers: &api.Offers{Offers: []api.Offer{{ID: api.ID{Value: "O1-1"}, AgentID: api.ID{Value: agent}}}}}}
}
