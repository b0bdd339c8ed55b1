package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
)

// syncFS is the real filesystem, counting the fsyncs of each path and
// the bytes written to it since its last fsync, and failing writes when
// told to.
type syncFS struct {
	osFS
	syncs    map[string]int
	unsynced map[string]int
	failing  bool
}

type syncFile struct {
	*os.File
	fs *syncFS
}

func (f syncFile) Write(p []byte) (int, error) {
	if f.fs.failing {
		return 0, errors.New("no space left on device")
	}
	f.fs.unsynced[f.Name()] += len(p)
	return f.File.Write(p)
}

func (f syncFile) Sync() error {
	f.fs.syncs[f.Name()]++
	f.fs.unsynced[f.Name()] = 0
	return f.File.Sync()
}

func (s *syncFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return syncFile{f, s}, nil
}

func newSyncFS() *syncFS { return &syncFS{syncs: map[string]int{}, unsynced: map[string]int{}} }

func record(task, state string) *core.Record {
	return &core.Record{FrameworkID: "f", Task: api.TaskInfo{TaskID: api.ID{Value: task}}, State: state}
}

func TestJournalIsSyncedBeforeApplyReturns(t *testing.T) {
	dir := t.TempDir()
	sfs := newSyncFS()
	j := newJournal(sfs, dir)
	if recs, errs := j.load(); len(recs) != 0 || len(errs) != 0 {
		t.Fatalf("an empty work dir: %v %v", recs, errs)
	}
	meta := filepath.Join(dir, "meta")
	if sfs.syncs[j.path()+".tmp"] == 0 || sfs.syncs[meta] == 0 {
		t.Errorf("opening rewrote the journal without fsyncing it and its directory: %v", sfs.syncs)
	}
	a := record("a", core.TaskRunning)
	before := sfs.syncs[j.path()]
	if err := j.apply([]core.Write{{Key: a.Key(), Record: a}}); err != nil {
		t.Fatal(err)
	}
	if sfs.syncs[j.path()] != before+1 || sfs.unsynced[j.path()] != 0 {
		t.Errorf("apply returned with %d bytes not fsynced (%d fsyncs)", sfs.unsynced[j.path()], sfs.syncs[j.path()]-before)
	}
}

func TestJournalKeepsTheLastRecordOfEachLiveTask(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(osFS{}, dir)
	j.load()
	a, b := record("a", core.TaskStaging), record("b", core.TaskRunning)
	a2 := record("a", core.TaskRunning)
	for _, ws := range [][]core.Write{{{Key: a.Key(), Record: a}, {Key: b.Key(), Record: b}}, {{Key: a.Key(), Record: a2}}, {{Key: b.Key()}}} {
		if err := j.apply(ws); err != nil {
			t.Fatal(err)
		}
	}
	recs, errs := newJournal(osFS{}, dir).load()
	if len(errs) != 0 || len(recs) != 1 || recs[0].Key() != a.Key() || recs[0].State != core.TaskRunning {
		t.Fatalf("reloaded %+v, errors %v; want f/a running alone", recs, errs)
	}
}

func TestJournalRecoversFromAFailedWrite(t *testing.T) {
	dir := t.TempDir()
	sfs := newSyncFS()
	j := newJournal(sfs, dir)
	j.load()
	a, b := record("a", core.TaskRunning), record("b", core.TaskRunning)
	sfs.failing = true
	if err := j.apply([]core.Write{{Key: a.Key(), Record: a}}); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("a failed write: %v", err)
	}
	sfs.failing = false
	if err := j.apply([]core.Write{{Key: b.Key(), Record: b}}); err != nil {
		t.Fatal(err)
	}
	recs, errs := newJournal(osFS{}, dir).load()
	if len(errs) != 0 || len(recs) != 2 {
		t.Errorf("after a failed write and a good one: %+v %v, want a and b", recs, errs)
	}
}

func TestJournalReadsTheOldFormat(t *testing.T) {
	dir := t.TempDir()
	old := `{"framework_id":"f","role":"*","task":{"name":"x","task_id":{"value":"x"},"agent_id":{"value":""},"resources":null},"state":"TASK_RUNNING","pid":7,"sandbox":"/w/sandboxes/f/x","key":"f/x"}
{"framework_id":"f","role":"*","task":{"name":"y","task_id":{"value":"y"},"agent_id":{"value":""},"resources":null},"state":"TASK_RUNNING","key":"f/y"}
{"key":"f/y","removed":true}
not json
`
	os.MkdirAll(filepath.Join(dir, "meta"), 0o755)
	os.WriteFile(filepath.Join(dir, "meta", "tasks.journal"), []byte(old), 0o644)
	recs, errs := newJournal(osFS{}, dir).load()
	if len(recs) != 1 || recs[0].Pid != 7 || len(errs) != 1 || !strings.Contains(errs[0].Error(), ":4:") {
		t.Errorf("loaded %+v, errors %v; want f/x with pid 7, and line 4 reported", recs, errs)
	}
}
