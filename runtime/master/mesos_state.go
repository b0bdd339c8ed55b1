package master

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/apronlab/apron/internal/buildinfo"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/master/core"
)

// Mesos' read-only endpoints, beside apron's own /state: the views are
// the core's (core.AppendMesosState and its kin), written under the lock
// as /state is, each task's JSON kept with the task.

// maxTaskPage is the most tasks one page of /master/tasks holds (Mesos
// has no bound; its default page is 100).
const maxTaskPage = 10000

// mesosRoutes registers the endpoints on mux, each with Mesos' aliases.
func (m *Master) mesosRoutes(mux *http.ServeMux) {
	route := func(h http.HandlerFunc, object string, paths ...string) {
		for _, p := range paths {
			mux.HandleFunc("GET "+p, m.viewing(object, h))
		}
	}
	route(m.serveMesosState, "state", "/master/state", "/master/state.json", "/state.json")
	route(m.serveMesosSlaves, "state", "/master/slaves", "/slaves")
	route(m.serveMesosFrameworks, "state", "/master/frameworks")
	route(m.serveMesosTasks, "state", "/master/tasks", "/master/tasks.json", "/tasks.json")
	route(m.serveMesosRoles, "state", "/master/roles", "/master/roles.json", "/roles", "/roles.json")
	route(m.serveMetricsSnapshot, "metrics", "/metrics/snapshot")
	mux.HandleFunc("GET /version", m.serveVersion)
	mux.HandleFunc("GET /master/health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /api/v1", m.serveOperator)
	mux.HandleFunc("POST /master/api/v1", m.serveOperator)
}

// versionInfo is this binary's version as Mesos' VersionInfo: the Mesos
// release whose APIs apron speaks, and apron's build as the git fields
// (the commit, and the release tag when apron was installed at one).
var versionInfo = sync.OnceValue(func() core.VersionInfo {
	bi := buildinfo.Read()
	v := core.VersionInfo{Version: api.MesosVersion, GitSHA: bi.Revision}
	if t, err := time.Parse(time.RFC3339, bi.Time); err == nil {
		v.BuildDate, v.BuildTime = t.UTC().Format("2006-01-02 15:04:05"), float64(t.Unix())
	}
	if pseudo := regexp.MustCompile(`\d{14}-[0-9a-f]{12}`); bi.Version != "(devel)" && bi.Version != "unknown" && !pseudo.MatchString(bi.Version) {
		v.GitTag = bi.Version
	}
	return v
})

var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
})

// mesosInfo is what the Mesos views say of this master: its build, host
// name and the address it serves at (its own URL in a replicated
// cluster, else the one the request came to).
func (m *Master) mesosInfo(r *http.Request) core.MesosInfo {
	addr := r.Host
	if m.rep != nil {
		if u, err := url.Parse(m.rep.opts.Peers[m.rep.opts.ID-1]); err == nil {
			addr = u.Host
		}
	}
	return core.MesosInfo{Version: versionInfo(), Hostname: hostname(), Address: addr, Started: m.start}
}

// serveView writes what build appends from the core, under the lock; a
// master that does not lead sends the request to the leader.
func (m *Master) serveView(w http.ResponseWriter, r *http.Request, build func(c *core.Core, b []byte) []byte) {
	m.mu.Lock()
	if m.core == nil {
		m.mu.Unlock()
		m.notLeader(w, r)
		return
	}
	b := build(m.core, make([]byte, 0, 64<<10))
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (m *Master) serveMesosState(w http.ResponseWriter, r *http.Request) {
	in := m.mesosInfo(r)
	m.serveView(w, r, func(c *core.Core, b []byte) []byte { return c.AppendMesosState(b, in) })
}

func (m *Master) serveMesosSlaves(w http.ResponseWriter, r *http.Request) {
	in, id := m.mesosInfo(r), r.URL.Query().Get("slave_id")
	m.serveView(w, r, func(c *core.Core, b []byte) []byte { return c.AppendMesosSlaves(b, in, id) })
}

func (m *Master) serveMesosFrameworks(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("framework_id")
	m.serveView(w, r, func(c *core.Core, b []byte) []byte { return c.AppendMesosFrameworks(b, id) })
}

func (m *Master) serveMesosRoles(w http.ResponseWriter, r *http.Request) {
	m.serveView(w, r, func(c *core.Core, b []byte) []byte { return append(b, c.MesosRoles()...) })
}

func (m *Master) serveMesosTasks(w http.ResponseWriter, r *http.Request) {
	q, err := tasksQuery(r.URL.Query())
	if err != nil {
		refuse(w, http.StatusBadRequest, "", "%v", err)
		return
	}
	m.serveView(w, r, func(c *core.Core, b []byte) []byte { return c.AppendMesosTasks(b, q) })
}

// tasksQuery reads /master/tasks' parameters as Mesos names them: limit
// (default 100), offset, order (asc, or des the default), framework_id
// and task_id.
func tasksQuery(v url.Values) (core.TasksQuery, error) {
	q := core.TasksQuery{Limit: 100, Desc: true, FrameworkID: v.Get("framework_id"), TaskID: v.Get("task_id")}
	for _, p := range []struct {
		name string
		to   *int
		most int
	}{{"limit", &q.Limit, maxTaskPage}, {"offset", &q.Offset, int(^uint(0) >> 1)}} {
		s := v.Get(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > p.most {
			return q, fmt.Errorf("%s %q: want a whole number from 0 to %d", p.name, s, p.most)
		}
		*p.to = n
	}
	switch o := v.Get("order"); o {
	case "", "des":
	case "asc":
		q.Desc = false
	default:
		return q, fmt.Errorf("order %q: want asc (oldest first) or des (newest first, the default)", o)
	}
	return q, nil
}

// serveVersion is Mesos' /version: this master's build, open as Mesos'
// is, on every master.
func (m *Master) serveVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, versionInfo())
}

// mesosMetrics are /metrics/snapshot's figures: the core's, or a
// standby's election and uptime alone.
func (m *Master) mesosMetrics() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return map[string]float64{"master/elected": 0, "master/uptime_secs": m.Uptime().Seconds()}
	}
	return m.core.MesosMetrics(m.Uptime(), core.CycleStats{Runs: m.cycles.n, Last: m.cycles.last})
}

// serveMetricsSnapshot is Mesos' /metrics/snapshot, on every master.
func (m *Master) serveMetricsSnapshot(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, m.mesosMetrics())
}
