package core

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// launched is a rig with one agent and one framework that launched task
// t1 (cpus:1;mem:128) on it.
func launched(t *testing.T, info api.FrameworkInfo) (r *rig, fw, fs, as string) {
	r = newRig(t, Config{AgentTimeout: 10 * time.Second})
	as = r.agent("a1", "cpus:2;mem:2048", nil)
	fw, fs = r.framework(info)
	r.advance(time.Millisecond)
	o := r.lastOffer(fs)
	if ref := r.call(fw, fs, launchCall([]string{o.ID.Value}, taskInfo("t1", "cpus:1;mem:128"))); ref != nil {
		t.Fatal(ref)
	}
	if n := len(r.agentEvents(as, api.AgentEventLaunch)); n != 1 {
		t.Fatalf("%d launches sent to the agent, want 1", n)
	}
	return r, fw, fs, as
}

// Mesos forwards the latest state: a task whose STARTING update the
// framework never acknowledges, and which finished behind it, is
// FINISHED in the master and holds no resources.
func TestUnacknowledgedUpdatesDoNotHoldResources(t *testing.T) {
	r, fw, fs, _ := launched(t, api.FrameworkInfo{Name: "f"})
	if ref := r.status("a1", fw, "t1", TaskStarting, TaskFinished, "u1"); ref != nil {
		t.Fatal(ref)
	}
	if tk := r.task(fw, "t1"); tk == nil || tk.State != TaskFinished {
		t.Fatalf("task after STARTING with latest_state FINISHED: %+v", tk)
	}
	if u := r.used("a1"); !u.IsEmpty() {
		t.Errorf("the agent's used resources %s; a terminal task holds none", u)
	}
	if got := r.updates(fs, "t1"); len(got) != 1 || got[0] != TaskStarting {
		t.Errorf("framework got %v, want the oldest update, STARTING, to acknowledge", got)
	}
	// The task stays until its terminal update is acknowledged.
	_ = r.status("a1", fw, "t1", TaskFinished, "", "u3")
	if ref := r.call(fw, fs, api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: "t1"}, UUID: uid("u3")}}); ref != nil {
		t.Fatal(ref)
	}
	if r.task(fw, "t1") != nil {
		t.Error("an acknowledged terminal task is still among the framework's tasks")
	}
}

// A task that ends while its agent restarts reaches the framework with its
// true state, not TASK_LOST: the master keeps a disconnected agent's tasks
// until it re-registers (or its heartbeats stop for the agent timeout).
func TestRealEndingsSurviveAnAgentRestart(t *testing.T) {
	r, fw, fs, as := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	r.c.AgentGone(r.now, as)
	r.advance(6 * time.Second)
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskFinished, Role: "default"}
	r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	_ = r.status("a1", fw, "t1", TaskFinished, "", "u2")
	got := r.updates(fs, "t1")
	if contains(got, TaskLost) || got[len(got)-1] != TaskFinished {
		t.Errorf("framework got %v, want TASK_FINISHED last and no TASK_LOST", got)
	}
	if u := r.used("a1"); !u.IsEmpty() {
		t.Errorf("used %s after the task finished", u)
	}
}

// A partition-aware framework's tasks on an unreachable agent are
// TASK_UNREACHABLE, and resume with their true states when it comes back.
func TestUnreachableTasksResume(t *testing.T) {
	r, fw, fs, as := launched(t, partitionAware("f"))
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	r.c.AgentGone(r.now, as)
	r.advance(11 * time.Second)
	if got := r.updates(fs, "t1"); got[len(got)-1] != TaskUnreachable {
		t.Fatalf("framework got %v, want TASK_UNREACHABLE last", got)
	}
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}
	r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	if tk := r.task(fw, "t1"); tk == nil || tk.State != TaskRunning || !tk.charged {
		t.Fatalf("task after its agent came back: %+v", tk)
	}
	if u := r.used("a1"); !u.Equal(allocator.MustParseResources("cpus:1;mem:128")) {
		t.Errorf("used %s, want the running task's cpus:1;mem:128", u)
	}
}

