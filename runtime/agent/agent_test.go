package agent

import (
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
)

func TestSandboxStaysInTheWorkDir(t *testing.T) {
	a, err := New(Options{Master: "http://127.0.0.1:1", Name: "a", WorkDir: t.TempDir(), Resources: allocator.MustParseResources("cpus:1")})
	if err != nil {
		t.Fatal(err)
	}
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
		p, err := a.sandbox(tt.fw, tt.task)
		if (err == nil) != tt.ok {
			t.Errorf("sandbox(%q, %q) = %s, %v; want ok %v", tt.fw, tt.task, p, err, tt.ok)
		}
		if err == nil && !strings.HasPrefix(p, a.opts.WorkDir) {
			t.Errorf("sandbox(%q, %q) = %s, outside %s", tt.fw, tt.task, p, a.opts.WorkDir)
		}
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
}

func TestJournalKeepsTheLastRecordOfEachLiveTask(t *testing.T) {
	dir := t.TempDir()
	s := &store{dir: dir}
	if recs, errs := s.load(); len(recs) != 0 || len(errs) != 0 {
		t.Fatalf("an empty work dir: %v %v", recs, errs)
	}
	a := &record{FrameworkID: "f", State: "TASK_STARTING"}
	a.Task.TaskID.Value = "a"
	b := &record{FrameworkID: "f", State: "TASK_RUNNING"}
	b.Task.TaskID.Value = "b"
	for _, step := range []func() error{
		func() error { return s.save(a) }, func() error { return s.save(b) },
		func() error { a.State = "TASK_RUNNING"; return s.save(a) }, func() error { return s.remove(b) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	again := &store{dir: dir}
	recs, errs := again.load()
	if len(errs) != 0 || len(recs) != 1 || recs[0].key() != "f/a" || recs[0].State != "TASK_RUNNING" {
		t.Fatalf("reloaded %+v, errors %v; want f/a running alone", recs, errs)
	}
}
