package core

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

func wire(res string) []api.Resource { return api.FromResources(allocator.MustParseResources(res)) }

func defaultExecutor(id string) *api.ExecutorInfo {
	return &api.ExecutorInfo{Type: api.ExecutorDefault, ExecutorID: api.ID{Value: id}, Resources: wire("cpus:0.1;mem:32")}
}

func accept(offer string, ops ...api.Operation) api.Call {
	return api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{{Value: offer}}, Operations: ops}}
}

func groupOp(exec *api.ExecutorInfo, tasks ...api.TaskInfo) api.Operation {
	return api.Operation{Type: api.OpLaunchGroup, LaunchGroup: &api.LaunchGroup{Executor: exec, TaskGroup: &api.TaskGroupInfo{Tasks: tasks}}}
}

// offered is a rig with agent a1 (cpus:4;mem:4096) and a framework that
// has its offer.
func offered(t *testing.T, cfg Config, info api.FrameworkInfo) (r *rig, fw, fs, as string, offer string) {
	t.Helper()
	r = newRig(t, cfg)
	as = r.agent("a1", "cpus:4;mem:4096", nil)
	fw, fs = r.framework(info)
	r.advance(time.Millisecond)
	return r, fw, fs, as, r.lastOffer(fs).ID.Value
}

// A task group starts whole: one LAUNCH_GROUP event to the agent with
// every task, each naming the executor, whose resources are held with the
// tasks' until the last task ends.
func TestLaunchGroup(t *testing.T) {
	r, fw, fs, as, offer := offered(t, Config{}, api.FrameworkInfo{Name: "f"})
	op := groupOp(defaultExecutor("pod"), taskInfo("a", "cpus:1;mem:128"), taskInfo("b", "cpus:1;mem:128"), taskInfo("c", "cpus:0.5;mem:64"))
	if ref := r.call(fw, fs, accept(offer, op)); ref != nil {
		t.Fatal(ref)
	}
	evs := r.agentEvents(as, api.AgentEventLaunchGroup)
	if len(evs) != 1 || len(evs[0].LaunchGroup.Tasks) != 3 || len(r.agentEvents(as, api.AgentEventLaunch)) != 0 {
		t.Fatalf("agent events: %d LAUNCH_GROUP %+v; want one with the 3 tasks and no LAUNCH", len(evs), evs)
	}
	for _, ti := range evs[0].LaunchGroup.Tasks {
		if ti.Executor == nil || ti.Executor.ExecutorID.Value != "pod" || ti.Executor.Type != api.ExecutorDefault {
			t.Errorf("task %s names executor %+v", ti.TaskID.Value, ti.Executor)
		}
	}
	if u := r.used("a1"); !u.Equal(allocator.MustParseResources("cpus:2.6;mem:352")) {
		t.Errorf("used %s; want the tasks' and the executor's cpus:2.6;mem:352", u)
	}
	for i, id := range []string{"a", "b", "c"} {
		_ = r.status("a1", fw, id, TaskFailed, "", "u"+id)
		want := []string{"cpus:1.6;mem:224", "cpus:0.6;mem:96", ""}[i] // the executor's go with the last task
		if u := r.used("a1"); !u.Equal(allocator.MustParseResources(want)) {
			t.Errorf("after %s ended: used %s, want %s", id, u, want)
		}
	}
	if err := r.c.CheckBooks(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		_ = r.call(fw, fs, api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: id}, UUID: uid("u" + id)}})
	}
	if n := len(r.c.reg.executors); n != 0 {
		t.Errorf("%d executors kept after every task of the group completed", n)
	}
}

