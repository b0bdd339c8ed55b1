package agent

import (
	"slices"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/api"
)

func newTestAgent(t *testing.T, master, dir string) *Agent {
	t.Helper()
	a, err := New(Options{Master: master, Name: "a", WorkDir: dir, Resources: allocator.MustParseResources("cpus:1;mem:256"), Grace: 500e6})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSandboxStaysInTheWorkDir(t *testing.T) {
	a := newTestAgent(t, "http://127.0.0.1:1", t.TempDir())
	tests := []struct {
		fw, task string
		ok       bool
	}{
		{"fw-1", "task.1", true},
		{"fw-1", "../../etc", false},
		{"..", "x", false},
		{"fw", "", false},
		{"fw/../..", "x", false},
		{"fw", "a/b", false},
	}
	for _, tt := range tests {
		p, err := a.sandbox(core.TaskKey{Framework: tt.fw, Task: tt.task})
		if (err == nil) != tt.ok {
			t.Errorf("sandbox(%q, %q) = %s, %v; want ok %v", tt.fw, tt.task, p, err, tt.ok)
		}
		if err == nil && !strings.HasPrefix(p, a.opts.WorkDir) {
			t.Errorf("sandbox(%q, %q) = %s, outside %s", tt.fw, tt.task, p, a.opts.WorkDir)
		}
	}
}

func TestBadNameIsRefused(t *testing.T) {
	_, err := New(Options{Master: "http://x", Name: "a/b", WorkDir: t.TempDir(), Resources: allocator.MustParseResources("cpus:1")})
	if err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("New with name a/b: %v, want an error about the name", err)
	}
}

func TestStartTicksNamesAProcess(t *testing.T) {
	a, err := startTicks(1)
	if err != nil || a == 0 {
		t.Fatalf("startTicks(1) = %d, %v", a, err)
	}
	if _, err := startTicks(1 << 30); err == nil {
		t.Error("startTicks of no process: no error")
	}
	if fd, ok := pidfdIfSame(1, a+1); ok {
		t.Errorf("pidfdIfSame(1) with the wrong start time = %d, true", fd)
	}
}

func TestLongestIDsMakeAValidContainer(t *testing.T) {
	long := strings.Repeat("x", api.MaxNameLen)
	for _, k := range []core.TaskKey{{Framework: long, Task: long}, {Framework: ".f", Task: "t"}, {Framework: "f", Task: "t"}} {
		if _, err := isolation.None().Create(core.ContainerID(k), isolation.Limits{}); err != nil {
			t.Errorf("the container of %.20s.../%.20s...: %v", k.Framework, k.Task, err)
		}
	}
}

func TestLastWins(t *testing.T) {
	got := lastWins([]string{"PATH=/bin", "HOME=/s", "A=1", "PATH=/opt/bin", "B=x=y", "A=2"})
	want := []string{"PATH=/opt/bin", "HOME=/s", "A=2", "B=x=y"}
	if !slices.Equal(got, want) {
		t.Errorf("lastWins = %q, want %q", got, want)
	}
}

// An agent that is not root runs every task as its own user and refuses
// one that names another.
func TestAgentNotRootRunsTasksAsItself(t *testing.T) {
	a := &Agent{opts: Options{TaskUser: "me"}}
	if id, err := a.identity("me"); id != nil || err != nil {
		t.Errorf("identity(me) = %v, %v; want the agent's own", id, err)
	}
	if _, err := a.identity("alice"); err == nil || !strings.Contains(err.Error(), `cannot run a task as user "alice"`) {
		t.Errorf("identity(alice) of an agent not root: %v", err)
	}
}
