package agent

import (
	"encoding/json"
	"net/http"
	"path/filepath"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/runtime/api"
)

// TaskView is one task in the agent's /state.
type TaskView struct {
	FrameworkID string            `json:"framework_id"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	State       string            `json:"state"`
	Pid         int               `json:"pid,omitempty"`
	Sandbox     string            `json:"sandbox"`
	Cgroup      string            `json:"cgroup,omitempty"`
	Limits      map[string]string `json:"limits,omitempty"` // the cgroup's limit files
	Unacked     int               `json:"unacknowledged_updates"`
}

// StateView is the agent's /state.
type StateView struct {
	ID        string         `json:"id"`
	Master    string         `json:"master"`
	Isolation string         `json:"isolation"`
	Resources []api.Resource `json:"resources"`
	Tasks     []TaskView     `json:"tasks"`
}

// Handler serves GET /state and GET /sandbox/{framework}/{task}/{stdout|stderr}.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a.State())
	})
	mux.HandleFunc("GET /sandbox/{fw}/{task}/{file}", func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		dir, err := a.sandbox(r.PathValue("fw"), r.PathValue("task"))
		if err != nil || (file != "stdout" && file != "stderr") {
			http.Error(w, "no such sandbox file; the files are stdout and stderr", http.StatusNotFound)
			return
		}
		http.ServeFile(w, r, filepath.Join(dir, file))
	})
	return mux
}

// State returns what the agent runs.
func (a *Agent) State() StateView {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := StateView{ID: a.opts.Name, Master: a.opts.Master, Isolation: a.opts.Isolator.Name(), Resources: api.FromResources(a.opts.Resources)}
	for _, k := range sorted.Keys(a.tasks) {
		r := a.tasks[k]
		tv := TaskView{FrameworkID: r.rec.FrameworkID, ID: r.rec.Task.TaskID.Value, Name: r.rec.Task.Name, State: r.rec.State,
			Pid: r.rec.Pid, Sandbox: r.rec.Sandbox, Unacked: len(r.rec.Pending)}
		if r.ctr != nil && !r.ended {
			tv.Cgroup, tv.Limits = r.ctr.Path(), r.ctr.Files()
		}
		v.Tasks = append(v.Tasks, tv)
	}
	return v
}
