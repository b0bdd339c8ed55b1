package auth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const acls = `{
  "permissive": false,
  "register_frameworks": [
    {"principals": {"values": ["hadoop"]}, "roles": {"values": ["analytics", "batch"]}},
    {"principals": {"values": ["intruder"]}, "roles": {"type": "NONE"}},
    {"principals": {"type": "ANY"}, "roles": {"values": ["*"]}}
  ],
  "teardown_frameworks": [
    {"principals": {"values": ["ops"]}, "framework_principals": {"type": "ANY"}}
  ],
  "register_agents": [
    {"principals": {"values": ["agent-1"]}, "agents": {"values": ["agent-1"]}}
  ]
}`

func TestACLs(t *testing.T) {
	a, err := ParseACLs("acls.json", []byte(acls))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		principal, action, object string
		allowed                   bool
		rule                      string
	}{
		{"hadoop", RegisterFrameworks, "analytics", true, "acls.register_frameworks[0]"},
		{"hadoop", RegisterFrameworks, "*", true, "acls.register_frameworks[2]"},
		{"hadoop", RegisterFrameworks, "web", false, "acls.permissive"},
		{"intruder", RegisterFrameworks, "*", false, "acls.register_frameworks[1]"},
		{"spark", RegisterFrameworks, "*", true, "acls.register_frameworks[2]"},
		{"ops", TeardownFrameworks, "hadoop", true, "acls.teardown_frameworks[0]"},
		{"hadoop", TeardownFrameworks, "spark", false, "acls.permissive"},
		{"agent-1", RegisterAgents, "agent-1", true, "acls.register_agents[0]"},
		{"agent-1", RegisterAgents, "agent-2", false, "acls.permissive"},
		{"ops", UpdatePolicy, "weights", false, "acls.permissive"},
	}
	for _, tt := range tests {
		d := a.Authorize(tt.principal, tt.action, tt.object)
		if d.Allowed != tt.allowed || !strings.HasPrefix(d.Rule, tt.rule) {
			t.Errorf("%s %s %s: %v, want allowed %v by %s", tt.principal, tt.action, tt.object, d, tt.allowed, tt.rule)
		}
	}
	back, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseACLs("back", back)
	if err != nil {
		t.Fatalf("%v\n%s", err, back)
	}
	for _, tt := range tests {
		if d := again.Authorize(tt.principal, tt.action, tt.object); d.Allowed != tt.allowed {
			t.Errorf("after a round trip: %s %s %s: %v", tt.principal, tt.action, tt.object, d)
		}
	}
}

func TestBadACLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[`, "not JSON"},
		{`{"launch_rockets": []}`, `unknown key "launch_rockets"`},
		{`{"register_frameworks": [{"principals": {"type": "ANY"}}]}`, "register_frameworks[0].roles: missing"},
		{`{"register_frameworks": [{"principals": {"type": "SOME"}, "roles": {"type": "ANY"}}]}`, `type "SOME"; want ANY or NONE`},
		{`{"register_frameworks": [{"principals": {"type": "ANY", "values": ["x"]}, "roles": {"type": "ANY"}}]}`, "both values and a type"},
		{`{"register_frameworks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}`, `unknown key "users"`},
		{`{"permissive": "yes"}`, "permissive: want true or false"},
	}
	for _, tt := range tests {
		if _, err := ParseACLs("f.json", []byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.in, err, tt.want)
		}
	}
}

