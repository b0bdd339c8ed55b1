package core

import (
	"strings"
	"syscall"
	"testing"

	"github.com/apronlab/apron/runtime/api"
)

// launchGroup sends the agent a task group of ids under executor exec.
func (h *harness) launchGroup(fw, exec string, ids ...string) Ready {
	h.t.Helper()
	l := &api.AgentLaunchGroup{FrameworkID: fw, Framework: &api.FrameworkInfo{Name: "fw " + fw}, Role: "*"}
	for _, id := range ids {
		l.Tasks = append(l.Tasks, api.TaskInfo{Name: id, TaskID: api.ID{Value: id}, Command: &api.CommandInfo{Value: "true"},
			Resources: resources(h.t, "cpus:0.5;mem:64"), Executor: &api.ExecutorInfo{Type: api.ExecutorDefault, ExecutorID: api.ID{Value: exec}}})
	}
	return h.event(h.gen(), api.AgentEvent{Type: api.AgentEventLaunchGroup, LaunchGroup: l})
}

// runningGroup launches a group and starts its tasks, pids from 100.
func (h *harness) runningGroup(fw, exec string, ids ...string) []TaskKey {
	h.t.Helper()
	r := h.launchGroup(fw, exec, ids...)
	if n := len(effects(r, EffectStart)); n != len(ids) {
		h.t.Fatalf("%d starts for a group of %d", n, len(ids))
	}
	var keys []TaskKey
	for i, id := range ids {
		k := TaskKey{fw, id}
		s := onlyStatus(h.t, h.started(k, 100+i), k)
		h.ack(k, s.Status.UUID)
		keys = append(keys, k)
	}
	return keys
}

// The rule of Mesos' default executor: a task of the group that fails or
// is killed gets the others killed (TASK_KILLED, saying why); one that
// finishes leaves them running.
func TestGroupEndsTogether(t *testing.T) {
	tests := []struct {
		name   string
		end    func(h *harness, k TaskKey) Ready
		killed bool
		why    string
	}{
		{"fails", func(h *harness, k TaskKey) Ready { return h.exited(k, 3, false) }, true, "task a ended TASK_FAILED"},
		{"out of memory", func(h *harness, k TaskKey) Ready { return h.exited(k, 137, true) }, true, "task a ended TASK_FAILED"},
		{"killed by the framework", func(h *harness, k TaskKey) Ready {
			h.event(h.gen(), api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: k.Framework, TaskID: k.Task}})
			return h.exited(k, 143, false)
		}, true, "task a ended TASK_KILLED"},
		{"finishes", func(h *harness, k TaskKey) Ready { return h.exited(k, 0, false) }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.register()
			ks := h.runningGroup("f", "pod", "a", "b", "c")
			r := tt.end(h, ks[0])
			sigs := effects(r, EffectSignal)
			if !tt.killed {
				if len(sigs) != 0 {
					t.Fatalf("a task that finished killed its group: %+v", sigs)
				}
				return
			}
			if len(sigs) != 2 || sigs[0].Signal != syscall.SIGTERM || sigs[0].Task != ks[1] || sigs[1].Task != ks[2] {
				t.Fatalf("signals %+v; want SIGTERM to b and c", sigs)
			}
			for _, k := range ks[1:] {
				s := onlyStatus(t, h.exited(k, 143, false), k)
				if s.Status.State != TaskKilled || !strings.Contains(s.Status.Message, tt.why) {
					t.Errorf("%s: %s %q; want TASK_KILLED saying %q", k, s.Status.State, s.Status.Message, tt.why)
				}
			}
		})
	}
}

// A group not yet started is killed as it starts; a task of another group
// or none is left alone.
func TestGroupKillReachesOnlyTheGroup(t *testing.T) {
	h := newHarness(t)
	h.register()
	h.launchGroup("f", "pod", "a", "b")
	other := h.running("f", "solo", 300)
	h.runningGroup("f", "pod2", "x")
	h.started(TaskKey{"f", "a"}, 10)
	r := h.exited(TaskKey{"f", "a"}, 1, false)
	if sigs := effects(r, EffectSignal); len(sigs) != 0 {
		t.Fatalf("signals %+v before b started", sigs)
	}
	r = h.started(TaskKey{"f", "b"}, 11)
	if sigs := effects(r, EffectSignal); len(sigs) != 1 || sigs[0].Task != (TaskKey{"f", "b"}) {
		t.Fatalf("signals %+v as b started; want b's SIGTERM", sigs)
	}
	for _, k := range []TaskKey{other, {"f", "x"}} {
		if st := h.c.tasks[k].rec; st.KillAsked {
			t.Errorf("%s, of no group or another, is being killed", k)
		}
	}
}

// A group with one task that is not valid starts no task: every one ends
// TASK_ERROR with the group's reason.
func TestInvalidGroupStartsNothing(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	l := &api.AgentLaunchGroup{FrameworkID: "f", Role: "*"}
	for _, id := range []string{"a", "b/c"} {
		l.Tasks = append(l.Tasks, api.TaskInfo{TaskID: api.ID{Value: id}, Command: &api.CommandInfo{Value: "true"}, Executor: &api.ExecutorInfo{ExecutorID: api.ID{Value: "pod"}}})
	}
	r := h.event(gen, api.AgentEvent{Type: api.AgentEventLaunchGroup, LaunchGroup: l})
	if n := len(effects(r, EffectStart)); n != 0 {
		t.Fatalf("%d tasks of an invalid group started", n)
	}
	for _, id := range []string{"a", "b/c"} {
		s := onlyStatus(t, r, TaskKey{"f", id})
		if s.Status.State != TaskError || s.Status.Reason != "REASON_TASK_GROUP_INVALID" || !strings.Contains(s.Status.Message, "tasks[1]: task_id") {
			t.Errorf("%s: %+v", id, s.Status)
		}
	}
}

// A group task that failed while the agent was down gets its group
// killed when the agent recovers.
func TestGroupEndsAcrossARestart(t *testing.T) {
	h := newHarness(t)
	h.register()
	ks := h.runningGroup("f", "pod", "a", "b")
	var rec Recovery
	for i, k := range ks {
		rec.Tasks = append(rec.Tasks, Recovered{Record: *h.c.tasks[k].rec.clone(), Alive: i == 1, Exit: Exit{Code: 2}})
	}
	h2 := recovered(t, rec)
	r := h2.c.Ready()
	if sigs := effects(r, EffectSignal); len(sigs) != 1 || sigs[0].Task != ks[1] {
		t.Fatalf("signals after recovery %+v; want b's SIGTERM", sigs)
	}
	if st := h2.c.tasks[ks[0]].rec.State; st != TaskFailed {
		t.Errorf("a recovered %s, want TASK_FAILED", st)
	}
}
