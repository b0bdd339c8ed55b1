package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apronlab/apron/runtime/api"
)

// record is what the agent checkpoints of one task: enough to find its
// process after a restart and to send the updates not yet acknowledged.
type record struct {
	FrameworkID string           `json:"framework_id"`
	Role        string           `json:"role"`
	Task        api.TaskInfo     `json:"task"`
	State       string           `json:"state"`
	Pid         int              `json:"pid,omitempty"`
	PidStart    uint64           `json:"pid_start,omitempty"` // the process's start time in ticks since boot
	Sandbox     string           `json:"sandbox"`
	Container   string           `json:"container,omitempty"`
	KillAsked   bool             `json:"kill_asked,omitempty"`
	Pending     []api.TaskStatus `json:"pending,omitempty"` // unacknowledged, oldest first
}

func (r *record) key() string { return r.FrameworkID + "/" + r.Task.TaskID.Value }

// store keeps checkpoints under dir/meta: the agent's name, and a journal
// of task records, one JSON line per change (a record with only its key
// and "removed" forgets a task). Appending one line costs far less than
// writing a file per change; the journal is rewritten with only the live
// records when it is opened and when it grows past four times them.
type store struct {
	dir   string
	mu    sync.Mutex
	f     *os.File
	lines int
	live  map[string]bool
}

type journalLine struct {
	*record
	Key     string `json:"key"`
	Removed bool   `json:"removed,omitempty"`
}

func (s *store) journal() string { return filepath.Join(s.dir, "meta", "tasks.journal") }

// save appends a task's record.
func (s *store) save(r *record) error {
	return s.append(journalLine{record: r, Key: r.key()})
}

// remove forgets a task.
func (s *store) remove(r *record) error {
	return s.append(journalLine{Key: r.key(), Removed: true})
}

func (s *store) append(l journalLine) error {
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("checkpoint: the journal is not open")
	}
	if _, err := s.f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("checkpoint %s: %w", s.journal(), err)
	}
	s.lines++
	if l.Removed {
		delete(s.live, l.Key)
	} else {
		s.live[l.Key] = true
	}
	return nil
}

// load reads every checkpointed task and reopens the journal compacted to
// them; a line that cannot be read is reported with its number and
// skipped.
func (s *store) load() ([]*record, []error) {
	var errs []error
	byKey := map[string]*record{}
	var order []string
	if data, err := os.ReadFile(s.journal()); err == nil {
		for i, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			l := journalLine{record: &record{}}
			if err := json.Unmarshal(line, &l); err != nil || l.Key == "" {
				errs = append(errs, fmt.Errorf("checkpoint %s:%d: %v", s.journal(), i+1, err))
				continue
			}
			if _, seen := byKey[l.Key]; !seen {
				order = append(order, l.Key)
			}
			byKey[l.Key] = l.record
			if l.Removed {
				byKey[l.Key] = nil
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("checkpoint: %w", err))
	}
	var out []*record
	for _, k := range order {
		if r := byKey[k]; r != nil {
			out = append(out, r)
		}
	}
	if err := s.rewrite(out); err != nil {
		errs = append(errs, err)
	}
	return out, errs
}

// rewrite replaces the journal with recs, atomically, and opens it for
// appending.
func (s *store) rewrite(recs []*record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.journal()), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	s.live = map[string]bool{}
	for _, r := range recs {
		data, err := json.Marshal(journalLine{record: r, Key: r.key()})
		if err != nil {
			return err
		}
		buf.Write(append(data, '\n'))
		s.live[r.key()] = true
	}
	tmp := s.journal() + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.journal()); err != nil {
		return err
	}
	if s.f != nil {
		s.f.Close()
	}
	f, err := os.OpenFile(s.journal(), os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	s.f, s.lines = f, len(recs)
	return nil
}

// tooLong reports whether the journal should be compacted.
func (s *store) tooLong() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines > 4*len(s.live)+1000
}

// agentFile records the agent's name, so a restart re-registers as the
// same agent.
func (s *store) loadName() string {
	data, err := os.ReadFile(filepath.Join(s.dir, "meta", "agent"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (s *store) saveName(name string) error {
	if err := os.MkdirAll(filepath.Join(s.dir, "meta"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, "meta", "agent"), []byte(name+"\n"), 0o644)
}
