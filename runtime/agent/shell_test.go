package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/api"
)

// The lockout of issue 14, through HTTP: after the master restarts and
// answers 404, the agent's next SUBSCRIBE reaches it and registers.
func TestRegressionReRegistersAfterMasterForgetsIt(t *testing.T) {
	m := newFakeMaster(t)
	a := newTestAgent(t, m.srv.URL, t.TempDir())
	runAgent(t, a)
	m.until("the first subscribe", func() bool { return len(m.subscribes) == 1 })
	for i := 2; i <= 4; i++ {
		m.mu.Lock()
		m.forgot = true
		m.mu.Unlock()
		m.until("the agent to subscribe again", func() bool { return len(m.subscribes) == i })
		waitState(t, a, "registered in the new generation", func(v StateView) bool { return v.Connection == "registered" && v.Generation >= uint64(i) })
	}
}

// Given a list of masters, the agent follows the leader: when the first
// steps down (its stream closes, and it sends calls to the new leader)
// or dies, the agent registers with the second, with its running task,
// and sends its statuses there.
func TestFollowsTheLeaderToTheNextMaster(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(old, next *fakeMaster)
	}{
		{"steps down", func(old, next *fakeMaster) { old.stepDown(next.srv.URL) }},
		{"dies", func(old, _ *fakeMaster) { old.srv.CloseClientConnections(); old.srv.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, next := newFakeMaster(t), newFakeMaster(t)
			a := newTestAgent(t, old.srv.URL+","+next.srv.URL, t.TempDir())
			runAgent(t, a)
			old.until("registration", func() bool { return len(old.subscribes) == 1 })
			old.launch("t1", "sleep 30", nil)
			old.until("the task to run", func() bool { s, _ := old.final("t1"); return s.State == "TASK_RUNNING" })
			tc.fail(old, next)
			next.until("re-registration with the task", func() bool {
				return len(next.subscribes) == 1 && len(next.subscribes[0].Tasks) == 1 && next.subscribes[0].Tasks[0].State == "TASK_RUNNING"
			})
			waitState(t, a, "registered with the new leader", func(v StateView) bool { return v.Connection == "registered" && v.Master == next.srv.URL })
			next.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "fw", TaskID: "t1"}})
			next.until("the task killed, reported to the new leader", func() bool { s, _ := next.final("t1"); return s.State == "TASK_KILLED" })
		})
	}
}

// isolated is a cgroup isolator for a test's agent, under a root of the
// test's that is removed when the test ends, and that root; the test is
// skipped where cgroups are unusable.
func isolated(t *testing.T) (isolation.Isolator, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("cgroups need root")
	}
	root := "apron-test/agent-" + t.Name()
	iso, err := isolation.New(root)
	if err != nil {
		t.Skipf("cgroups unusable: %v", err)
	}
	t.Cleanup(func() { // after the agent stopped (cleanups run last first)
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + root)
		for _, d := range append(dirs, "/sys/fs/cgroup/"+root) {
			_ = os.Remove(d)
		}
	})
	return iso, root
}

