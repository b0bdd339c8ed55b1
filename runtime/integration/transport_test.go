package integration

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/pki"
)

// An insecure cluster (--insecure on the master and the agent) says so
// loudly at start, speaks plain HTTP, and runs a task for apron execute.
func TestInsecureCluster(t *testing.T) {
	c := startMaster(t, "--insecure")
	c.startAgent("a1", "cpus:1;mem:256", t.TempDir())
	for _, p := range []*proc{c.master} {
		if out := p.out.String(); !strings.Contains(out, "WARNING: --insecure: no authentication and no TLS") || !strings.Contains(out, "apron master on http://") {
			t.Errorf("the insecure master does not say so at start:\n%s", out)
		}
	}
	if !strings.HasPrefix(c.url, "http://") {
		t.Fatalf("an insecure master at %s", c.url)
	}
	execute(t, c.url, "plain")
}

// A master or an agent given neither --credentials nor --insecure does not
// start, and says which flags to give; --insecure with a security flag is
// refused too.
func TestServersRefuseToStartUnsecured(t *testing.T) {
	for _, args := range [][]string{
		{"master", "--listen", freeAddr(t)},
		{"agent", "--listen", freeAddr(t), "--resources", "cpus:1;mem:64", "--work-dir", t.TempDir()},
	} {
		out, err := exec.Command(apronBin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no --credentials and no --insecure: give --credentials FILE") {
			t.Errorf("apron %s without --credentials or --insecure: %v\n%s", args[0], err, out)
		}
	}
	out, err := exec.Command(apronBin, "master", "--listen", freeAddr(t), "--insecure", "--credentials", secrets.Credentials).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--insecure turns authentication and TLS off, and --credentials turns them on") {
		t.Errorf("apron master --insecure --credentials: %v\n%s", err, out)
	}
}

// copyMode copies a file with another mode.
func copyMode(t *testing.T, src string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
	return dst
}

// A credentials file, a key or a client bundle others may read is refused
// at start: the process exits non-zero and names the file and its mode.
func TestSecretsOthersMayReadAreRefused(t *testing.T) {
	master, _ := secrets.Identity(pki.Master)
	ops, _ := secrets.Identity(pki.Ops)
	creds := copyMode(t, secrets.Credentials, 0o644)
	key := copyMode(t, master.Key, 0o640)
	bundle := copyMode(t, ops.Bundle, 0o604)
	for _, c := range []struct {
		args []string
		file string
		mode string
	}{
		{[]string{"master", "--listen", freeAddr(t), "--credentials", creds}, creds, "0644"},
		{[]string{"master", "--listen", freeAddr(t), "--credentials", secrets.Credentials, "--tls-cert", master.Cert, "--tls-key", key}, key, "0640"},
		{[]string{"agent", "--listen", freeAddr(t), "--resources", "cpus:1;mem:64", "--work-dir", t.TempDir(), "--credentials", creds}, creds, "0644"},
		{[]string{"execute", "--master", "127.0.0.1:1", "--command", "true", "--credential", bundle}, bundle, "0604"},
	} {
		out, err := exec.Command(apronBin, c.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.file+" has mode "+c.mode) || !strings.Contains(string(out), "chmod 600") {
			t.Errorf("apron %s with %s of mode %s: %v\n%s", c.args[0], c.file, c.mode, err, out)
		}
	}
}

// TLS with another CA is refused on both sides: a client that trusts
// another CA does not talk to the master (apron execute fails, saying
// why); a client certificate of another CA is refused by the master; an
// agent of another CA never registers; a master whose certificate its CA
// did not sign does not start.
func TestWrongCARefused(t *testing.T) {
	c := startMaster(t)
	other, err := pki.Generate(pki.Spec{Dir: t.TempDir(), Agents: []string{"a1"}})
	if err != nil {
		t.Fatal(err)
	}
	strangerOps, _ := other.Identity(pki.Ops)
	out, err := exec.Command(apronBin, "execute", "--master", c.url, "--command", "true", "--credential", strangerOps.Bundle, "--timeout", "10s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "certificate signed by unknown authority") {
		t.Errorf("apron execute trusting another CA: %v\n%s", err, out)
	}

	cert, err := tls.LoadX509KeyPair(strangerOps.Cert, strangerOps.Key)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := secrets.Client(pki.Ops)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ours.TLS()
	cfg.Certificates = []tls.Certificate{cert}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
	if resp, err := hc.Get(c.url + "/state"); err == nil {
		resp.Body.Close()
		t.Errorf("a client certificate of another CA was taken: %s", resp.Status)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client certificate of another CA: %v; want the handshake refused for it", err)
	}

	a1, _ := other.Identity("a1")
	agent := start(t, "agent", "--master", c.url, "--listen", freeAddr(t), "--name", "a1", "--resources", "cpus:1;mem:64", "--work-dir", t.TempDir(),
		"--tls-cert", a1.Cert, "--tls-key", a1.Key, "--tls-ca", other.CA, "--credentials", other.AgentCredentials)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(agent.out.String(), "certificate signed by unknown authority"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent of another CA does not say why it cannot reach the master:\n%s", agent.out)
		}
	}
	if st, err := c.state(); err != nil || len(st.Agents) != 0 {
		t.Errorf("the master's agents: %+v (%v); want none", st.Agents, err)
	}

	master, _ := secrets.Identity(pki.Master)
	out, err = exec.Command(apronBin, "master", "--listen", freeAddr(t), "--credentials", secrets.Credentials,
		"--tls-cert", master.Cert, "--tls-key", master.Key, "--tls-ca", other.CA).CombinedOutput()
	if err == nil || !strings.Contains(string(out), master.Cert) || !strings.Contains(string(out), "is not signed by the CA "+other.CA) {
		t.Errorf("a master whose certificate its CA did not sign: %v\n%s", err, out)
	}
}

