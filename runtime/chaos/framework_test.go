package chaos

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/masters"
)

// fakeMaster answers the scheduler API as a master would, and records
// the calls; the test writes each subscription's events.
type fakeMaster struct {
	mu      sync.Mutex
	calls   []api.Call
	streams chan chan api.Event // one per SUBSCRIBE, for the test to feed
}

func (m *fakeMaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var c api.Call
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.calls = append(m.calls, c)
	m.mu.Unlock()
	if c.Type != api.CallSubscribe {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	events := make(chan api.Event, 16)
	m.streams <- events
	w.Header().Set(api.StreamIDHeader, "s")
	w.WriteHeader(http.StatusOK)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return // the stream ends
			}
			b, _ := api.AppendRecord(nil, e)
			_, _ = w.Write(b)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// await waits for a call that ok accepts, after the first `after` calls.
func (m *fakeMaster) await(t *testing.T, after int, what string, ok func(api.Call) bool) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		for i := after; i < len(m.calls); i++ {
			if ok(m.calls[i]) {
				m.mu.Unlock()
				return i
			}
		}
		m.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s within 5s; calls: %+v", what, m.calls)
	return 0
}

func (m *fakeMaster) count(ok func(api.Call) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.calls {
		if ok(c) {
			n++
		}
	}
	return n
}

func isType(typ string) func(api.Call) bool { return func(c api.Call) bool { return c.Type == typ } }

// startFramework runs framework "pa" of a plan with one task due at once
// against a fake master, and returns its first subscription's events.
func startFramework(t *testing.T) (*fakeMaster, *framework, chan api.Event) {
	m := &fakeMaster{streams: make(chan chan api.Event, 4)}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	plan := &Plan{Frameworks: []FrameworkSpec{{Name: "pa", PartitionAware: true}},
		Tasks: []TaskSpec{{ID: "pa-t00", Sleep: time.Second, CPUs: 0.5, Mem: 32}}}
	ms, err := masters.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := newFramework(t.Context(), plan.Frameworks[0], plan, ms, NewHistory(time.Now()), time.Now(), (&cluster{}).transport("pa"))
	go f.run()
	events := <-m.streams
	events <- api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw1"}}}
	return m, f, events
}

func update(task, state, uuid string) api.Event {
	return api.Event{Type: api.EventUpdate, Update: &api.Update{Status: api.TaskStatus{TaskID: api.ID{Value: task}, State: state, UUID: uuid, AgentID: &api.ID{Value: "a1"}}}}
}

func TestFrameworkAcknowledgesReconcilesAndFailsOver(t *testing.T) {
	m, _, events := startFramework(t)
	m.await(t, 0, "RECONCILE after subscribing", isType(api.CallReconcile))
	events <- update("pa-t00", "TASK_RUNNING", "u1")
	events <- update("pa-t00", "TASK_RUNNING", "") // a reconciliation answer: nothing to acknowledge
	m.await(t, 0, "ACKNOWLEDGE of u1", func(c api.Call) bool { return c.Acknowledge != nil && c.Acknowledge.UUID == "u1" })
	n := m.count(isType(api.CallAcknowledge))
	close(events) // the master goes away
	at := m.await(t, 0, "SUBSCRIBE with the framework's id", func(c api.Call) bool {
		return c.Subscribe != nil && c.Subscribe.FrameworkInfo.ID != nil && c.Subscribe.FrameworkInfo.ID.Value == "fw1"
	})
	again := <-m.streams
	again <- api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw1"}}}
	m.await(t, at, "RECONCILE after subscribing again", isType(api.CallReconcile))
	if got := m.count(isType(api.CallAcknowledge)); got != n || n != 1 {
		t.Errorf("%d then %d acknowledgements, want 1: only updates with a uuid are acknowledged", n, got)
	}
}

func TestFrameworkLaunchesOnOffersAndDuplicatesOnAFault(t *testing.T) {
	m, f, events := startFramework(t)
	f.do(func() { f.inject(Fault{Kind: DupAccept}) })
	events <- api.Event{Type: api.EventOffers, Offers: &api.Offers{Offers: []api.Offer{{ID: api.ID{Value: "O1-1"}, AgentID: api.ID{Value: "a1"},
		Resources: []api.Resource{{Name: "cpus", Type: "SCALAR", Scalar: api.Scalar{Value: 1}}, {Name: "mem", Type: "SCALAR", Scalar: api.Scalar{Value: 64}}}}}}}
	first := m.await(t, 0, "ACCEPT", isType(api.CallAccept))
	m.await(t, first+1, "the same ACCEPT again", isType(api.CallAccept))
	m.mu.Lock()
	ti := m.calls[first].Accept.Operations[0].Launch.TaskInfos[0]
	m.mu.Unlock()
	if ti.TaskID.Value != "pa-t00" || ti.AgentID.Value != "a1" || ti.Command.Value != Script(f.tasks["pa-t00"].spec) {
		t.Errorf("launched %+v, want pa-t00 on a1 with its script", ti)
	}
	var attempts int
	f.do(func() { attempts = f.tasks["pa-t00"].attempts })
	if attempts != 2 {
		t.Errorf("%d attempts booked, want 2", attempts)
	}
}

func TestFrameworkWithholdsAcknowledgementsInAPause(t *testing.T) {
	m, f, events := startFramework(t)
	f.do(func() { f.inject(Fault{Kind: AckPause, Down: 300 * time.Millisecond}) })
	events <- update("pa-t00", "TASK_RUNNING", "u1")
	time.Sleep(150 * time.Millisecond)
	if n := m.count(isType(api.CallAcknowledge)); n != 0 {
		t.Fatalf("%d acknowledgements during the pause", n)
	}
	m.await(t, 0, "ACKNOWLEDGE after the pause", func(c api.Call) bool { return c.Acknowledge != nil && c.Acknowledge.UUID == "u1" })
}
