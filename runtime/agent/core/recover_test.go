package core

import (
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

func rec(state string, pid int, pending ...string) Record {
	r := Record{FrameworkID: "f", Task: api.TaskInfo{TaskID: api.ID{Value: "t"}, Resources: []api.Resource{{Name: "mem", Scalar: api.Scalar{Value: 64}}}},
		State: state, Pid: pid, Container: "f.t"}
	for i, s := range pending {
		r.Pending = append(r.Pending, api.TaskStatus{TaskID: r.Task.TaskID, State: s, UUID: api.UUID(rune('a' + i))})
	}
	return r
}

func TestRecovery(t *testing.T) {
	tests := []struct {
		name       string
		in         Recovered
		state      string // the task's state after recovery; "": forgotten
		reason     string // of a new update
		pending    int
		signal     bool
		checkpoint bool
	}{
		{"alive keeps running", Recovered{Record: rec(TaskRunning, 5), Alive: true}, TaskRunning, "", 0, false, false},
		{"alive with its update pending", Recovered{Record: rec(TaskRunning, 5, TaskRunning), Alive: true}, TaskRunning, "", 1, false, false},
		{"alive, kill asked: signalled again", Recovered{Record: func() Record { r := rec(TaskRunning, 5); r.KillAsked = true; return r }(), Alive: true},
			TaskRunning, "", 0, true, false},
		{"exited 0", Recovered{Record: rec(TaskRunning, 5), Exit: Exit{Code: 0}}, TaskFinished, "", 1, false, true},
		{"exited 3", Recovered{Record: rec(TaskRunning, 5), Exit: Exit{Code: 3}}, TaskFailed, "REASON_COMMAND_EXECUTOR_FAILED", 1, false, true},
		{"no exit file", Recovered{Record: rec(TaskRunning, 5), Exit: Exit{Code: -1}}, TaskFailed, "REASON_EXECUTOR_TERMINATED", 1, false, true},
		{"OOM", Recovered{Record: rec(TaskRunning, 5), Exit: Exit{Code: 137, OOM: true}}, TaskFailed, api.ReasonMemoryLimit, 1, false, true},
		{"exited with RUNNING pending", Recovered{Record: rec(TaskRunning, 5, TaskRunning), Exit: Exit{Code: 0}}, TaskFinished, "", 2, false, true},
		{"never started", Recovered{Record: rec(TaskStaging, 0)}, TaskFailed, "REASON_AGENT_RESTARTED", 1, false, true},
		{"ended, update pending", Recovered{Record: rec(TaskFinished, 5, TaskFinished)}, TaskFinished, "", 1, false, false},
		{"ended and acknowledged", Recovered{Record: rec(TaskFinished, 5)}, "", "", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := recovered(t, Recovery{Tasks: []Recovered{tt.in}})
			k := TaskKey{"f", "t"}
			r := h.c.Ready()
			v := h.c.Tasks()
			switch {
			case tt.state == "" && len(v) != 0:
				t.Fatalf("tasks %+v, want it forgotten", v)
			case tt.state != "" && (len(v) != 1 || v[0].State != tt.state || v[0].Unacked != tt.pending):
				t.Fatalf("tasks %+v, want %s with %d pending", v, tt.state, tt.pending)
			}
			if _, ok := record(r, k); ok != tt.checkpoint {
				t.Errorf("checkpoint written %v, want %v", ok, tt.checkpoint)
			}
			if got := len(signals(r)) == 1; got != tt.signal {
				t.Errorf("signals %v, want a SIGTERM: %v", signals(r), tt.signal)
			}
			if tt.reason != "" {
				rec, _ := record(r, k)
				if last := rec.Pending[len(rec.Pending)-1]; last.Reason != tt.reason {
					t.Errorf("new update %+v, want reason %s", last, tt.reason)
				}
			}
			if len(r.Messages) != 0 {
				t.Errorf("sent %+v before registering", r.Messages)
			}
		})
	}
}

func TestRecoveryCollectsOrphanSandboxes(t *testing.T) {
	old := t0.Add(-2 * time.Hour)
	h := recovered(t, Recovery{
		Tasks:     []Recovered{{Record: rec(TaskRunning, 5), Alive: true}},
		Sandboxes: []Sandbox{{TaskKey{"f", "t"}, old}, {TaskKey{"f", "gone"}, old}, {TaskKey{"f", "recent"}, t0.Add(-time.Minute)}},
	})
	r := h.tick()
	if rm := effects(r, EffectRemoveSandbox); len(rm) != 1 || rm[0].Task != (TaskKey{"f", "gone"}) {
		t.Errorf("at once removed %+v, want only f/gone (old, and no task's)", rm)
	}
	if want := t0.Add(-time.Minute + DefaultGCDelay); !h.c.gc[TaskKey{"f", "recent"}].Equal(want) {
		t.Errorf("f/recent collected at %v, want %v", h.c.gc[TaskKey{"f", "recent"}], want)
	}
}

func TestRecoveryReportsTheFrameworkOfTheLatestLaunch(t *testing.T) {
	mk := func(id string, at time.Time, name string) Recovered {
		r := rec(TaskRunning, 5)
		r.Task.TaskID.Value, r.Launched, r.Framework = id, at, &api.FrameworkInfo{Name: name}
		return Recovered{Record: r, Alive: true}
	}
	h := recovered(t, Recovery{Tasks: []Recovered{mk("b", t0.Add(-time.Minute), "new"), mk("a", t0.Add(-time.Hour), "old")}})
	sub := onlyMessage(t, h.tick(), api.AgentCallSubscribe).Call.Subscribe
	if len(sub.Frameworks) != 1 || sub.Frameworks[0].Name != "new" || sub.Frameworks[0].ID.Value != "f" {
		t.Errorf("frameworks %+v, want f's info of the latest launch", sub.Frameworks)
	}
}