// recorder is a master's stand-in over TLS that records who each request
// proves it is: the verified client certificate's name and the HTTP basic
// principal, with its secret checked.
type recorder struct {
	mu   sync.Mutex
	seen map[string]bool // "path cert/basic"
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	byCert := "none"
	if req.TLS != nil && len(req.TLS.VerifiedChains) > 0 {
		byCert = req.TLS.VerifiedChains[0][0].Subject.CommonName
	}
	byBasic, secret, _ := req.BasicAuth()
	if id, ok := secrets.Identity(byBasic); !ok || id.Secret != secret {
		byBasic = "none"
	}
	r.mu.Lock()
	r.seen[req.URL.Path+" "+byCert+"/"+byBasic] = true
	r.mu.Unlock()
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "a recorder"})
}

func (r *recorder) saw(what string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[what]
}

// Every client sends its credential to the master: apron execute and
// apron policy as ops, an agent as itself, each by its client certificate
// and by HTTP basic authentication (an agent given no --credential by its
// certificate alone).
func TestClientsSendTheirCredentials(t *testing.T) {
	cfg, err := secrets.ServerTLS(pki.Master)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{seen: map[string]bool{}}
	srv := httptest.NewUnstartedServer(rec)
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	hostPort := strings.TrimPrefix(srv.URL, "https://")

	_, _ = exec.Command(apronBin, "execute", "--master", hostPort, "--command", "true", "--timeout", "3s").CombinedOutput()
	_, _ = exec.Command(apronBin, "policy", "show", "--master", hostPort).CombinedOutput()
	agent := startServer(t, "agent", "a1", "--master", hostPort, "--listen", freeAddr(t), "--name", "a1", "--resources", "cpus:1;mem:64", "--work-dir", t.TempDir())
	// Without --credential an agent calls as its certificate says.
	a2, _ := secrets.Identity("a2")
	start(t, "agent", "--master", hostPort, "--listen", freeAddr(t), "--name", "a2", "--resources", "cpus:1;mem:64", "--work-dir", t.TempDir(),
		"--tls-cert", a2.Cert, "--tls-key", a2.Key, "--tls-ca", secrets.CA, "--credentials", secrets.AgentCredentials)
	for _, want := range []string{"/state ops/ops", "/api/v1/policy ops/ops", "/api/v1/agent a1/a1", "/api/v1/agent a2/none"} {
		for deadline := time.Now().Add(10 * time.Second); !rec.saw(want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the master's stand-in did not see %q; it saw %v\n%s", want, rec.seen, agent.out)
			}
		}
	}
}

// apron up --insecure says so, serves plain HTTP with no login link, and
// takes away the client bundle an earlier apron up wrote (which would send
// apron execute to https): apron execute with --master host:port works.
func TestUpInsecure(t *testing.T) {
	bundle, _ := upClient(t)
	if err := secrets.Install(pki.Ops, bundle); err != nil { // as an earlier apron up would have
		t.Fatal(err)
	}
	addr := freeAddr(t)
	_, port, _ := strings.Cut(freeAddr(t), ":")
	up := start(t, "up", "--insecure", "--agents", "1", "--listen", addr, "--agent-port", port, "--resources", "cpus:1;mem:256", "--work-dir", t.TempDir())
	waitPrinted(t, up)
	out := up.out.String()
	if !strings.Contains(out, "WARNING: --insecure: no authentication and no TLS") || !strings.Contains(out, "web UI: http://"+addr+"/\n") || strings.Contains(out, "token=") {
		t.Errorf("apron up --insecure does not say so, or prints a login link:\n%s", out)
	}
	if _, err := os.Stat(bundle); !os.IsNotExist(err) || !strings.Contains(out, "removed "+bundle) {
		t.Errorf("the earlier apron up's bundle %s: %v; want it removed, and said", bundle, err)
	}
	execute(t, addr, "plain")
}