// A framework that is not partition aware got TASK_LOST: when the agent
// comes back the task is killed, and its real end is not told again.
func TestLostTasksAreKilledWhenTheAgentReturns(t *testing.T) {
	r, fw, fs, as := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	r.c.AgentGone(r.now, as)
	r.advance(11 * time.Second)
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}
	as2 := r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	if n := len(r.agentEvents(as2, api.AgentEventKill)); n != 1 {
		t.Errorf("%d kills sent to the returning agent, want 1", n)
	}
	_ = r.status("a1", fw, "t1", TaskKilled, "", "u9")
	if got := r.updates(fs, "t1"); len(got) != 1 || got[0] != TaskLost {
		t.Errorf("framework got %v, want only TASK_LOST", got)
	}
	if acks := r.agentEvents(as2, api.AgentEventAck); len(acks) != 1 {
		t.Errorf("the master acknowledged %d updates itself, want 1", len(acks))
	}
}

// A KILL for a task whose agent is disconnected is kept and sent when the
// agent re-registers (Mesos retries kills on re-registration).
func TestKillWhileAgentDisconnected(t *testing.T) {
	r, fw, fs, as := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	r.c.AgentGone(r.now, as)
	if ref := r.call(fw, fs, api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "t1"}}}); ref != nil {
		t.Fatal(ref)
	}
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}
	as2 := r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	kills := r.agentEvents(as2, api.AgentEventKill)
	if len(kills) != 1 || kills[0].Kill.TaskID != "t1" {
		t.Errorf("kills sent on re-registration: %+v, want t1's", kills)
	}
}

// A task the master sent but the agent never got (it re-registers without
// it) is dropped, not left STAGING with its resources.
func TestStagingTaskLostInTransitIsDropped(t *testing.T) {
	r, fw, fs, as := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	r.c.AgentGone(r.now, as)
	r.agent("a1", "cpus:2;mem:2048", nil)
	if got := r.updates(fs, "t1"); len(got) != 1 || got[0] != TaskDropped {
		t.Errorf("framework got %v, want TASK_DROPPED", got)
	}
	if r.task(fw, "t1") != nil || !r.used("a1").IsEmpty() {
		t.Errorf("the dropped task is kept (%v) or holds %s", r.task(fw, "t1"), r.used("a1"))
	}
}

