package master

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
	"github.com/apronlab/apron/runtime/pki/pkitest"
)

func newTestMaster(t *testing.T, opts Options, limits ServerLimits) (*Master, string) {
	t.Helper()
	if opts.Policy.Policy == "" {
		opts.Policy = allocator.Config{Policy: "drf"}
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(m.Handler())
	srv.Config = NewServerWith(m.Handler(), limits)
	srv.Start()
	t.Cleanup(srv.Close)
	return m, srv.URL
}

// newTLSMaster serves a master over TLS with a cluster's secrets, its
// credentials and ACLs, and returns it, its URL and the secrets.
func newTLSMaster(t *testing.T, opts Options, limits ServerLimits) (*Master, string, *pki.Secrets) {
	t.Helper()
	if opts.Policy.Policy == "" {
		opts.Policy = allocator.Config{Policy: "drf"}
	}
	s := pkitest.New(t, nil)
	secure(t, s, &opts)
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.ServerTLS(pki.Master)
	if err != nil {
		t.Fatal(err)
	}
	return m, pkitest.Serve(t, NewServerTLS(m.Handler(), limits, cfg)), s
}

// secure gives a master the credential, credentials and ACLs of s.
func secure(t testing.TB, s *pki.Secrets, opts *Options) {
	t.Helper()
	opts.Credential, opts.Credentials = pkitest.Client(t, s, pki.Master), pkitest.Credentials(t, s)
	acls, err := auth.LoadACLs(s.ACLs)
	if err != nil {
		t.Fatal(err)
	}
	opts.Authorizer = acls
}

func post(t *testing.T, hc *http.Client, url, sid string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/scheduler", bytes.NewReader(body))
	if sid != "" {
		req.Header.Set(api.StreamIDHeader, sid)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A subscriber that does not read its stream is disconnected once its
// outbox holds MaxOutbox bytes, and counted; the master stays responsive.
func TestSubscriberThatDoesNotReadIsDisconnected(t *testing.T) {
	m, url, s := newTLSMaster(t, Options{MaxOutbox: 64 << 10, Fresh: true}, ServerLimits{})
	hc := pkitest.HTTPClient(t, s, pki.Ops)
	body, _ := json.Marshal(api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{Name: "mute", FailoverTimeout: 60}}})
	resp, err := hc.Post(url+"/api/v1/scheduler", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // never read
	sid := resp.Header.Get(api.StreamIDHeader)
	fw := m.State().Frameworks[0].ID
	rec := &api.Reconcile{}
	for i := range 2000 {
		rec.Tasks = append(rec.Tasks, api.ReconcileTask{TaskID: api.ID{Value: fmt.Sprintf("t%d", i)}})
	}
	call, _ := json.Marshal(api.Call{Type: api.CallReconcile, FrameworkID: &api.ID{Value: fw}, Reconcile: rec})
	deadline := time.Now().Add(10 * time.Second)
	calls := 0
	for {
		code, _ := post(t, hc, url, sid, call)
		if code == http.StatusForbidden { // the stream is gone: the framework is disconnected
			break
		}
		if time.Now().After(deadline) {
			st := m.State()
			t.Fatalf("the non-reading subscriber was not disconnected (last answer %d, %d calls, connected %v)", code, calls, st.Frameworks[0].Connected)
		}
		calls++
	}
	m.mu.Lock()
	overflow := m.overflow
	m.mu.Unlock()
	if overflow != 1 {
		t.Errorf("stream overflows counted %d, want 1", overflow)
	}
	metrics, _ := hc.Get(url + "/metrics")
	b, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if !strings.Contains(string(b), `apron_master_events_total{event="stream_overflow"} 1`) {
		t.Errorf("/metrics lacks the overflow count")
	}
}

// A call longer than the limit is refused with 413 before it is read
// whole.
func TestRequestTooLarge(t *testing.T) {
	_, url := newTestMaster(t, Options{}, ServerLimits{}) // a master with no credentials, over plain HTTP
	hc := http.DefaultClient
	huge := append([]byte(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"`), bytes.Repeat([]byte("n"), maxSchedulerCall+1)...)
	if code, _ := post(t, hc, url, "", huge); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a call of %d bytes: %d, want 413", len(huge), code)
	}
	long := fmt.Sprintf(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":%q}}}`, strings.Repeat("n", 15<<20))
	if code, body := post(t, hc, url, "", []byte(long)); code != http.StatusBadRequest || !strings.Contains(body, "subscribe.framework_info.name") {
		t.Errorf("a 15 MiB framework name: %d %s, want 400 naming the field", code, body)
	}
}

// Connections past the limit are closed as they arrive: idle clients
// cannot take every descriptor, and /health answers once they go.
func TestConnectionLimit(t *testing.T) {
	_, url, s := newTLSMaster(t, Options{}, ServerLimits{MaxConnections: 4})
	addr := strings.TrimPrefix(url, "https://")
	var idle []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	time.Sleep(50 * time.Millisecond)
	client := &http.Client{Timeout: 2 * time.Second, Transport: pkitest.Client(t, s, pki.Ops).Transport(&http.Transport{DisableKeepAlives: true})}
	if resp, err := client.Get(url + "/health"); err == nil {
		resp.Body.Close()
		t.Errorf("a fifth connection was served; the limit is 4")
	}
	for _, c := range idle {
		c.Close()
	}
	time.Sleep(50 * time.Millisecond)
	resp, err := client.Get(url + "/health")
	if err != nil {
		t.Fatalf("after the idle connections closed: %v", err)
	}
	resp.Body.Close()
}

// A master without agents or frameworks writes its empty lists as [] (what
// a client iterates over), never null, in both forms of /state.
func TestEmptyStateHasNoNull(t *testing.T) {
	m, err := New(Options{Policy: allocator.Config{Policy: "drf"}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler()
	for _, path := range []string{"/state", "/state?pretty"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		body := w.Body.String()
		if w.Code != http.StatusOK || strings.Contains(body, "null") {
			t.Errorf("GET %s: %d\n%s\nwant 200 and no null", path, w.Code, body)
		}
		var st map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"agents", "frameworks", "completed_frameworks", "roles", "tasks", "completed_tasks"} {
			if got := string(bytes.TrimSpace(st[k])); got != "[]" {
				t.Errorf("GET %s: %q is %s, want []", path, k, got)
			}
		}
	}
}
