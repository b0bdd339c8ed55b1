package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// fakeMaster speaks the master's side of the agent protocol, as a test
// scripts it: it registers every SUBSCRIBE, answers heartbeats 202 (or
// 404 once told it restarted), records statuses and acknowledges them.
type fakeMaster struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	subscribes []api.AgentSubscribe
	statuses   []api.AgentStatus
	forgot     bool                // answer 404: the master restarted and forgot the agent
	leader     string              // a standby's leader, where it sends every call (307)
	noAck      bool                // leave statuses unacknowledged
	stream     chan api.AgentEvent // the current stream's events
	changed    chan struct{}       // something happened
}

func newFakeMaster(t *testing.T) *fakeMaster {
	m := &fakeMaster{t: t, changed: make(chan struct{}, 1)}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMaster) poke() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *fakeMaster) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	leader := m.leader
	m.mu.Unlock()
	if leader != "" {
		http.Redirect(w, r, leader+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return
	}
	var c api.AgentCall
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer m.poke()
	m.mu.Lock()
	switch c.Type {
	case api.AgentCallSubscribe:
		m.subscribes = append(m.subscribes, *c.Subscribe)
		m.forgot = false
		events := make(chan api.AgentEvent, 100)
		m.stream = events
		events <- api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: c.Subscribe.Name, HeartbeatIntervalSeconds: 0.05}}
		m.mu.Unlock()
		m.serveStream(w, r, events)
		return
	case api.AgentCallHeartbeat, api.AgentCallStatus:
		if m.forgot {
			m.mu.Unlock()
			http.Error(w, `{"error":"not registered"}`, http.StatusNotFound)
			return
		}
		m.statuses = append(m.statuses, c.Statuses...)
		for _, s := range c.Statuses {
			if !m.noAck {
				m.stream <- api.AgentEvent{Type: api.AgentEventAck, Ack: &api.AgentAckStatus{FrameworkID: s.FrameworkID, TaskID: s.Status.TaskID.Value, UUID: s.Status.UUID}}
			}
		}
	}
	m.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (m *fakeMaster) serveStream(w http.ResponseWriter, r *http.Request, events chan api.AgentEvent) {
	w.WriteHeader(http.StatusOK)
	for {
		select {
		case <-r.Context().Done():
			return
		case e, open := <-events:
			if !open {
				return
			}
			data, _ := api.AppendRecord(nil, e)
			if _, err := w.Write(data); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

// stepDown makes the master a standby that sends every call to leader,
// and closes the stream, as a master that loses the lead does.
func (m *fakeMaster) stepDown(leader string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leader = leader
	if m.stream != nil {
		close(m.stream)
		m.stream = nil
	}
}

// send sends an event on the current stream.
func (m *fakeMaster) send(e api.AgentEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stream <- e
}

// until waits for cond (called with m.mu held) to hold.
func (m *fakeMaster) until(what string, cond func() bool) {
	m.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		m.mu.Lock()
		ok := cond()
		m.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-m.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			m.t.Fatalf("waited 20s for %s", what)
		}
	}
}

// final is the last status of a task that reached the master.
func (m *fakeMaster) final(task string) (api.TaskStatus, bool) {
	for i := len(m.statuses) - 1; i >= 0; i-- {
		if s := m.statuses[i].Status; s.TaskID.Value == task {
			return s, true
		}
	}
	return api.TaskStatus{}, false
}

// launch sends a LAUNCH.
func (m *fakeMaster) launch(task, command string, res []api.Resource) {
	m.launchCommand(task, api.CommandInfo{Value: command}, res)
}

// launchCommand sends a LAUNCH of a command with its user and environment.
func (m *fakeMaster) launchCommand(task string, cmd api.CommandInfo, res []api.Resource) {
	m.send(api.AgentEvent{Type: api.AgentEventLaunch, Launch: &api.AgentLaunchTask{FrameworkID: "fw", Role: "*",
		Framework: &api.FrameworkInfo{Name: "test"},
		Task:      api.TaskInfo{Name: task, TaskID: api.ID{Value: task}, Command: &cmd, Resources: res}}})
}

// runAgent runs a until the test ends.
func runAgent(t *testing.T, a *Agent) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}