// ACCEPT accounting: an offer named twice launches nothing; two tasks
// with one id launch one; the offers of a refused ACCEPT are used up; an
// ACCEPT sent again does not touch the tasks it launched.
func TestAcceptAccounting(t *testing.T) {
	t.Run("offer twice", func(t *testing.T) {
		for _, tt := range []struct {
			caps []api.Capability
			want string
		}{{nil, TaskLost}, {[]api.Capability{{Type: api.PartitionAware}}, TaskDropped}} {
			r := newRig(t, Config{})
			r.agent("a1", "cpus:2;mem:2048", nil)
			fw, fs := r.framework(api.FrameworkInfo{Name: "f", Capabilities: tt.caps})
			r.advance(time.Millisecond)
			o := r.lastOffer(fs).ID.Value
			_ = r.call(fw, fs, launchCall([]string{o, o}, taskInfo("a", "cpus:2;mem:1536")))
			if got := r.updates(fs, "a"); len(got) != 1 || got[0] != tt.want {
				t.Errorf("capabilities %v: task a: %v, want %s (as Mesos: TASK_DROPPED only to a partition-aware framework)", tt.caps, got, tt.want)
			}
		}
		r := newRig(t, Config{})
		r.agent("a1", "cpus:2;mem:2048", nil)
		fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
		r.advance(time.Millisecond)
		o := r.lastOffer(fs).ID.Value
		_ = r.call(fw, fs, launchCall([]string{o, o}, taskInfo("a", "cpus:2;mem:1536"), taskInfo("b", "cpus:2;mem:1536")))
		if u := r.used("a1"); !u.IsEmpty() {
			t.Errorf("used %s after a refused ACCEPT", u)
		}
		if r.c.Offers() != 0 {
			t.Errorf("%d offers outstanding; the ACCEPT used its offer up", r.c.Offers())
		}
	})
	t.Run("task id twice", func(t *testing.T) {
		r := newRig(t, Config{})
		r.agent("a1", "cpus:2;mem:2048", nil)
		fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
		r.advance(time.Millisecond)
		o := r.lastOffer(fs).ID.Value
		_ = r.call(fw, fs, launchCall([]string{o}, taskInfo("same", "cpus:1;mem:512"), taskInfo("same", "cpus:1;mem:512")))
		if got := r.updates(fs, "same"); len(got) != 0 {
			t.Errorf("updates of task id same: %v; an update would speak of the running one, so none is sent", got)
		}
		if n := r.c.stats.Invalid; n != 1 {
			t.Errorf("%d tasks counted invalid, want 1", n)
		}
		if u := r.used("a1"); !u.Equal(allocator.MustParseResources("cpus:1;mem:512")) {
			t.Errorf("used %s, want one task's cpus:1;mem:512", u)
		}
	})
	t.Run("accept sent again", func(t *testing.T) {
		r := newRig(t, Config{})
		r.agent("a1", "cpus:2;mem:2048", nil)
		fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
		r.advance(time.Millisecond)
		call := launchCall([]string{r.lastOffer(fs).ID.Value}, taskInfo("t1", "cpus:1;mem:512"))
		_ = r.call(fw, fs, call)
		_ = r.call(fw, fs, call)
		if got := r.updates(fs, "t1"); len(got) != 0 {
			t.Errorf("t1 got %v from the repeated ACCEPT; it runs", got)
		}
		if tk := r.task(fw, "t1"); tk == nil || tk.State != TaskStaging {
			t.Errorf("t1 after the repeat: %+v", tk)
		}
	})
	t.Run("refused accept", func(t *testing.T) {
		r := newRig(t, Config{})
		r.agent("a1", "cpus:2;mem:2048", nil)
		fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
		r.advance(time.Millisecond)
		o := r.lastOffer(fs).ID.Value
		call := api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{{Value: o}}, Operations: []api.Operation{{Type: "FROBNICATE"}}}}
		if ref := r.call(fw, fs, call); ref == nil || ref.Code != 400 {
			t.Fatalf("an unknown operation: %v, want 400", ref)
		}
		if r.c.Offers() != 0 {
			t.Errorf("%d offers outstanding after a refused ACCEPT; its offers are used up", r.c.Offers())
		}
	})
}

// A decline filter of 1e10 seconds is capped, not overflowed into none.
func TestRefuseSecondsCapped(t *testing.T) {
	r := newRig(t, Config{})
	r.agent("a1", "cpus:2;mem:2048", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
	r.advance(time.Millisecond)
	huge := 1e10
	o := r.lastOffer(fs).ID.Value
	_ = r.call(fw, fs, api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{{Value: o}}, Filters: &api.Filters{RefuseSeconds: &huge}}})
	before := len(r.events(fs, api.EventOffers))
	r.advance(time.Hour)
	if after := len(r.events(fs, api.EventOffers)); after != before {
		t.Errorf("the declined agent was offered again within an hour of a 1e10 s filter")
	}
}

// What a client can grow is bounded.
func TestBounds(t *testing.T) {
	r := newRig(t, Config{Limits: Limits{MaxFrameworks: 2, MaxReconcile: 3, MaxName: 64}})
	if _, ref := r.c.Subscribe(r.now, "x", api.FrameworkInfo{Name: strings.Repeat("n", 65)}); ref == nil || ref.Field != "subscribe.framework_info.name" {
		t.Errorf("a long name: %v, want refused naming the field", ref)
	}
	fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
	r.framework(api.FrameworkInfo{Name: "g"})
	if _, ref := r.c.Subscribe(r.now, "y", api.FrameworkInfo{Name: "h"}); ref == nil || ref.Code != 503 {
		t.Errorf("a third framework past --max-frameworks 2: %v, want 503", ref)
	}
	rec := &api.Reconcile{Tasks: make([]api.ReconcileTask, 4)}
	if ref := r.call(fw, fs, api.Call{Type: api.CallReconcile, Reconcile: rec}); ref == nil || ref.Code != 400 {
		t.Errorf("RECONCILE of 4 tasks past the limit 3: %v, want 400", ref)
	}
	r.agent("a1", "cpus:2;mem:2048", nil)
	if ref := r.status("a1", fw, "t1", "TASK_BANANA", "", "u"); ref == nil || ref.Code != 400 {
		t.Errorf("a status TASK_BANANA: %v, want 400", ref)
	}
	for range 5 {
		_ = r.status("a1", fw, "nope", TaskRunning, "", "u")
	}
	if n := r.c.reg.counts["TASK_BANANA"]; n != 0 {
		t.Errorf("TASK_BANANA counted %d times", n)
	}
}

