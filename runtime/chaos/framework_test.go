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
// (pa-t00, or task) against a fake master, and returns its first
// subscription's events.
func startFramework(t *testing.T, task ...TaskSpec) (*fakeMaster, *framework, chan api.Event) {
	m := &fakeMaster{streams: make(chan chan api.Event, 4)}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	f := frameworkOf(t, srv.URL, task...)
	go f.run()
	events := <-m.streams
	events <- api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw1"}}}
	return m, f, events
}

// frameworkOf is framework "pa" of a plan with one task due at once
// (pa-t00, or task), calling the masters of list.
func frameworkOf(t *testing.T, list string, task ...TaskSpec) *framework {
	plan := &Plan{Frameworks: []FrameworkSpec{{Name: "pa", PartitionAware: true}},
		Tasks: []TaskSpec{{ID: "pa-t00", Sleep: time.Second, CPUs: 0.5, Mem: 32}}}
	if len(task) > 0 {
		plan.Tasks = task
	}
	ms, err := masters.New(list, masters.Options{Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return newFramework(t.Context(), plan.Frameworks[0], plan, ms, NewHistory(time.Now()), time.Now(), (&cluster{}).transport("pa"))
}

func update(task, state string, uuid api.UUID) api.Event {
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

func isSubscribeWith(id string) func(api.Call) bool {
	return func(c api.Call) bool {
		return c.Subscribe != nil && c.Subscribe.FrameworkInfo.ID != nil && c.Subscribe.FrameworkInfo.ID.Value == id
	}
}

// A stream with no event for three heartbeats is dropped (its master is
// stopped or cut off), and the framework subscribes again with its id.
func TestFrameworkDropsASilentStream(t *testing.T) {
	m := &fakeMaster{streams: make(chan chan api.Event, 4)}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	f := frameworkOf(t, srv.URL)
	go f.run()
	events := <-m.streams
	events <- api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw1"}, HeartbeatIntervalSeconds: 0.05}}
	at := m.await(t, 0, "SUBSCRIBE with the framework's id after the silence", isSubscribeWith("fw1"))
	if n := m.count(isType(api.CallSubscribe)); n != 2 || at == 0 {
		t.Errorf("%d SUBSCRIBEs, the second at call %d; want 2", n, at)
	}
}

// A SUBSCRIBE to a standby follows its 307 to the leader, and the calls
// of that subscription go to the leader, not through the standby; the
// master that does not answer is left for the next.
func TestFrameworkFollowsTheLeader(t *testing.T) {
	m := &fakeMaster{streams: make(chan chan api.Event, 4)}
	leader := httptest.NewServer(m)
	t.Cleanup(leader.Close)
	var redirected sync.Mutex
	n := 0
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected.Lock()
		n++
		redirected.Unlock()
		http.Redirect(w, r, leader.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(standby.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	f := frameworkOf(t, gone.URL+","+standby.URL)
	go f.run()
	events := <-m.streams
	events <- api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw1"}}}
	m.await(t, 0, "RECONCILE after subscribing", isType(api.CallReconcile))
	redirected.Lock()
	defer redirected.Unlock()
	if n != 1 {
		t.Errorf("the standby had %d requests, want 1: the SUBSCRIBE", n)
	}
	var base string
	f.do(func() { base = f.base })
	if base != leader.URL {
		t.Errorf("calls go to %s, want the leader %s", base, leader.URL)
	}
}

// After subscribing again (a new leader may not have heard a KILL it
// answered) the framework kills again a task that has not ended.
func TestFrameworkKillsAgainAfterSubscribingAgain(t *testing.T) {
	m, _, events := startFramework(t, TaskSpec{ID: "pa-t00", Sleep: longSleep, KillAfter: time.Millisecond, CPUs: 0.5, Mem: 32})
	events <- api.Event{Type: api.EventOffers, Offers: &api.Offers{Offers: []api.Offer{{ID: api.ID{Value: "O1-1"}, AgentID: api.ID{Value: "a1"},
		Resources: []api.Resource{{Name: "cpus", Type: "SCALAR", Scalar: api.Scalar{Value: 1}}, {Name: "mem", Type: "SCALAR", Scalar: api.Scalar{Value: 64}}}}}}}
	isKill := isType(api.CallKill)
	m.await(t, 0, "KILL", isKill)
	close(events)
	again := <-m.streams
	again <- api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: "fw1"}}}
	at := m.await(t, 0, "SUBSCRIBE again", isSubscribeWith("fw1"))
	m.await(t, at, "KILL again", isKill)
}