// A group is refused whole, every task TASK_ERROR with the group's reason
// and one message, as Mesos' master refuses a task group.
func TestLaunchGroupRefused(t *testing.T) {
	docker := defaultExecutor("pod")
	docker.Container = json.RawMessage(`{"type":"DOCKER","docker":{"image":"x"}}`)
	mesos := defaultExecutor("pod")
	mesos.Container = json.RawMessage(`{"type": "MESOS"}`)
	withCommand := defaultExecutor("pod")
	withCommand.Command = json.RawMessage(`{"value":"x"}`)
	small := defaultExecutor("pod")
	small.Resources = wire("cpus:0.1;mem:16")
	custom := defaultExecutor("pod")
	custom.Type = api.ExecutorCustom
	untyped := defaultExecutor("pod")
	untyped.Type = ""
	foreign := defaultExecutor("pod")
	foreign.FrameworkID = &api.ID{Value: "other"}
	other := taskInfo("b", "cpus:1;mem:64")
	other.Executor = defaultExecutor("not-pod")
	noCommand := taskInfo("b", "cpus:1;mem:64")
	noCommand.Command = nil
	tests := []struct {
		name   string
		exec   *api.ExecutorInfo
		second api.TaskInfo
		id     bool
		reason string
		msg    string
	}{
		{"no executor", nil, taskInfo("b", "cpus:1"), false, "", "executor: missing"},
		{"custom executor", custom, taskInfo("b", "cpus:1"), false, "", "CUSTOM is not supported"},
		{"executor type unset", untyped, taskInfo("b", "cpus:1"), false, "", "'ExecutorInfo.type' must be set"},
		{"executor command", withCommand, taskInfo("b", "cpus:1"), false, "", "must not be set for 'DEFAULT'"},
		{"docker container", docker, taskInfo("b", "cpus:1"), false, "", "without containers"},
		{"executor too small", small, taskInfo("b", "cpus:1"), false, "", "the minimum is 0.01 cpus and 32 MiB"},
		{"executor of another framework", foreign, taskInfo("b", "cpus:1"), false, "", "framework_id"},
		{"a task without a command", defaultExecutor("pod"), noCommand, false, "", "tasks[1].command.value: empty"},
		{"a task of another executor", defaultExecutor("pod"), other, false, "", "is not the group's executor"},
		{"an id twice", defaultExecutor("pod"), taskInfo("a", "cpus:1"), false, "", "named twice"},
		{"too large together", defaultExecutor("pod"), taskInfo("b", "cpus:3"), false, "", "the task group and its executor need cpus:4.1"},
		{"operation id", defaultExecutor("pod"), taskInfo("b", "cpus:1"), true, "", "operation feedback is not supported for LAUNCH_GROUP"},
		{"a MESOS container is fine", mesos, taskInfo("b", "cpus:1"), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, fw, fs, as, offer := offered(t, Config{}, api.FrameworkInfo{Name: "f"})
			op := groupOp(tt.exec, taskInfo("a", "cpus:1;mem:64"), tt.second)
			if tt.id {
				op.ID = &api.ID{Value: "op1"}
			}
			if ref := r.call(fw, fs, accept(offer, op)); ref != nil {
				t.Fatal(ref)
			}
			launched := len(r.agentEvents(as, api.AgentEventLaunchGroup))
			if tt.msg == "" {
				if launched != 1 {
					t.Fatalf("the group was not launched: %v", r.events(fs, api.EventUpdate))
				}
				return
			}
			if launched != 0 || !r.used("a1").IsEmpty() {
				t.Fatalf("a refused group launched (%d) or holds %s", launched, r.used("a1"))
			}
			ups := r.events(fs, api.EventUpdate)
			want := 2
			if tt.name == "an id twice" {
				want = 1 // the id named twice is told once
			}
			if len(ups) != want {
				t.Fatalf("%d updates, want %d: %+v", len(ups), want, ups)
			}
			for _, e := range ups {
				s := e.Update.Status
				if s.State != TaskError || s.Reason != "REASON_TASK_GROUP_INVALID" || !strings.Contains(s.Message, tt.msg) {
					t.Errorf("task %s: %s %s %q; want TASK_ERROR REASON_TASK_GROUP_INVALID with %q", s.TaskID.Value, s.State, s.Reason, s.Message, tt.msg)
				}
			}
			if tt.id {
				st := r.events(fs, api.EventUpdateOperationStatus)
				if len(st) != 1 || st[0].UpdateOperationStatus.Status.State != api.OperationError {
					t.Errorf("operation status %+v; want one OPERATION_ERROR", st)
				}
			}
			if o := nextOffer(r, fs); o.ID.Value == offer || !allOf(o, "cpus:4;mem:4096") {
				t.Errorf("the next offer %+v; want all of the agent again", o)
			}
		})
	}
}

// nextOffer lets two allocation cycles pass (a filter outlives one) and
// returns the framework's last offer.
func nextOffer(r *rig, fs string) api.Offer {
	r.advance(6 * time.Second)
	r.advance(6 * time.Second)
	return r.lastOffer(fs)
}

// allOf says whether an offer holds exactly res.
func allOf(o api.Offer, res string) bool {
	got, err := api.ToResources("offer", o.Resources)
	return err == nil && got.Equal(allocator.MustParseResources(res))
}

// A task the framework may not run as its user refuses the whole group
// as unauthorized.
func TestLaunchGroupUnauthorized(t *testing.T) {
	acls := &auth.ACLs{Permissive: true, Rules: map[string][]auth.Rule{auth.RunTasks: {{Principals: auth.Entity{Type: "NONE"}, Objects: auth.Entity{Values: []string{"root"}}}}}}
	r, fw, fs, _, offer := offered(t, Config{Authorizer: acls}, api.FrameworkInfo{Name: "f", Principal: "p"})
	r.principal = "p"
	root := taskInfo("b", "cpus:1")
	root.Command.User = "root"
	_ = r.call(fw, fs, accept(offer, groupOp(defaultExecutor("pod"), taskInfo("a", "cpus:1"), root)))
	for _, id := range []string{"a", "b"} {
		ups := r.events(fs, api.EventUpdate)
		found := false
		for _, e := range ups {
			s := e.Update.Status
			found = found || s.TaskID.Value == id && s.State == TaskError && s.Reason == "REASON_TASK_GROUP_UNAUTHORIZED" && strings.Contains(s.Message, "run_tasks")
		}
		if !found {
			t.Errorf("task %s: %+v; want TASK_ERROR REASON_TASK_GROUP_UNAUTHORIZED", id, ups)
		}
	}
}

