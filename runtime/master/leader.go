package master

import (
	"net/http"
	"strings"
)

// LeaderOnly wraps h for a replicated master: a master that does not lead
// answers every request but its own (raft, discovery, health, version,
// metrics, its cluster view, and the web UI's login link, which only sets
// the browser's session cookie, good at every master) with 307 to the
// leader's URL and the same path, or 503 when it knows no leader. Without
// replication it is h.
func (m *Master) LeaderOnly(h http.Handler) http.Handler {
	if m.rep == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/raft", "/master/redirect", "/health", "/metrics", "/api/v1/masters", "/master/health", "/version", "/metrics/snapshot", "/login":
			h.ServeHTTP(w, r)
			return
		}
		if m.leading() {
			h.ServeHTTP(w, r)
			return
		}
		m.notLeader(w, r)
	})
}

// leading says whether this master runs the core now.
func (m *Master) leading() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.core != nil
}

// notLeader sends a request to the leader (307, the same path and query),
// or says no leader is known (503).
func (m *Master) notLeader(w http.ResponseWriter, r *http.Request) {
	leader := ""
	if m.rep != nil {
		m.mu.Lock()
		leader = m.rep.leaderURL()
		if leader == m.rep.opts.Peers[m.rep.opts.ID-1] {
			leader = "" // it is this master, which does not lead yet
		}
		m.mu.Unlock()
	}
	if leader == "" {
		w.Header().Set("Retry-After", "1")
		refuse(w, http.StatusServiceUnavailable, "", "this master does not lead and knows no leader yet (an election is under way); try again, or another master")
		return
	}
	http.Redirect(w, r, strings.TrimSuffix(leader, "/")+r.URL.RequestURI(), http.StatusTemporaryRedirect)
}

// serveRedirect is Mesos' /master/redirect: 307 to the leading master.
func (m *Master) serveRedirect(w http.ResponseWriter, r *http.Request) {
	self := ""
	if m.rep != nil {
		self = m.rep.opts.Peers[m.rep.opts.ID-1]
	}
	if m.leading() {
		if self == "" {
			self = "http://" + r.Host
		}
		http.Redirect(w, r, self, http.StatusTemporaryRedirect)
		return
	}
	m.mu.Lock()
	leader := m.rep.leaderURL()
	m.mu.Unlock()
	if leader == "" || leader == self {
		w.Header().Set("Retry-After", "1")
		refuse(w, http.StatusServiceUnavailable, "", "no leader is known yet")
		return
	}
	http.Redirect(w, r, leader, http.StatusTemporaryRedirect)
}

// clusterView is the replicated masters as this one sees them; nil
// without replication. Called with the lock held.
func (m *Master) clusterView() *ClusterView {
	if m.rep == nil {
		return nil
	}
	st := m.rep.node.Status()
	v := &ClusterView{Leader: st.Leader, Term: st.Term, Self: st.ID}
	for i, url := range m.rep.opts.Peers {
		id := uint64(i + 1)
		role := "follower"
		switch {
		case id == st.Leader:
			role = "leader"
		case id == st.ID:
			role = st.Role
		case st.Leader == 0:
			role = "unknown"
		case st.Active != nil && !st.Active[id]:
			role = "unreachable" // the leader has not heard from it lately
		}
		v.Masters = append(v.Masters, MasterView{ID: id, URL: url, Role: role})
	}
	return v
}

// serveMasters is GET /api/v1/masters: the replicated masters as this one
// sees them, its log and its commit latency.
func (m *Master) serveMasters(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	v := m.clusterView()
	m.mu.Unlock()
	if v == nil {
		refuse(w, http.StatusNotFound, "", "this master is not replicated")
		return
	}
	writeJSON(w, v)
}
