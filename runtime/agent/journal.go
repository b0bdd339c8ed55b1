package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apronlab/apron/internal/sorted"
	"github.com/apronlab/apron/runtime/agent/core"
)

// file is the little of an open file the journal uses.
type file interface {
	io.Writer
	Sync() error
	Close() error
}

// fsys is the little of the filesystem the journal uses; tests check
// through it that what must be durable is synced.
type fsys interface {
	OpenFile(name string, flag int, perm fs.FileMode) (file, error)
	Rename(oldpath, newpath string) error
	ReadFile(name string) ([]byte, error)
	MkdirAll(path string, perm fs.FileMode) error
}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	return os.OpenFile(name, flag, perm)
}
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) ReadFile(name string) ([]byte, error)         { return os.ReadFile(name) }
func (osFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// journal keeps checkpoints under WORK_DIR/meta: the agent's name, and a
// journal of task records, one JSON line per change (a line with only
// its key and "removed" forgets a task). Every batch of lines is fsynced
// before apply returns. The journal is rewritten with only the live
// records (to a new file, fsynced, renamed over the old, and the
// directory fsynced) when it is opened, when it grows past four times
// them, and after a failed write.
type journal struct {
	fs     fsys
	dir    string
	f      file
	lines  int
	live   map[string][]byte // each live record's last line
	broken bool              // a write failed: rewrite before appending
}

type journalLine struct {
	*core.Record
	Key     string `json:"key"`
	Removed bool   `json:"removed,omitempty"`
}

func newJournal(fs fsys, workDir string) *journal {
	return &journal{fs: fs, dir: filepath.Join(workDir, "meta"), live: map[string][]byte{}}
}

func (j *journal) path() string { return filepath.Join(j.dir, "tasks.journal") }

// apply makes a batch of writes durable.
func (j *journal) apply(ws []core.Write) error {
	if len(ws) == 0 && !j.broken {
		return nil
	}
	var buf bytes.Buffer
	for _, w := range ws {
		line, err := json.Marshal(journalLine{Record: w.Record, Key: w.Key.JournalKey(), Removed: w.Record == nil})
		if err != nil {
			j.broken = true
			return fmt.Errorf("checkpoint %s: %w", w.Key, err)
		}
		if w.Record == nil {
			delete(j.live, w.Key.JournalKey())
		} else {
			j.live[w.Key.JournalKey()] = line
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if j.broken || j.f == nil || j.lines+len(ws) > 4*len(j.live)+1000 {
		return j.rewrite()
	}
	if _, err := j.f.Write(buf.Bytes()); err != nil {
		j.broken = true
		return fmt.Errorf("checkpoint %s: %w", j.path(), err)
	}
	if err := j.f.Sync(); err != nil {
		j.broken = true
		return fmt.Errorf("checkpoint %s: fsync: %w", j.path(), err)
	}
	j.lines += len(ws)
	return nil
}

// load reads every checkpointed task and rewrites the journal compacted
// to them; a line that cannot be read is reported with its number and
// skipped.
func (j *journal) load() ([]core.Record, []error) {
	var errs []error
	data, err := j.fs.ReadFile(j.path())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("checkpoint: %w", err))
	}
	byKey := map[string]*core.Record{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		l := journalLine{Record: &core.Record{}}
		if err := json.Unmarshal(line, &l); err != nil || l.Key == "" {
			errs = append(errs, fmt.Errorf("checkpoint %s:%d: not a journal line: %v", j.path(), i+1, err))
			continue
		}
		byKey[l.Key] = l.Record
		if l.Removed {
			delete(byKey, l.Key)
		}
	}
	var out []core.Record
	for _, k := range sorted.Keys(byKey) {
		r := byKey[k]
		out = append(out, *r)
		line, _ := json.Marshal(journalLine{Record: r, Key: r.Key().JournalKey()})
		j.live[r.Key().JournalKey()] = line
	}
	if err := j.rewrite(); err != nil {
		errs = append(errs, err)
	}
	return out, errs
}

// rewrite replaces the journal with the live records, durably, and opens
// it for appending.
func (j *journal) rewrite() error {
	var buf bytes.Buffer
	for _, k := range sorted.Keys(j.live) {
		buf.Write(j.live[k])
		buf.WriteByte('\n')
	}
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
	j.broken = true
	if err := j.atomicWrite(j.path(), buf.Bytes()); err != nil {
		return err
	}
	f, err := j.fs.OpenFile(j.path(), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	j.f, j.lines, j.broken = f, len(j.live), false
	return nil
}

// atomicWrite replaces path with data: a new file, fsynced, renamed over
// path, and the directory fsynced, so a crash leaves the old or the new.
func (j *journal) atomicWrite(path string, data []byte) error {
	if err := j.fs.MkdirAll(j.dir, 0o700); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp := path + ".tmp"
	f, err := j.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = j.fs.Rename(tmp, path)
	}
	if err == nil {
		err = j.syncDir()
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

func (j *journal) syncDir() error {
	d, err := j.fs.OpenFile(j.dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// loadName is the checkpointed name of the agent, so a restart
// re-registers as the same agent; "" if none.
func (j *journal) loadName() string {
	data, err := j.fs.ReadFile(filepath.Join(j.dir, "agent"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (j *journal) saveName(name string) error {
	if j.loadName() == name {
		return nil
	}
	return j.atomicWrite(filepath.Join(j.dir, "agent"), []byte(name+"\n"))
}

// nextIncarnation counts this start of the agent on its work dir and
// checkpoints the count: the master orders an agent's subscriptions by it,
// so a late one of a previous process is refused.
func (j *journal) nextIncarnation() (uint64, error) {
	p := filepath.Join(j.dir, "incarnation")
	var n uint64
	if data, err := j.fs.ReadFile(p); err == nil {
		n, _ = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	}
	n++
	return n, j.atomicWrite(p, []byte(strconv.FormatUint(n, 10)+"\n"))
}
