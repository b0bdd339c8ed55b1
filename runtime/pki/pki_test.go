package pki

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/auth"
)

func generate(t *testing.T, dir string) *Secrets {
	t.Helper()
	s, err := Generate(Spec{Dir: dir, Agents: []string{"agent-1", "agent-2"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every file is its owner's alone, and the directory too; the folder made
// for it stays open to the tasks whose sandboxes it holds.
func TestModes(t *testing.T) {
	work := filepath.Join(t.TempDir(), "work")
	dir := filepath.Join(work, "secrets")
	generate(t, dir)
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("the directory: %v, mode %v; want 0700", err, st.Mode())
	}
	if st, err := os.Stat(work); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("the work dir made for it: %v, mode %v; want 0755", err, st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	want := []string{"ca.pem", "ca-key.pem", "credentials.json", "agent-credentials.json", "acls.json", "master.pem", "master-key.pem", "master.json", "ops.json", "agent-2-key.pem"}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Name()] = true
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode())
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no %s among %v", w, entries)
		}
	}
}

// The files read back as what they are: credentials and ACLs that auth
// accepts, a server's TLS that a client bundle verifies, whose client
// certificate names its principal.
func TestFilesWork(t *testing.T) {
	s := generate(t, t.TempDir())
	creds, err := auth.LoadCredentials(s.Credentials)
	if err != nil || len(creds.List()) != 4 {
		t.Fatalf("credentials: %v, %d principals; want master, ops and 2 agents", err, len(creds.List()))
	}
	agentCreds, err := auth.LoadCredentials(s.AgentCredentials)
	if err != nil || len(agentCreds.List()) != 2 {
		t.Fatalf("the agents' credentials: %v; want master and ops", err)
	}
	acls, err := auth.LoadACLs(s.ACLs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		principal, action, object string
		allowed                   bool
	}{
		{"agent-1", auth.RegisterAgents, "agent-1", true},
		{"agent-1", auth.RegisterAgents, "agent-2", false},
		{"ops", auth.RegisterAgents, "agent-1", false},
		{"ops", auth.UpdatePolicy, "weights", true},
		{"agent-2", auth.UpdatePolicy, "weights", false},
		{"agent-2", auth.ViewState, "state", true},
		{"ops", auth.RunTasks, "nobody", true},
	} {
		if d := acls.Authorize(c.principal, c.action, c.object); d.Allowed != c.allowed {
			t.Errorf("%s %s %s: %v, want allowed %v", c.principal, c.action, c.object, d, c.allowed)
		}
	}

	if r := acls.Rules[auth.RunTasks][0]; r.Principals.Type != "NONE" || len(r.Objects.Values) != 1 || r.Objects.Values[0] != "root" {
		t.Errorf("run_tasks begins with %+v; want the rule that no one runs tasks as root", r)
	}

	srvTLS, err := s.ServerTLS("agent-1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, err := creds.Authenticate(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, who)
	}))
	srv.TLS = srvTLS
	srv.StartTLS()
	defer srv.Close()
	ops, err := s.Client(Ops)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: ops.Transport(http.DefaultTransport.(*http.Transport))}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != Ops || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("ops through its bundle: %s %q; want principal ops over TLS 1.2+", resp.Status, body)
	}
}

// A second Generate keeps the CA and makes new secrets.
func TestCAKept(t *testing.T) {
	dir := t.TempDir()
	a := generate(t, dir)
	ca1, _ := os.ReadFile(a.CA)
	id1, _ := a.Identity(Ops)
	b := generate(t, dir)
	ca2, _ := os.ReadFile(b.CA)
	id2, _ := b.Identity(Ops)
	if string(ca1) != string(ca2) {
		t.Error("the CA was made again")
	}
	if id1.Secret == id2.Secret || len(id2.Secret) != 43 {
		t.Errorf("secrets %q then %q: want new 32-byte base64url secrets", id1.Secret, id2.Secret)
	}
	if _, err := b.Client(Ops); err != nil {
		t.Errorf("the new bundle against the kept CA: %v", err)
	}
}

// Install writes a bundle of its own, replaces its own, and never another.
func TestInstall(t *testing.T) {
	s := generate(t, t.TempDir())
	path := filepath.Join(t.TempDir(), "config", "apron", "credentials.json")
	for range 2 {
		if err := s.Install(Ops, path); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := os.Stat(path)
	dst, _ := os.Stat(filepath.Dir(path))
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Errorf("modes %v and %v; want 0600 and its folder 0700", st.Mode(), dst.Mode())
	}
	c, err := auth.LoadClient(path)
	if err != nil || c.Principal != Ops || c.WrittenBy != auth.WrittenByUp {
		t.Fatalf("the installed bundle: %v %+v", err, c)
	}
	mine := []byte(`{"principal": "me", "secret": "0123456789abcdef0123"}`)
	if err := os.WriteFile(path, mine, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Install(Ops, path); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("over another's bundle: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(mine) {
		t.Error("another's bundle was overwritten")
	}
}

// Secrets are not kept in a directory another user controls.
func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	link := filepath.Join(base, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if err := privateDir(link); err == nil {
		t.Error("a link was taken as the secrets' directory")
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := privateDir(filepath.Join(open, "secrets")); err == nil || !strings.Contains(err.Error(), "another user could replace") {
		t.Errorf("in a folder anyone may write: %v", err)
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(base, "other")
		if err := os.Mkdir(other, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := privateDir(other); err == nil {
			t.Error("another user's directory was taken")
		}
	}
}

func TestCurlrc(t *testing.T) {
	s := generate(t, t.TempDir())
	path, err := s.Curlrc(Ops)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	id, _ := s.Identity(Ops)
	for _, want := range []string{"cacert = \"" + s.CA + "\"", "cert = \"" + id.Cert + "\"", "key = \"" + id.Key + "\""} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s:\n%s", path, want, data)
		}
	}
}
