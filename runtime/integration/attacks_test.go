package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// clientAs is an HTTP client of principal (TLS with its certificate, and
// its secret), or of no one ("").
func clientAs(t *testing.T, principal string) *http.Client {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	if principal == "" {
		cred, err := secrets.Client("ops") // for the CA only: no certificate, no secret
		if err != nil {
			t.Fatal(err)
		}
		base.TLSClientConfig = cred.TLS().Clone()
		base.TLSClientConfig.Certificates = nil
		return &http.Client{Transport: base, Timeout: 10 * time.Second}
	}
	cred, err := secrets.Client(principal)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: cred.Transport(base), Timeout: 10 * time.Second}
}

// send posts body (JSON of v, or bytes) to url as hc and returns the
// status and the answer.
func send(t *testing.T, hc *http.Client, url string, v any, hdr ...string) (int, string) {
	t.Helper()
	body, ok := v.([]byte)
	if !ok {
		body, _ = json.Marshal(v)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

func get(t *testing.T, hc *http.Client, url string) int {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The attacks of issue 16, each by a real client on loopback against a
// real master and agents with apron up's security: each is refused 401
// or 403, and the victim's task runs on untouched.
func TestAttacksAreRefused(t *testing.T) {
	c := startMaster(t, "--agent-timeout", "3s")
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	c.startAgent("a2", "cpus:2;mem:1024", t.TempDir())
	info, _ := json.Marshal(api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{Name: "alice", FailoverTimeout: 3600}}})
	alice := subscribeAs(t, clientAs(t, "alice"), c.url, info)
	o := alice.launch("victim", "sleep 300", "cpus:0.5;mem:64")
	alice.until("victim", "TASK_RUNNING")
	victimAgent, other := o.AgentID.Value, map[string]string{"a1": "a2", "a2": "a1"}[o.AgentID.Value]
	mallory, nobody, liar := clientAs(t, "mallory"), clientAs(t, ""), clientAs(t, other)
	finished := api.AgentCall{Type: api.AgentCallStatus, AgentID: victimAgent, Statuses: []api.AgentStatus{{FrameworkID: alice.id,
		Status: api.TaskStatus{TaskID: api.ID{Value: "victim"}, State: "TASK_FINISHED", UUID: "forged"}}}}
	fake := func(name, url string) api.AgentCall {
		return api.AgentCall{Type: api.AgentCallSubscribe, Subscribe: &api.AgentSubscribe{Name: name, Hostname: name, URL: url, Incarnation: uint64(time.Now().UnixNano()),
			Resources: api.FromResources(allocator.MustParseResources("cpus:64;mem:65536"))}}
	}
	takeover, _ := json.Marshal(api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{ID: &api.ID{Value: alice.id}, Name: "alice"}}})
	teardown := api.Call{Type: api.CallTeardown, FrameworkID: &api.ID{Value: alice.id}}
	oneRole := []byte("policy: static\npartitions:\n  - {role: mallory, agents: [a1, a2]}\n")

	for _, tc := range []struct {
		name string
		hc   *http.Client
		path string
		body any
		hdr  []string
		want int
		says string
	}{
		{"the state, with no credentials", nobody, "", nil, nil, 401, ""},
		{"a teardown, with no credentials", nobody, "/api/v1/scheduler", teardown, []string{api.StreamIDHeader, alice.sid}, 401, "no credentials"},
		{"subscribing with another framework's id", mallory, "/api/v1/scheduler", takeover, nil, 403, "belongs to principal"},
		{"tearing another framework down", mallory, "/api/v1/scheduler", teardown, []string{api.StreamIDHeader, alice.sid}, 403, "belongs to principal"},
		{"an operator's teardown without the right", mallory, "/api/v1/teardown", map[string]any{"framework_id": map[string]string{"value": alice.id}}, nil, 403, "teardown_frameworks"},
		{"a false STATUS from another agent", liar, "/api/v1/agent", finished, nil, 403, "belongs to principal"},
		{"a false STATUS from no agent", mallory, "/api/v1/agent", finished, nil, 403, "belongs to principal"},
		{"a fake agent under a real one's name", liar, "/api/v1/agent", fake(victimAgent, "https://127.0.0.1:1"), nil, 403, "register_agents"},
		{"a black-hole agent", mallory, "/api/v1/agent", fake("blackhole", "https://127.0.0.1:1"), nil, 403, "register_agents"},
		{"an agent URL elsewhere (SSRF)", clientAs(t, "agent-1"), "/api/v1/agent", fake("agent-1", "http://169.254.169.254"), nil, 403, "where the registration came from"},
		{"a policy that gives every agent to one role", clientAs(t, "alice"), "/api/v1/policy?name=grab.yaml", oneRole, nil, 403, "update_policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.body == nil {
				if got := get(t, tc.hc, c.url+"/state"); got != tc.want {
					t.Fatalf("GET /state: %d, want %d", got, tc.want)
				}
				return
			}
			code, body := send(t, tc.hc, c.url+tc.path, tc.body, tc.hdr...)
			if code != tc.want || !strings.Contains(body, tc.says) {
				t.Fatalf("%d %s; want %d saying %q", code, body, tc.want, tc.says)
			}
		})
	}
	t.Run("an agent's own endpoints", func(t *testing.T) {
		st, _ := c.state()
		url := st.agent(victimAgent).URL
		for who, want := range map[string]int{"": 401, "alice": 401, other: 401, "ops": 200} {
			if got := get(t, clientAs(t, who), url+"/state"); got != want {
				t.Errorf("%q reading agent %s's /state: %d, want %d", who, victimAgent, got, want)
			}
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		st := c.waitFor("the state", func(masterState) bool { return true })
		if !st.hasTask("victim", "TASK_RUNNING") || len(st.Frameworks) != 1 || st.Frameworks[0].ID != alice.id || !st.Frameworks[0].Connected {
			t.Fatalf("after the attacks: %+v", st)
		}
		if st.Policy.Policy != "drf" || st.Policy.Pending != "" {
			t.Errorf("policy %+v after a refused one", st.Policy)
		}
		for _, a := range []string{"a1", "a2"} {
			if ag := st.agent(a); ag == nil || ag.State != "active" || !ag.Connected {
				t.Errorf("agent %s: %+v", a, ag)
			}
		}
		select {
		case e := <-alice.events:
			if e.Type == api.EventUpdate || e.Type == api.EventError {
				t.Errorf("alice was told %s %+v", e.Type, e)
			}
		default:
		}
	})
}

// Heartbeats another principal sends for a dead agent do not keep it
// alive: it becomes unreachable and its task lost, as without them.
func TestSpoofedHeartbeatsDoNotKeepADeadAgent(t *testing.T) {
	c := startMaster(t, "--agent-timeout", "2s")
	a2 := c.startAgent("a2", "cpus:2;mem:1024", t.TempDir())
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	a2.kill9()
	done := make(chan struct{})
	defer close(done)
	beat := api.AgentCall{Type: api.AgentCallHeartbeat, AgentID: "a2"}
	liars := []*http.Client{clientAs(t, "a1"), clientAs(t, "mallory")}
	for _, hc := range liars {
		if code, body := send(t, hc, c.url+"/api/v1/agent", beat); code != http.StatusForbidden {
			t.Fatalf("a spoofed heartbeat: %d %s, want 403", code, body)
		}
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			for _, hc := range liars {
				body, _ := json.Marshal(beat)
				if resp, err := hc.Post(c.url+"/api/v1/agent", "application/json", bytes.NewReader(body)); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	c.waitFor("a2 to be unreachable despite the heartbeats", func(st masterState) bool {
		a := st.agent("a2")
		return a != nil && a.State == "unreachable"
	})
}
