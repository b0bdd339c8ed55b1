package core

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

func TestLaunchStartsWithLimits(t *testing.T) {
	tests := []struct {
		name, res   string
		cpus, memMi float64
	}{
		{"both named", "cpus:1.5;mem:64", 1.5, 64},
		{"no mem", "cpus:2", 2, MinMemMiB},
		{"no cpus", "mem:128", MinCPUs, 128},
		{"neither", "disk:10", MinCPUs, MinMemMiB},
		{"below the minimums", "cpus:0.001;mem:1", MinCPUs, MinMemMiB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.register()
			r := h.launch("f", "t", tt.res)
			starts := effects(r, EffectStart)
			if len(starts) != 1 {
				t.Fatalf("%+v: want one start", r)
			}
			want := Limits{CPUs: tt.cpus, MemMiB: tt.memMi, Pids: DefaultPidsLimit}
			if s := starts[0].Start; s.Limits != want || s.Command != "true" || s.Container != "f.t" {
				t.Errorf("start %+v, want limits %+v, command true, container f.t", s, want)
			}
			if rec, ok := record(r, TaskKey{"f", "t"}); !ok || rec.State != TaskStaging || len(rec.Pending) != 0 {
				t.Errorf("checkpoint %+v, want the task staging with nothing to send", rec)
			}
			if len(r.Messages) != 0 {
				t.Errorf("sent %+v before the task started", r.Messages)
			}
		})
	}
}

func TestInvalidLaunchIsAnError(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(l *api.AgentLaunchTask)
		reason string
		gc     bool // its ids name a sandbox (of an earlier task) to collect
	}{
		{"task id with a slash", func(l *api.AgentLaunchTask) { l.Task.TaskID.Value = "a/b" }, "task_id", false},
		{"framework id dot dot", func(l *api.AgentLaunchTask) { l.FrameworkID = ".." }, "framework_id", false},
		{"task id too long", func(l *api.AgentLaunchTask) { l.Task.TaskID.Value = strings.Repeat("x", api.MaxNameLen+1) }, "task_id", false},
		{"no command", func(l *api.AgentLaunchTask) { l.Task.Command = nil }, "command", true},
		{"negative resources", func(l *api.AgentLaunchTask) { l.Task.Resources[0].Scalar.Value = -1 }, "resources", true},
		{"user with a slash", func(l *api.AgentLaunchTask) { l.Task.Command.User = "../root" }, "command.user", true},
		{"user starting with a dash", func(l *api.AgentLaunchTask) { l.Task.Command.User = "-froot" }, "command.user", true},
		{"framework user with a colon", func(l *api.AgentLaunchTask) { l.Framework = &api.FrameworkInfo{User: "root:x"} }, "framework.user", true},
		{"variable named with =", func(l *api.AgentLaunchTask) { l.Task.Command.Environment = env("A=B", "c") }, "variables[0].name", true},
		{"variable unnamed", func(l *api.AgentLaunchTask) { l.Task.Command.Environment = env("A", "1", "", "c") }, "variables[1].name", true},
		{"variable with NUL", func(l *api.AgentLaunchTask) { l.Task.Command.Environment = env("A", "x\x00y") }, "variables[0].value", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			gen := h.register()
			l := &api.AgentLaunchTask{FrameworkID: "f", Task: api.TaskInfo{TaskID: api.ID{Value: "t"}, Command: &api.CommandInfo{Value: "true"},
				Resources: resources(t, "cpus:1")}}
			tt.mod(l)
			k := TaskKey{l.FrameworkID, l.Task.TaskID.Value}
			r := h.event(gen, api.AgentEvent{Type: api.AgentEventLaunch, Launch: l})
			if len(effects(r, EffectStart)) != 0 {
				t.Errorf("started an invalid task: %+v", r.Effects)
			}
			s := onlyStatus(t, r, k)
			if s.Status.State != TaskError || s.Status.Reason != "REASON_TASK_INVALID" || !strings.Contains(s.Status.Message, tt.reason) {
				t.Errorf("status %+v, want TASK_ERROR REASON_TASK_INVALID about %s", s.Status, tt.reason)
			}
			r = h.ack(k, s.Status.UUID)
			if rec, ok := record(r, k); !ok || rec != nil || (len(h.c.gc) == 1) != tt.gc {
				t.Errorf("after the ack: record %+v (written %v), gc %v; want it removed, a sandbox to collect: %v", rec, ok, h.c.gc, tt.gc)
			}
		})
	}
}