// A master with no memory (restarted before replication) adopts the
// tasks and frameworks a re-registering agent reports; the framework
// resubscribes with its id and keeps its task.
func TestRestartedMasterAdoptsAgentsTasks(t *testing.T) {
	r := newRig(t, Config{})
	info := api.FrameworkInfo{ID: &api.ID{Value: "old-0001"}, Name: "f", Roles: []string{"*"}, FailoverTimeout: 60}
	rt := api.AgentTask{FrameworkID: "old-0001", Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}
	as := r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt}, info)
	if n := len(r.agentEvents(as, api.AgentEventKill)); n != 0 {
		t.Fatalf("%d kills sent; an adopted task runs on", n)
	}
	if u := r.used("a1"); !u.Equal(allocator.MustParseResources("cpus:1;mem:128")) {
		t.Errorf("used %s, want the adopted task's", u)
	}
	fw, fs := r.framework(api.FrameworkInfo{ID: &api.ID{Value: "old-0001"}, Name: "f", FailoverTimeout: 60})
	if fw != "old-0001" {
		t.Fatalf("resubscribed as %s", fw)
	}
	_ = r.call(fw, fs, api.Call{Type: api.CallReconcile, Reconcile: &api.Reconcile{}})
	if got := r.updates(fs, "t1"); len(got) != 1 || got[0] != TaskRunning {
		t.Errorf("reconcile after the resubscription: %v, want TASK_RUNNING", got)
	}
}

// The registry a replica builds from the commands equals the leader's.
func TestCommandsReplayToTheSameRegistry(t *testing.T) {
	r, fw, fs, _ := launched(t, partitionAware("f"))
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	_ = r.call(fw, fs, api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "t1"}}})
	_ = r.status("a1", fw, "t1", TaskKilled, "", "u2")
	_ = r.call(fw, fs, api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: "t1"}, UUID: uid("u2")}})
	_ = r.call(fw, fs, api.Call{Type: api.CallTeardown})
	if got, want := replicaDigest(r.replay()), replicaDigest(r.c.reg); got != want {
		t.Errorf("replica:\n%s\nleader:\n%s", got, want)
	}
}

func replicaDigest(r *Registry) string { return string(r.Snapshot()) }

// A snapshot loads back to the same registry.
func TestSnapshotRoundTrip(t *testing.T) {
	r, fw, _, _ := launched(t, partitionAware("f"))
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	snap := r.c.reg.Snapshot()
	back, err := LoadRegistry(snap, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Snapshot(); string(got) != string(snap) {
		t.Errorf("loaded:\n%s\nsaved:\n%s", got, snap)
	}
}

// An agent unreachable past the unreachable timeout is given up: its
// tasks are TASK_GONE, and killed if it comes back.
func TestUnreachableAgentGivenUp(t *testing.T) {
	r, fw, fs, as := launched(t, partitionAware("f"))
	r.c.cfg.UnreachableTimeout = time.Minute
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	r.c.AgentGone(r.now, as)
	r.advance(11 * time.Second)
	r.advance(61 * time.Second)
	if got := r.updates(fs, "t1"); got[len(got)-1] != TaskGone {
		t.Fatalf("framework got %v, want TASK_GONE last", got)
	}
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}
	as2 := r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	if n := len(r.agentEvents(as2, api.AgentEventKill)); n != 1 {
		t.Errorf("%d kills sent to the returning agent, want 1", n)
	}
}