// An executor id that still has tasks on the agent is not taken again;
// once its tasks completed, it may be.
func TestExecutorIDReuse(t *testing.T) {
	r, fw, fs, _, offer := offered(t, Config{}, api.FrameworkInfo{Name: "f"})
	_ = r.call(fw, fs, accept(offer, groupOp(defaultExecutor("pod"), taskInfo("a", "cpus:1"))))
	_ = r.call(fw, fs, accept(nextOffer(r, fs).ID.Value, groupOp(defaultExecutor("pod"), taskInfo("b", "cpus:1"))))
	if got := r.updates(fs, "b"); len(got) != 1 || got[0] != TaskError {
		t.Fatalf("task b of a reused executor: %v, want TASK_ERROR", got)
	}
	_ = r.status("a1", fw, "a", TaskFinished, "", "u1")
	_ = r.call(fw, fs, api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: "a1"}, TaskID: api.ID{Value: "a"}, UUID: uid("u1")}})
	_ = r.call(fw, fs, accept(nextOffer(r, fs).ID.Value, groupOp(defaultExecutor("pod"), taskInfo("c", "cpus:1"))))
	if tk := r.task(fw, "c"); tk == nil || tk.State != TaskStaging {
		t.Fatalf("task c after the executor's tasks completed: %+v", tk)
	}
}

// A LAUNCH of a task with an executor is refused: apron runs no custom
// executor.
func TestLaunchWithExecutorRefused(t *testing.T) {
	r, fw, fs, _, offer := offered(t, Config{}, api.FrameworkInfo{Name: "f"})
	ti := taskInfo("a", "cpus:1")
	ti.Executor = &api.ExecutorInfo{Type: api.ExecutorCustom, ExecutorID: api.ID{Value: "x"}, Command: json.RawMessage(`{"value":"./exec"}`)}
	_ = r.call(fw, fs, launchCall([]string{offer}, ti))
	ups := r.events(fs, api.EventUpdate)
	if len(ups) != 1 || ups[0].Update.Status.State != TaskError || !strings.Contains(ups[0].Update.Status.Message, "no custom executor") {
		t.Fatalf("updates %+v; want TASK_ERROR naming the custom executor", ups)
	}
}

// The executor survives a failover: a new leader's books hold it with
// its tasks, and give its resources back when they end.
func TestExecutorSurvivesFailover(t *testing.T) {
	r, fw, fs, _, offer := offered(t, Config{}, api.FrameworkInfo{Name: "f", FailoverTimeout: 60})
	_ = r.call(fw, fs, accept(offer, groupOp(defaultExecutor("pod"), taskInfo("a", "cpus:1"), taskInfo("b", "cpus:1"))))
	reg, err := LoadRegistry(r.c.reg.Snapshot(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Recover(Config{}, reg, r.now)
	if err != nil {
		t.Fatal(err)
	}
	r.c = c2
	r.drain()
	ts := []api.AgentTask{}
	for _, id := range []string{"a", "b"} {
		tk := r.task(fw, id)
		ts = append(ts, api.AgentTask{FrameworkID: fw, Task: tk.Info, State: TaskRunning, Role: tk.Role})
	}
	r.agent("a1", "cpus:4;mem:4096", ts)
	if u := r.used("a1"); !u.Equal(allocator.MustParseResources("cpus:2.1;mem:32")) {
		t.Errorf("after the failover: used %s, want the tasks' and the executor's cpus:2.1;mem:32", u)
	}
	_ = r.status("a1", fw, "a", TaskFinished, "", "u1")
	_ = r.status("a1", fw, "b", TaskKilled, "", "u2")
	if u := r.used("a1"); !u.IsEmpty() {
		t.Errorf("used %s after the group ended", u)
	}
	if err := r.c.CheckBooks(); err != nil {
		t.Fatal(err)
	}
}

// SHUTDOWN of a task group's executor kills its tasks; of an executor the
// framework does not have there, nothing.
func TestShutdownExecutorKillsItsGroup(t *testing.T) {
	r, fw, fs, as, offer := offered(t, Config{}, api.FrameworkInfo{Name: "f"})
	_ = r.call(fw, fs, accept(offer, groupOp(defaultExecutor("pod"), taskInfo("a", "cpus:1"), taskInfo("b", "cpus:1"))))
	shutdown := func(agent, exec string) {
		t.Helper()
		if ref := r.call(fw, fs, api.Call{Type: api.CallShutdown, Shutdown: &api.Shutdown{ExecutorID: api.ID{Value: exec}, AgentID: api.ID{Value: agent}}}); ref != nil {
			t.Fatal(ref)
		}
	}
	shutdown("a1", "other")
	shutdown("a2", "pod")
	if n := len(r.agentEvents(as, api.AgentEventKill)); n != 0 {
		t.Fatalf("%d kills for an executor the framework does not have there", n)
	}
	shutdown("a1", "pod")
	var killed []string
	for _, e := range r.agentEvents(as, api.AgentEventKill) {
		killed = append(killed, e.Kill.TaskID)
	}
	if !slices.Equal(killed, []string{"a", "b"}) {
		t.Errorf("SHUTDOWN of pod killed %v, want a and b", killed)
	}
}