func TestContainerIDFitsIsolation(t *testing.T) {
	long := strings.Repeat("t", api.MaxNameLen)
	tests := []struct {
		key  TaskKey
		want string
	}{
		{TaskKey{"fw-1", "task.1"}, "fw-1.task.1"},
		{TaskKey{"fw", long}, ""},
		{TaskKey{long, long}, ""},
		{TaskKey{".fw", "t"}, ""},
	}
	seen := map[string]TaskKey{}
	for _, tt := range tests {
		id := ContainerID(tt.key)
		if tt.want != "" && id != tt.want {
			t.Errorf("ContainerID(%v) = %q, want %q", tt.key, id, tt.want)
		}
		if err := api.ValidName(id); err != nil || id[0] == '.' {
			t.Errorf("ContainerID(%v) = %q: not a valid isolation id: %v", tt.key, id, err)
		}
		if o, dup := seen[id]; dup {
			t.Errorf("ContainerID(%v) = ContainerID(%v) = %q", tt.key, o, id)
		}
		seen[id] = tt.key
	}
}

func TestExitStates(t *testing.T) {
	tests := []struct {
		name          string
		exit          Exit
		killAsked     bool
		state, reason string
	}{
		{"exit 0", Exit{Code: 0}, false, TaskFinished, ""},
		{"exit 3", Exit{Code: 3}, false, TaskFailed, "REASON_COMMAND_EXECUTOR_FAILED"},
		{"signal 9", Exit{Code: 137}, false, TaskFailed, "REASON_COMMAND_EXECUTOR_FAILED"},
		{"unknown", Exit{Code: -1}, false, TaskFailed, "REASON_EXECUTOR_TERMINATED"},
		{"oom", Exit{Code: 137, OOM: true}, false, TaskFailed, api.ReasonMemoryLimit},
		{"oom while killed", Exit{Code: 137, OOM: true}, true, TaskFailed, api.ReasonMemoryLimit},
		{"killed", Exit{Code: 143}, true, TaskKilled, ""},
		{"killed, exit 0", Exit{Code: 0}, true, TaskKilled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			gen := h.register()
			k := h.running("f", "t", 42)
			if tt.killAsked {
				h.event(gen, api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "f", TaskID: "t"}})
			}
			s := onlyStatus(t, h.exited(k, tt.exit.Code, tt.exit.OOM), k)
			if s.Status.State != tt.state || s.Status.Reason != tt.reason {
				t.Errorf("%+v ended %s %s (%s), want %s %s", tt.exit, s.Status.State, s.Status.Reason, s.Status.Message, tt.state, tt.reason)
			}
		})
	}
}

func TestTerminalOnce(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := h.running("f", "t", 42)
	h.exited(k, 0, false)
	for _, r := range []Ready{h.exited(k, 3, false), h.started(k, 43), func() Ready { h.c.StartFailed(h.now, k, "x"); return h.c.Ready() }()} {
		if len(r.Checkpoint) != 0 || len(statuses(r, k)) != 0 {
			t.Errorf("a report after the end changed the task: %+v", r)
		}
	}
	if v := h.c.Tasks(); len(v) != 1 || v[0].State != TaskFinished || v[0].Unacked != 1 {
		t.Errorf("tasks %+v, want one finished with one update unacknowledged", v)
	}
}

func TestStartFailedFails(t *testing.T) {
	h := newHarness(t)
	h.register()
	k := TaskKey{"f", "t"}
	h.launch("f", "t", "cpus:1")
	h.c.StartFailed(h.now, k, "cgroup: no space")
	s := onlyStatus(t, h.c.Ready(), k)
	if s.Status.State != TaskFailed || s.Status.Reason != "REASON_CONTAINER_LAUNCH_FAILED" || s.Status.Message != "cgroup: no space" {
		t.Errorf("status %+v, want TASK_FAILED REASON_CONTAINER_LAUNCH_FAILED with the error", s.Status)
	}
}

