package masters

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/apronlab/apron/runtime/api"
)

// fakeMaster plays one master of a replicated cluster, as the test sets
// its role: the leader (it answers every call, and streams events on
// /stream), a standby (307 to the leader), a master that knows no leader
// (503), one that resets every connection, or a dead one (Close: its
// listener is closed, so connections are refused).
type fakeMaster struct {
	srv *httptest.Server

	mu    sync.Mutex
	role  string // leader, standby, none or reset
	to    string // a standby's leader: a base URL, or a Location as it is sent
	calls []call // what it answered as the leader
	hits  int    // requests of any kind
}

// call is a request a leader answered.
type call struct {
	Method, URI, Body, ContentType, StreamID string
}

const (
	leader  = "leader"
	standby = "standby"
	none    = "none"
	reset   = "reset"
)

func newFake(t *testing.T, role string, h2c bool) *fakeMaster {
	m := &fakeMaster{role: role}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(m.serve))
	if h2c {
		m.srv.Config.Protocols = new(http.Protocols)
		m.srv.Config.Protocols.SetHTTP1(true)
		m.srv.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	m.srv.Start()
	t.Cleanup(m.srv.Close)
	return m
}

// set changes the master's role; to is a standby's leader.
func (m *fakeMaster) set(role, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.role, m.to = role, to
}

func (m *fakeMaster) answered() []call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]call(nil), m.calls...)
}

func (m *fakeMaster) requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits
}

func (m *fakeMaster) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.hits++
	role, to := m.role, m.to
	m.mu.Unlock()
	switch {
	case role == reset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	case role == none:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":"no leader is elected yet; try again"}`)
	case role == standby && r.URL.Path == "/master/redirect":
		http.Redirect(w, r, to, http.StatusTemporaryRedirect)
	case role == standby:
		http.Redirect(w, r, to+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	case r.URL.Path == "/master/redirect":
		http.Redirect(w, r, m.srv.URL, http.StatusTemporaryRedirect)
	default:
		m.lead(w, r)
	}
}

// lead answers as the leader: it records the call, names itself in
// X-Master, and on /stream sends three events and holds the stream open.
func (m *fakeMaster) lead(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.calls = append(m.calls, call{Method: r.Method, URI: r.URL.RequestURI(), Body: string(body),
		ContentType: r.Header.Get("Content-Type"), StreamID: r.Header.Get(api.StreamIDHeader)})
	m.mu.Unlock()
	w.Header().Set("X-Master", m.srv.URL)
	if r.URL.Path != "/stream" {
		_, _ = io.WriteString(w, `{"answered":"yes"}`)
		return
	}
	for _, e := range []api.Event{{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw-1"}}}, {Type: api.EventHeartbeat}, {Type: api.EventHeartbeat}} {
		frame, _ := api.AppendRecord(nil, e)
		_, _ = w.Write(frame)
		_ = http.NewResponseController(w).Flush()
	}
	<-r.Context().Done()
}