func writeCreds(t *testing.T, mode os.FileMode, body string) string {
	p := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCredentials(t *testing.T) {
	good := `{"credentials": [{"principal": "ops", "secret": "0123456789abcdef-ops"}, {"principal": "hadoop", "secret": "0123456789abcdef-hadoop"}]}`
	if _, err := LoadCredentials(writeCreds(t, 0o644, good)); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("a world-readable credentials file: %v, want refused naming its mode", err)
	}
	for body, want := range map[string]string{
		`{"credentials": [{"principal": "ops", "secret": "short"}]}`: "at least 16",
		`{"credentials": []}`: "no credentials",
		`{"credentials": [{"principal": "a", "secret": "0123456789abcdef"}, {"principal": "a", "secret": "0123456789abcdef"}]}`: "named twice",
	} {
		if _, err := LoadCredentials(writeCreds(t, 0o600, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	c, err := LoadCredentials(writeCreds(t, 0o600, good))
	if err != nil {
		t.Fatal(err)
	}
	req := func(set func(r *http.Request)) (string, error) {
		r := httptest.NewRequest("GET", "/state", nil)
		set(r)
		return c.Authenticate(r)
	}
	if who, err := req(func(r *http.Request) { r.SetBasicAuth("hadoop", "0123456789abcdef-hadoop") }); who != "hadoop" || err != nil {
		t.Errorf("basic auth: %q %v", who, err)
	}
	if _, err := req(func(r *http.Request) { r.SetBasicAuth("hadoop", "0123456789abcdef-ops") }); err == nil {
		t.Error("basic auth with another principal's secret was taken")
	}
	if who, err := req(func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef-ops") }); who != "ops" || err != nil {
		t.Errorf("bearer: %q %v", who, err)
	}
	if _, err := req(func(r *http.Request) {}); err != ErrNoCredentials {
		t.Errorf("no credentials: %v", err)
	}
}

func TestAudit(t *testing.T) {
	var buf bytes.Buffer
	a := NewAudit(&buf)
	a.Record(Event{Principal: "ops", Action: UpdatePolicy, Object: "weights", Allowed: true, Rule: "acls.update_policy[0]"})
	var e Event
	if err := json.Unmarshal(buf.Bytes(), &e); err != nil || e.Principal != "ops" || e.Time.IsZero() {
		t.Errorf("audit line %q: %+v %v", buf.String(), e, err)
	}
	var nilAudit *Audit
	nilAudit.Record(Event{}) // records nothing, does not panic
}

// A verified client certificate names a principal of the credentials,
// and basic authentication sent with it is the same principal's.
func TestAuthenticateCertificate(t *testing.T) {
	creds := NewCredentials(Credential{Principal: "master", Secret: "master-secret-0123456789"}, Credential{Principal: "ops", Secret: "ops-secret-0123456789ab"})
	withCert := func(cn string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/state", nil)
		r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{Subject: pkix.Name{CommonName: cn}}}}}
		return r
	}
	for _, tc := range []struct {
		name, cn, basic, want, err string
	}{
		{"a known principal", "ops", "", "ops", ""},
		{"another agent's certificate", "agent-7", "", "", "not in the credentials"},
		{"the same principal's basic auth", "ops", "ops:ops-secret-0123456789ab", "ops", ""},
		{"another principal's basic auth", "ops", "master:master-secret-0123456789", "", "is not"},
		{"a wrong secret", "ops", "ops:wrong", "", "is not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := withCert(tc.cn)
			if p, s, ok := strings.Cut(tc.basic, ":"); ok {
				r.SetBasicAuth(p, s)
			}
			who, err := creds.Authenticate(r)
			if who != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("got %q, %v; want %q, error with %q", who, err, tc.want, tc.err)
			}
		})
	}
}

// The ACL example of docs/security.md is valid, and means what the page
// says of it.
func TestSecurityDocACLs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	var example string
	for _, block := range strings.Split(string(doc), "```json\n")[1:] {
		if body, _, _ := strings.Cut(block, "```"); strings.Contains(body, `"permissive"`) {
			example = body
		}
	}
	a, err := ParseACLs("docs/security.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who, action, object string
		want                bool
	}{
		{"team-a", RegisterFrameworks, "a/batch", true},
		{"team-b", RegisterFrameworks, "a", false},
		{"team-a", UpdatePolicy, "weights", true},
		{"team-a", UpdatePolicy, "partitions", false},
		{"ops", UpdatePolicy, "partitions", true},
		{"team-a", RunTasks, "root", false},
		{"team-a", RunTasks, "alice", true},
		{"team-b", AccessSandboxes, "team-a", false},
	} {
		if d := a.Authorize(tc.who, tc.action, tc.object); d.Allowed != tc.want {
			t.Errorf("%s %s %s: %s, want allowed %v", tc.who, tc.action, tc.object, d, tc.want)
		}
	}
}