func waitState(t *testing.T, a *Agent, what string, cond func(StateView) bool) StateView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := a.State()
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s; state %+v", what, v)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTaskRunsReportsAndIsCollected(t *testing.T) {
	m := newFakeMaster(t)
	dir := t.TempDir()
	a, err := New(Options{Master: m.srv.URL, Name: "a", WorkDir: dir, Resources: allocator.MustParseResources("cpus:1;mem:256"), GCDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runAgent(t, a)
	m.until("registration", func() bool { return len(m.subscribes) == 1 })
	m.launch("t1", "echo hello; exit 3", nil)
	m.until("the task's end", func() bool { s, _ := m.final("t1"); return s.State == "TASK_FAILED" })
	s, _ := m.final("t1")
	if s.Message != "command exited with status 3" {
		t.Errorf("ended %+v, want status 3", s)
	}
	sandbox := filepath.Join(dir, "sandboxes", "fw", "t1")
	waitState(t, a, "the task forgotten", func(v StateView) bool { return len(v.Tasks) == 0 })
	deadline := time.Now().Add(10 * time.Second)
	for _, err := os.Stat(sandbox); err == nil; _, err = os.Stat(sandbox) {
		if time.Now().After(deadline) {
			t.Fatalf("sandbox %s not collected", sandbox)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKillEscalatesToSIGKILL(t *testing.T) {
	m := newFakeMaster(t)
	a := newTestAgent(t, m.srv.URL, t.TempDir())
	runAgent(t, a)
	m.until("registration", func() bool { return len(m.subscribes) == 1 })
	m.launch("stubborn", "trap '' TERM; while :; do sleep 0.05; done", nil)
	m.until("the task to run", func() bool { s, _ := m.final("stubborn"); return s.State == "TASK_RUNNING" })
	m.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "fw", TaskID: "stubborn"}})
	m.until("the task killed", func() bool { s, _ := m.final("stubborn"); return s.State == "TASK_KILLED" })
}

func TestRestartedAgentReportsTrueEnds(t *testing.T) {
	m := newFakeMaster(t)
	dir := t.TempDir()
	first := newTestAgent(t, m.srv.URL, dir)
	stop := runAgent(t, first)
	m.until("registration", func() bool { return len(m.subscribes) == 1 })
	m.launch("ok", "sleep 0.3", nil)
	m.launch("bad", "sleep 0.3; exit 3", nil)
	m.until("both running", func() bool {
		a, _ := m.final("ok")
		b, _ := m.final("bad")
		return a.State == "TASK_RUNNING" && b.State == "TASK_RUNNING"
	})
	stop() // the agent is gone; its tasks end meanwhile
	time.Sleep(600 * time.Millisecond)
	second := newTestAgent(t, m.srv.URL, dir)
	runAgent(t, second)
	m.until("the true ends", func() bool {
		a, _ := m.final("ok")
		b, _ := m.final("bad")
		return a.State == "TASK_FINISHED" && b.State == "TASK_FAILED"
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.statuses {
		if s.Status.State == "TASK_LOST" {
			t.Errorf("sent %+v", s)
		}
	}
}

func TestTasksWithoutCPUsOrMemGetLimits(t *testing.T) {
	iso, _ := isolated(t)
	m := newFakeMaster(t)
	a, err := New(Options{Master: m.srv.URL, Name: "a", WorkDir: t.TempDir(), Resources: allocator.MustParseResources("cpus:1;mem:256"), Isolator: iso})
	if err != nil {
		t.Fatal(err)
	}
	runAgent(t, a)
	m.until("registration", func() bool { return len(m.subscribes) == 1 })
	m.launch("nomem", "sleep 30", []api.Resource{{Name: "cpus", Type: "SCALAR", Scalar: api.Scalar{Value: 1}}})
	m.launch("nocpus", "sleep 30", []api.Resource{{Name: "mem", Type: "SCALAR", Scalar: api.Scalar{Value: 64}}})
	v := waitState(t, a, "both running", func(v StateView) bool {
		return len(v.Tasks) == 2 && v.Tasks[0].State == "TASK_RUNNING" && v.Tasks[1].State == "TASK_RUNNING"
	})
	limits := map[string]map[string]string{}
	for _, tv := range v.Tasks {
		limits[tv.ID] = tv.Limits
	}
	memOK := limits["nomem"]["memory.limit_in_bytes"] == "33554432" || limits["nomem"]["memory.max"] == "33554432"
	cpuOK := limits["nocpus"]["cpu.cfs_quota_us"] == "1000" || strings.HasPrefix(limits["nocpus"]["cpu.max"], "1000 ")
	if !memOK || !cpuOK {
		t.Errorf("limits %v: want 32 MiB for nomem and a 0.01-CPU quota for nocpus", limits)
	}
	for _, id := range []string{"nomem", "nocpus"} {
		m.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "fw", TaskID: id}})
	}
	m.until("both killed", func() bool {
		a, _ := m.final("nomem")
		b, _ := m.final("nocpus")
		return a.State == "TASK_KILLED" && b.State == "TASK_KILLED"
	})
}
