package agent

import (
	"encoding/json"
	"errors"
	"net/http"

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

// Handler serves GET /state and GET /sandbox/{framework}/{task}/{stdout|stderr},
// to those who prove they are principals of Options.Credentials.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a.State())
	})
	mux.HandleFunc("GET /sandbox/{fw}/{task}/{file}", a.serveSandboxFile)
	// Only the principals of the agent's credentials (the master's, the
	// operators') read it; a certificate of another principal of the
	// cluster's CA, another agent's, is not enough.
	return a.opts.Credentials.Require(nil, mux)
}

// serveSandboxFile serves a task's stdout or stderr as plain text (never
// as a page a browser would run), opened as sandboxFile opens it: a link,
// or a file that is not the sandbox owner's, is refused with 403.
func (a *Agent) serveSandboxFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name != "stdout" && name != "stderr" {
		http.Error(w, "no such sandbox file; the files are stdout and stderr", http.StatusNotFound)
		return
	}
	f, err := a.sandboxFile(core.TaskKey{Framework: r.PathValue("fw"), Task: r.PathValue("task")}, name)
	switch {
	case errors.Is(err, errLink) || errors.Is(err, errOutside) || errors.Is(err, errForeign):
		http.Error(w, "refused: "+err.Error(), http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, "no such sandbox file: "+err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, info.ModTime(), f)
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
