package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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

// store keeps checkpoints under dir/meta.
type store struct{ dir string }

func (s store) path(r *record) string {
	return filepath.Join(s.dir, "meta", "tasks", r.FrameworkID, r.Task.TaskID.Value+".json")
}

// save writes a task's record atomically.
func (s store) save(r *record) error {
	p := s.path(r)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (s store) remove(r *record) error {
	err := os.Remove(s.path(r))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// load reads every checkpointed task; a file that cannot be read is
// reported by name and skipped.
func (s store) load() ([]*record, []error) {
	var out []*record
	var errs []error
	root := filepath.Join(s.dir, "meta", "tasks")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		data, err := os.ReadFile(p)
		r := &record{}
		if err == nil {
			err = json.Unmarshal(data, r)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("checkpoint %s: %w", p, err))
			return nil
		}
		out = append(out, r)
		return nil
	})
	return out, errs
}

// agentFile records the agent's name, so a restart re-registers as the
// same agent.
func (s store) loadName() string {
	data, err := os.ReadFile(filepath.Join(s.dir, "meta", "agent"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (s store) saveName(name string) error {
	if err := os.MkdirAll(filepath.Join(s.dir, "meta"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, "meta", "agent"), []byte(name+"\n"), 0o644)
}
