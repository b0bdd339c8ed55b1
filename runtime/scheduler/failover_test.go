package scheduler

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// fakeMaster plays one master of a replicated cluster on the scheduler
// API, as a test scripts it: as the leader it gives every framework the
// id fw-1, heartbeats every 50ms, records calls and streams what the test
// sends; as a standby it sends every call to the leader (307).
type fakeMaster struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	leader     string // a standby's leader
	quiet      bool   // the stream stays open but says nothing, as a stopped master's
	subscribes []api.FrameworkInfo
	calls      []api.Call
	streamIDs  []string       // the Mesos-Stream-Id of each call
	events     chan api.Event // the stream's; nil: none
}

func newFakeMaster(t *testing.T) *fakeMaster {
	m := &fakeMaster{t: t}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMaster) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	leader := m.leader
	m.mu.Unlock()
	switch {
	case leader != "":
		http.Redirect(w, r, leader+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return
	case r.URL.Path == "/state":
		_, _ = w.Write([]byte(`{"agents":[]}`))
		return
	}
	var c api.Call
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	if c.Type != api.CallSubscribe {
		m.calls = append(m.calls, c)
		m.streamIDs = append(m.streamIDs, r.Header.Get(api.StreamIDHeader))
		m.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	m.subscribes = append(m.subscribes, c.Subscribe.FrameworkInfo)
	events := make(chan api.Event, 16)
	m.events = events
	m.mu.Unlock()
	w.Header().Set(api.StreamIDHeader, m.srv.URL)
	m.write(w, api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw-1"}, HeartbeatIntervalSeconds: 0.05}})
	beat := time.NewTicker(50 * time.Millisecond)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, open := <-events:
			if !open {
				return
			}
			m.write(w, e)
		case <-beat.C:
			m.mu.Lock()
			quiet := m.quiet
			m.mu.Unlock()
			if !quiet {
				m.write(w, api.Event{Type: api.EventHeartbeat})
			}
		}
	}
}

func (m *fakeMaster) write(w http.ResponseWriter, e api.Event) {
	data, _ := api.AppendRecord(nil, e)
	_, _ = w.Write(data)
	w.(http.Flusher).Flush()
}

// standby makes the master send every call to leader; a master that
// steps down closes its stream, a stopped one (quiet) just goes silent.
func (m *fakeMaster) standby(leader string, quiet bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leader, m.quiet = leader, quiet
	if m.events != nil && !quiet {
		close(m.events)
		m.events = nil
	}
}

func (m *fakeMaster) send(e api.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events <- e
}

// until waits for cond, called with m.mu held.
func (m *fakeMaster) until(what string, cond func() bool) {
	m.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		m.mu.Lock()
		ok := cond()
		m.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("waited 20s for %s", what)
		}
	}
}

func (m *fakeMaster) called(typ string) bool {
	for _, c := range m.calls {
		if c.Type == typ {
			return true
		}
	}
	return false
}

// Given a list of masters, the driver follows the leader: when the first
// steps down, dies or goes silent, the framework subscribes again with
// its id through the list to the new leader, and its calls go there.
func TestDriverFollowsTheLeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(old, next *fakeMaster)
	}{
		{"steps down", func(old, next *fakeMaster) { old.standby(next.srv.URL, false) }},
		{"dies", func(old, _ *fakeMaster) { old.srv.CloseClientConnections(); old.srv.Close() }},
		{"goes silent", func(old, next *fakeMaster) { old.standby(next.srv.URL, true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, next := newFakeMaster(t), newFakeMaster(t)
			task := &OneTask{Name: "hello", Command: "true", Resources: allocator.MustParseResources("cpus:1;mem:128")}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, Options{Master: old.srv.URL + "," + next.srv.URL, Name: "f", Done: task.Done}, task)
			}()
			old.until("the first subscribe", func() bool { return len(old.subscribes) == 1 })
			tc.fail(old, next)
			next.until("a subscribe with the framework's id", func() bool {
				return len(next.subscribes) == 1 && next.subscribes[0].ID != nil && next.subscribes[0].ID.Value == "fw-1"
			})
			next.send(api.Event{Type: api.EventOffers, Offers: &api.Offers{Offers: []api.Offer{{ID: api.ID{Value: "o1"}, AgentID: api.ID{Value: "a1"},
				Resources: api.FromResources(allocator.MustParseResources("cpus:2;mem:1024"))}}}})
			next.until("the launch", func() bool { return next.called(api.CallAccept) })
			agent := api.ID{Value: "a1"}
			next.send(api.Event{Type: api.EventUpdate, Update: &api.Update{Status: api.TaskStatus{TaskID: api.ID{Value: "hello"}, AgentID: &agent, State: "TASK_FINISHED", UUID: "u1"}}})
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			next.mu.Lock()
			defer next.mu.Unlock()
			if !next.called(api.CallAcknowledge) || !next.called(api.CallTeardown) {
				t.Errorf("the new leader got %+v, want the ACCEPT, ACKNOWLEDGE and TEARDOWN", next.calls)
			}
			for i, sid := range next.streamIDs {
				if sid != next.srv.URL {
					t.Errorf("call %s with stream id %q, want the new leader's stream's", next.calls[i].Type, sid)
				}
			}
			if len(old.calls) != 0 {
				t.Errorf("the old leader got %+v after it failed", old.calls)
			}
		})
	}
}
