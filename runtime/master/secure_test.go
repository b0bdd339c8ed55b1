package master

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

var testCreds = auth.NewCredentials(
	auth.Credential{Principal: "alice", Secret: "alice-secret-0123456789"},
	auth.Credential{Principal: "mallory", Secret: "mallory-secret-0123456789"},
	auth.Credential{Principal: "agent-1", Secret: "agent-1-secret-0123456789"},
	auth.Credential{Principal: "ops", Secret: "ops-secret-0123456789ab"},
)

func secureACLs(t *testing.T) *auth.ACLs {
	t.Helper()
	a, err := auth.ParseACLs("acls.json", []byte(`{
	  "permissive": false,
	  "register_frameworks": [{"principals": {"values": ["alice", "mallory"]}, "roles": {"type": "ANY"}}],
	  "register_agents": [{"principals": {"values": ["agent-1"]}, "agents": {"values": ["a1"]}}],
	  "view_state": [{"principals": {"values": ["ops", "alice"]}, "endpoints": {"type": "ANY"}}],
	  "update_policy": [{"principals": {"values": ["ops"]}, "parts": {"type": "ANY"}}],
	  "teardown_frameworks": [{"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// as sends a request as a principal ("" for none) and returns the
// status, the body and the response's headers.
func as(t *testing.T, principal, method, url string, body []byte, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	for _, c := range testCreds.List() {
		if c.Principal == principal {
			req.SetBasicAuth(c.Principal, c.Secret)
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Mesos-Stream-Id") != "" { // an event stream: its first record
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		return resp.StatusCode, line, resp.Header
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func secureMaster(t *testing.T) (string, *bytes.Buffer) {
	t.Helper()
	var audit bytes.Buffer
	_, url := newTestMaster(t, Options{Credentials: testCreds, Authorizer: secureACLs(t), Audit: auth.NewAudit(&audit), Fresh: true,
		ParsePolicy: func(string, []byte) (allocator.Config, error) { return allocator.Config{Policy: "hdrf"}, nil }}, ServerLimits{})
	return url, &audit
}

func subscribeBody(info api.FrameworkInfo) []byte {
	b, _ := json.Marshal(api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}})
	return b
}

// Every attack on a master with credentials, and what it gets.
func TestSecureMaster(t *testing.T) {
	url, audit := secureMaster(t)
	code, _, hdr := as(t, "alice", http.MethodPost, url+"/api/v1/scheduler", subscribeBody(api.FrameworkInfo{Name: "f", FailoverTimeout: 60}))
	sid := hdr.Get(api.StreamIDHeader)
	if code != http.StatusOK || sid == "" {
		t.Fatalf("alice's subscription: %d", code)
	}
	// The framework id is in the SUBSCRIBED event; /state shows it too.
	_, state, _ := as(t, "ops", http.MethodGet, url+"/state", nil)
	var st struct {
		Frameworks []struct {
			ID        string `json:"id"`
			Principal string `json:"principal"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal([]byte(state), &st); err != nil || len(st.Frameworks) != 1 || st.Frameworks[0].Principal != "alice" {
		t.Fatalf("state: %v %s", err, state)
	}
	fw := st.Frameworks[0].ID
	teardown, _ := json.Marshal(api.Call{Type: api.CallTeardown, FrameworkID: &api.ID{Value: fw}})
	policy := []byte("policy: hdrf\n")
	wrongSecret := []string{"Authorization", "Basic " + "YWxpY2U6d3Jvbmc="} // alice:wrong

	for _, tc := range []struct {
		name, who, method, path string
		body                    []byte
		hdr                     []string
		want                    int
		says                    string
	}{
		{"no credentials", "", http.MethodGet, "/state", nil, nil, 401, "no credentials"},
		{"a wrong secret", "", http.MethodGet, "/state", nil, wrongSecret, 401, "wrong secret"},
		{"health is open", "", http.MethodGet, "/health", nil, nil, 200, ""},
		{"state needs view_state", "mallory", http.MethodGet, "/state", nil, nil, 403, "view_state"},
		{"metrics need view_state", "agent-1", http.MethodGet, "/metrics", nil, nil, 403, "view_state"},
		{"subscribing as another principal", "mallory", http.MethodPost, "/api/v1/scheduler", subscribeBody(api.FrameworkInfo{Name: "x", Principal: "alice"}), nil, 403, "not the principal"},
		{"taking over another's framework", "mallory", http.MethodPost, "/api/v1/scheduler", subscribeBody(api.FrameworkInfo{ID: &api.ID{Value: fw}, Name: "f"}), nil, 403, "belongs to principal"},
		{"another's framework's calls", "mallory", http.MethodPost, "/api/v1/scheduler", teardown, []string{api.StreamIDHeader, sid}, 403, "belongs to principal"},
		{"a fake agent", "mallory", http.MethodPost, "/api/v1/agent", agentSubscribe("a1", "http://127.0.0.1:1"), nil, 403, "register_agents"},
		{"an agent URL elsewhere (SSRF)", "agent-1", http.MethodPost, "/api/v1/agent", agentSubscribe("a1", "http://169.254.169.254"), nil, 403, "where the registration came from"},
		{"an agent URL with a path", "agent-1", http.MethodPost, "/api/v1/agent", agentSubscribe("a1", "http://127.0.0.1:1/latest/meta-data"), nil, 403, "no user, path or query"},
		{"raft messages from a non-master", "ops", http.MethodPost, "/api/v1/raft", nil, nil, 403, "only the masters"},
		{"changing the policy", "alice", http.MethodPost, "/api/v1/policy", policy, nil, 403, "update_policy"},
		{"an operator teardown without the right", "mallory", http.MethodPost, "/api/v1/teardown", []byte(`{"framework_id": {"value": "` + fw + `"}}`), nil, 403, "teardown_frameworks"},
		{"the operator's policy", "ops", http.MethodPost, "/api/v1/policy", policy, nil, 202, ""},
		{"the operator's teardown", "ops", http.MethodPost, "/api/v1/teardown", []byte(`{"framework_id": {"value": "` + fw + `"}}`), nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, hdr := as(t, tc.who, tc.method, url+tc.path, tc.body, tc.hdr...)
			if code != tc.want || !strings.Contains(body, tc.says) {
				t.Fatalf("%d %s; want %d saying %q", code, body, tc.want, tc.says)
			}
			if code == 401 && hdr.Get("WWW-Authenticate") != `Basic realm="apron"` {
				t.Errorf("401 without a Basic challenge: %q", hdr.Get("WWW-Authenticate"))
			}
		})
	}
	// The audit log has the operator's actions and each denial, as JSON
	// lines naming who and the rule.
	var events []auth.Event
	for line := range strings.Lines(audit.String()) {
		var e auth.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		events = append(events, e)
	}
	want := map[string]bool{"mallory view_state false": true, "alice update_policy false": true, "ops update_policy true": true,
		"ops teardown_frameworks true": true, "mallory teardown_frameworks false": true, "mallory scheduler call TEARDOWN false": true}
	for _, e := range events {
		delete(want, e.Principal+" "+e.Action+" "+map[bool]string{true: "true", false: "false"}[e.Allowed])
	}
	if len(want) > 0 {
		t.Errorf("the audit log lacks %v; it has:\n%s", want, audit)
	}
}

func agentSubscribe(name, url string) []byte {
	b, _ := json.Marshal(api.AgentCall{Type: api.AgentCallSubscribe, Subscribe: &api.AgentSubscribe{Name: name, Hostname: name, URL: url,
		Resources: api.FromResources(allocator.MustParseResources("cpus:1;mem:256")), Incarnation: uint64(time.Now().UnixNano())}})
	return b
}