// The master's memory does not grow with every task launched: completed
// tasks are kept up to --retain per framework, and nothing else holds
// them, whether or not anyone reads /state.
func TestCompletedTasksBounded(t *testing.T) {
	r := newRig(t, Config{Limits: Limits{Retain: 10}})
	r.agent("a1", "cpus:100;mem:100000", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f"})
	for i := range 100 {
		r.advance(time.Second)
		id := fmt.Sprintf("t%d", i)
		_ = r.call(fw, fs, launchCall([]string{r.lastOffer(fs).ID.Value}, taskInfo(id, "cpus:1;mem:10")))
		_ = r.status("a1", fw, id, TaskFinished, "", "u"+id)
		_ = r.call(fw, fs, api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: id}, UUID: uid("u" + id)}})
	}
	f := r.c.reg.frameworks[fw]
	if len(f.Tasks) != 0 || len(f.Done) != 10 || len(r.c.reg.agents["a1"].Tasks) != 0 {
		t.Errorf("after 100 tasks: %d not completed, %d completed kept, %d on the agent; want 0, 10, 0", len(f.Tasks), len(f.Done), len(r.c.reg.agents["a1"].Tasks))
	}
}

// A disconnected agent is not offered, and its tasks stay charged to
// their framework; when it re-registers it is offered again.
func TestDisconnectedAgentKeepsItsTasksCharged(t *testing.T) {
	r, fw, fs, as := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	r.c.AgentGone(r.now, as)
	if u := r.used("a1"); !u.Contains(allocator.MustParseResources("cpus:1;mem:128")) {
		t.Errorf("a1 uses %s while disconnected; its task holds cpus:1;mem:128", u)
	}
	before := len(r.events(fs, api.EventOffers))
	r.advance(2 * time.Second) // within the agent timeout
	if n := len(r.events(fs, api.EventOffers)); n != before {
		t.Fatalf("%d offers of a disconnected agent", n-before)
	}
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}
	r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	for range 8 { // past the filter the launch left on the rest of the agent
		r.advance(time.Second)
		_ = r.c.AgentCall(r.now, "", &api.AgentCall{Type: api.AgentCallHeartbeat, AgentID: "a1"})
	}
	if n := len(r.events(fs, api.EventOffers)); n == before {
		t.Fatal("no offer of the agent after it re-registered")
	}
}

// A master recovered from its registry charges the tasks of agents that
// have not re-registered yet, and offers none of them until they do.
func TestRecoveredMasterChargesAgentsNotYetBack(t *testing.T) {
	r, fw, _, _ := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.status("a1", fw, "t1", TaskRunning, "", "u1")
	reg, err := LoadRegistry(r.c.reg.Snapshot(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Recover(Config{ID: "m2"}, reg, r.now)
	if err != nil {
		t.Fatal(err)
	}
	st := c.Summary()
	if len(st.Agents) != 1 || st.Agents[0].Resources.Used["cpus"] != 1 || st.Agents[0].Resources.Offered["cpus"] != 0 {
		t.Fatalf("recovered agents: %+v", st.Agents)
	}
	c.Tick(r.now.Add(5 * time.Second))
	if n := c.Offers(); n != 0 {
		t.Errorf("%d offers of an agent that has not re-registered", n)
	}
}

// A terminal update acknowledged while its agent was away, after a master
// restart that forgot which update the task's latest was: when the agent
// re-registers and sends the update again, the master acknowledges it
// itself and completes the task (chaos seed 179: the task stayed, its
// update acknowledged, until the end).
func TestEndAcknowledgedWhileAgentAwayCompletes(t *testing.T) {
	r, fw, _, _ := launched(t, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.status("a1", fw, "t1", TaskFailed, "", "u2")
	reg, err := LoadRegistry(r.c.reg.Snapshot(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if r.c, err = Recover(Config{AgentTimeout: 10 * time.Second}, reg, r.now); err != nil {
		t.Fatal(err)
	}
	r.drain()
	_, fs := r.framework(api.FrameworkInfo{ID: &api.ID{Value: fw}, Name: "f", FailoverTimeout: 60})
	if ref := r.call(fw, fs, api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: "t1"}, UUID: uid("u2")}}); ref != nil {
		t.Fatal(ref)
	}
	rt := api.AgentTask{FrameworkID: fw, Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskFailed, Role: "default"}
	as := r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{rt})
	_ = r.status("a1", fw, "t1", TaskFailed, "", "u2")
	if acks := r.agentEvents(as, api.AgentEventAck); len(acks) != 1 {
		t.Errorf("the master acknowledged %d updates itself, want 1", len(acks))
	}
	if tk := r.task(fw, "t1"); tk != nil {
		t.Errorf("task %+v kept after its end was acknowledged", tk)
	}
}
