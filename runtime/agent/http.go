package agent

import (
	"encoding/json"
	"net/http"
	"path/filepath"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
)

// TaskView is a task in the agent's /state.
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
	ID         string         `json:"id"`
	Master     string         `json:"master"`     // the one calls go to: the leader, once one led there
	Connection string         `json:"connection"` // disconnected, subscribing or registered
	Generation uint64         `json:"generation"` // of the current subscribe attempt
	Isolation  string         `json:"isolation"`
	Resources  []api.Resource `json:"resources"`
	Tasks      []TaskView     `json:"tasks"`
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
		dir, err := a.sandbox(core.TaskKey{Framework: r.PathValue("fw"), Task: r.PathValue("task")})
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
	conn, gen, _ := a.core.Connection()
	v := StateView{ID: a.opts.Name, Master: a.masters.URL(), Connection: conn, Generation: gen, Isolation: a.opts.Isolator.Name(),
		Resources: api.FromResources(a.opts.Resources)}
	for _, t := range a.core.Tasks() {
		dir, _ := a.sandbox(t.Key)
		tv := TaskView{FrameworkID: t.Key.Framework, ID: t.Key.Task, Name: t.Name, State: t.State, Pid: t.Pid, Sandbox: dir, Unacked: t.Unacked}
		if p := a.procs[t.Key]; p != nil && p.ctr != nil && !p.exited {
			tv.Cgroup, tv.Limits = p.ctr.Path(), p.ctr.Files()
		}
		v.Tasks = append(v.Tasks, tv)
	}
	return v
}
