package webui

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master"
)

// resourceRow is one resource of a usage table.
type resourceRow struct {
	Name                 string
	Total, Used, Offered float64
}

func resourceRows(u master.Usage) []resourceRow {
	var rows []resourceRow
	for name, total := range u.Total {
		rows = append(rows, resourceRow{Name: name, Total: total, Used: u.Used[name], Offered: u.Offered[name]})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

type overviewData struct {
	Title             string
	St                master.Summary
	Active, Unreach   int
	Counts            []stateCount
	Resources         []resourceRow
	Chart             template.HTML
	Running, Finished page[master.TaskState]
}

// stateCount is how many tasks are in a state (the live ones) or reached
// it since the master started (the terminal ones).
type stateCount struct {
	Name, State string // "running", "TASK_RUNNING"
	N           int
}

// countedStates are the task states the overview counts.
var countedStates = []string{"TASK_STAGING", "TASK_RUNNING", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST"}

func stateCounts(counts map[string]int) []stateCount {
	out := make([]stateCount, 0, len(countedStates))
	for _, s := range countedStates {
		out = append(out, stateCount{Name: strings.ToLower(shortState(s)), State: s, N: counts[s]})
	}
	return out
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request) {
	st := u.m.State()
	d := overviewData{Title: "Cluster", St: st.Summary, Counts: stateCounts(st.TaskCounts), Resources: resourceRows(st.Resources),
		Chart:   utilizationChart(u.m.History()),
		Running: paginate(r, "running", []master.TaskState(st.Tasks)), Finished: paginate(r, "finished", newestFirst(st.CompletedTasks))}
	for _, a := range st.Agents {
		if a.State == "active" {
			d.Active++
		} else {
			d.Unreach++
		}
	}
	u.render(w, r, "overview", d)
}

// newestFirst orders finished tasks by when they ended, newest first.
func newestFirst(ts master.TaskList) []master.TaskState {
	out := append([]master.TaskState(nil), ts...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated > out[j].Updated })
	return out
}

func (u *UI) agents(w http.ResponseWriter, r *http.Request) {
	st := u.m.Summary()
	u.render(w, r, "agents", struct {
		Title  string
		Agents page[master.AgentState]
	}{"Agents", paginate(r, "page", st.Agents)})
}

func (u *UI) agent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st := u.m.Summary()
	for _, a := range st.Agents {
		if a.ID == id {
			running, done := u.m.AgentTasks(id)
			u.render(w, r, "agent", struct {
				Title             string
				A                 master.AgentState
				Resources         []resourceRow
				Running, Finished page[master.TaskState]
			}{"Agent " + id, a, resourceRows(a.Resources), paginate(r, "running", running), paginate(r, "finished", done)})
			return
		}
	}
	notFound(w, "agent "+id)
}

func (u *UI) frameworks(w http.ResponseWriter, r *http.Request) {
	st := u.m.Summary()
	done := append([]master.FrameworkState(nil), st.CompletedFrameworks...)
	slices.Reverse(done)
	u.render(w, r, "frameworks", struct {
		Title            string
		Frameworks, Done page[master.FrameworkState]
	}{"Frameworks", paginate(r, "page", st.Frameworks), paginate(r, "done", done)})
}

func (u *UI) framework(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st := u.m.Summary()
	for _, f := range append(st.Frameworks, st.CompletedFrameworks...) {
		if f.ID == id {
			running, done := u.m.FrameworkTasks(id)
			u.render(w, r, "framework", struct {
				Title             string
				F                 master.FrameworkState
				Resources         []resourceRow
				Chart             template.HTML
				Running, Finished page[master.TaskState]
			}{"Framework " + f.Name, f, resourceRows(f.Resources), shareChart(u.m.History(), id), paginate(r, "running", running), paginate(r, "finished", done)})
			return
		}
	}
	notFound(w, "framework "+id)
}

func (u *UI) task(w http.ResponseWriter, r *http.Request) {
	t, ok := u.m.Task(r.PathValue("fw"), r.PathValue("id"))
	if !ok {
		notFound(w, "task "+r.PathValue("id"))
		return
	}
	stdout, stderr := u.tail(t, "stdout"), u.tail(t, "stderr")
	if d := u.m.Decide(r, auth.AccessSandboxes, t.Principal, true); !d.Allowed {
		stdout = fmt.Sprintf("(principal %q may not read the sandboxes of principal %q's tasks: %s)", master.Principal(r), t.Principal, d)
		stderr = stdout
	}
	u.render(w, r, "task", struct {
		Title          string
		T              master.TaskDetail
		Stdout, Stderr string
	}{"Task " + t.ID, t, stdout, stderr})
}

// tailBytes is how much of a sandbox file a task page shows.
const tailBytes = 16 << 10

// tail reads the end of a task's sandbox file from its agent.
func (u *UI) tail(t master.TaskDetail, file string) string {
	if t.AgentURL == "" {
		return "(the agent is not known)"
	}
	body, err := u.fetch(t.AgentURL, t.FrameworkID, t.ID, file, tailBytes)
	if err != nil {
		return "(could not read " + file + " from agent " + t.AgentID + ": " + err.Error() + ")"
	}
	return body
}

func (u *UI) fetch(agentURL, fw, task, file string, last int) (string, error) {
	req, err := http.NewRequest(http.MethodGet, agentURL+"/sandbox/"+url.PathEscape(fw)+"/"+url.PathEscape(task)+"/"+url.PathEscape(file), nil)
	if err != nil {
		return "", err
	}
	if last > 0 {
		req.Header.Set("Range", "bytes=-"+strconv.Itoa(last))
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable:
		return "", nil // empty file
	default:
		return "", &statusError{resp.Status}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(data), err
}

type statusError struct{ status string }

func (e *statusError) Error() string { return "the agent answered " + e.status }

// sandbox serves a task's sandbox file through the master, so a browser
// needs to reach only the master.
func (u *UI) sandbox(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if file != "stdout" && file != "stderr" {
		notFound(w, "sandbox file "+file)
		return
	}
	t, ok := u.m.Task(r.PathValue("fw"), r.PathValue("task"))
	if !ok || t.AgentID != r.PathValue("agent") || t.AgentURL == "" {
		notFound(w, "task "+r.PathValue("task")+" of framework "+r.PathValue("fw")+" on agent "+r.PathValue("agent"))
		return
	}
	if !u.m.Allowed(w, r, auth.AccessSandboxes, t.Principal, true) {
		return
	}
	body, err := u.fetch(t.AgentURL, t.FrameworkID, t.ID, file, 0)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, body)
}