func TestKill(t *testing.T) {
	kill := func(h *harness) Ready {
		return h.event(h.gen(), api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "f", TaskID: "t"}})
	}
	t.Run("an exit within the grace period is not SIGKILLed", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Grace = 5 * time.Second })
		h.register()
		k := h.running("f", "t", 42)
		kill(h)
		h.advance(time.Second)
		h.exited(k, 143, false)
		for h.now.Before(t0.Add(time.Minute)) {
			if s := signals(h.tick()); len(s) != 0 {
				t.Fatalf("at %v: signals %v after the task ended", h.now.Sub(t0), s)
			}
		}
	})
	t.Run("a task not started yet is signalled when it starts", func(t *testing.T) {
		h := newHarness(t)
		h.register()
		k := TaskKey{"f", "t"}
		h.launch("f", "t", "cpus:1")
		if r := kill(h); len(signals(r)) != 0 {
			t.Fatalf("signalled a task with no process: %+v", r.Effects)
		}
		r := h.started(k, 42)
		if s := signals(r); len(s) != 1 || s[0] != syscall.SIGTERM {
			t.Errorf("on start: signals %v, want SIGTERM", s)
		}
		if s := h.exited(k, 143, false); onlyStatus(t, s, k).LatestState != TaskKilled {
			t.Errorf("ended %+v, want KILLED as the latest state", statuses(s, k))
		}
	})
	t.Run("unknown, ended or already killed tasks are left alone", func(t *testing.T) {
		h := newHarness(t)
		h.register()
		if r := kill(h); !r.Empty() {
			t.Errorf("killing an unknown task: %+v", r)
		}
		k := h.running("f", "t", 42)
		kill(h)
		if r := kill(h); !r.Empty() {
			t.Errorf("killing twice: %+v", r)
		}
		h.exited(k, 143, false)
		if r := kill(h); !r.Empty() {
			t.Errorf("killing an ended task: %+v", r)
		}
	})
}

func TestDeadlineMovesPastEveryTick(t *testing.T) {
	h := newHarness(t)
	gen := h.register()
	k := h.running("f", "t", 42)
	h.event(gen, api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "f", TaskID: "t"}})
	h.exited(k, 143, false)
	for range 50 {
		h.tick()
		if d := h.c.Deadline(); !d.IsZero() && !d.After(h.now) {
			t.Fatalf("after Tick(%v) the deadline is %v: a busy loop", h.now, d)
		}
	}
}

// env is an environment of name, value pairs.
func env(kv ...string) *api.Environment {
	e := &api.Environment{}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Variables = append(e.Variables, api.EnvVariable{Name: kv[i], Value: kv[i+1]})
	}
	return e
}

// A task runs as its command's user, else its framework's, else the
// agent's default, with its command's environment.
func TestLaunchNamesTheUserAndEnvironment(t *testing.T) {
	tests := []struct {
		name, cmdUser, fwUser, want string
	}{
		{"the command's user", "alice", "bob", "alice"},
		{"the framework's user", "", "bob", "bob"},
		{"the agent's default", "", "", "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.TaskUser = "nobody" })
			gen := h.register()
			vars := env("A", "1", "B", "two words")
			l := &api.AgentLaunchTask{FrameworkID: "f", Framework: &api.FrameworkInfo{Name: "f", User: tt.fwUser},
				Task: api.TaskInfo{TaskID: api.ID{Value: "t"}, Command: &api.CommandInfo{Value: "true", User: tt.cmdUser, Environment: vars}}}
			starts := effects(h.event(gen, api.AgentEvent{Type: api.AgentEventLaunch, Launch: l}), EffectStart)
			if len(starts) != 1 {
				t.Fatalf("%d starts, want 1", len(starts))
			}
			if s := starts[0].Start; s.User != tt.want || !reflect.DeepEqual(s.Env, vars.Variables) {
				t.Errorf("start as %q with %v, want %q with %v", s.User, s.Env, tt.want, vars.Variables)
			}
		})
	}
}
