package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
)

var (
	apronBin string
	// secrets are the test binary's cluster secrets (package pki), made
	// once with the generator apron up uses: every master and agent the
	// tests start serves TLS and authenticates with them, unless a test
	// runs it --insecure.
	secrets *pki.Secrets
	// ops is an HTTP client of principal ops, the operator: over TLS it
	// verifies the servers with the CA and presents ops' certificate and
	// secret; over plain HTTP (an insecure cluster) it sends nothing.
	ops *http.Client
)

// testAgents are the agents' names the tests use, each a principal that
// may register that agent only.
var testAgents = []string{"a1", "a2", "cg", "agent-1", "agent-2"}

// testFrameworks are principals that may run frameworks and do nothing
// else.
var testFrameworks = []string{"alice", "mallory"}

func TestMain(m *testing.M) {
	testutil.MainWithApron(m, setup)
}

// setup takes the apron binary and makes the secrets in dir. The apron
// commands the tests run find ops' bundle in $APRON_CREDENTIALS, and
// nothing of the user's own configuration.
func setup(bin, dir string) error {
	apronBin = bin
	var err error
	if secrets, err = pki.Generate(pki.Spec{Dir: filepath.Join(dir, "secrets"), Agents: testAgents, Frameworks: testFrameworks}); err != nil {
		return err
	}
	cred, err := secrets.Client(pki.Ops)
	if err != nil {
		return err
	}
	ops = &http.Client{Transport: cred.Transport(http.DefaultTransport.(*http.Transport))}
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Setenv(auth.ClientEnv, cred.Path)
	return nil
}

// upClient makes the test a user of apron up: its own configuration
// folder, where apron up writes ops' bundle (apron execute finds it there
// with no flag and no $APRON_CREDENTIALS), and ops the client of that
// bundle once apron up has written it (call the function returned). It
// returns the bundle's path.
func upClient(t *testing.T) (string, func()) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv(auth.ClientEnv, "")
	path := filepath.Join(config, "apron", "credentials.json")
	before := ops
	t.Cleanup(func() { ops = before })
	return path, func() {
		t.Helper()
		cred, err := auth.LoadClient(path)
		if err != nil {
			t.Fatalf("the bundle apron up wrote: %v", err)
		}
		ops = &http.Client{Transport: cred.Transport(http.DefaultTransport.(*http.Transport))}
	}
}

// serverArgs are the flags that secure a master (name pki.Master) or an
// agent (its name) with the test binary's secrets: its certificate and
// key, the CA, the credentials it accepts and its own credential; a
// master's audit log goes to the test's temporary directory.
func serverArgs(t *testing.T, name string) []string {
	t.Helper()
	if _, ok := secrets.Identity(name); !ok {
		t.Fatalf("no secrets for %q: add it to testAgents", name)
	}
	return secrets.ServerFlags(name, filepath.Join(t.TempDir(), "audit.log"))
}

// insecure reports whether args run a server --insecure.
func insecure(args []string) bool { return slices.Contains(args, "--insecure") }

// scheme is the scheme of a server run with args.
func scheme(args []string) string {
	if insecure(args) {
		return "http"
	}
	return "https"
}

// startServer starts apron master or apron agent (cmd) as name, with
// the flags that secure it unless args run it --insecure.
func startServer(t *testing.T, cmd, name string, args ...string) *proc {
	t.Helper()
	if !insecure(args) {
		args = append(serverArgs(t, name), args...)
	}
	return start(t, append([]string{cmd}, args...)...)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is an apron process of a test.
type proc struct {
	cmd *exec.Cmd
	out *syncBuffer
}

// syncBuffer is a process's output, read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(apronBin, args...), out: &syncBuffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("apron %s:\n%s", strings.Join(args, " "), p.out)
		}
	})
	return p
}

func (p *proc) kill9() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// cluster is a master process and its URL.
type cluster struct {
	t        *testing.T
	url      string
	master   *proc
	insecure bool // the cluster runs --insecure
}

// startMaster starts a master on a free port, secured with the test
// binary's secrets unless args run it --insecure.
func startMaster(t *testing.T, args ...string) *cluster {
	addr := freeAddr(t)
	c := &cluster{t: t, url: scheme(args) + "://" + addr, insecure: insecure(args)}
	c.master = startServer(t, "master", pki.Master, append([]string{"--listen", addr}, args...)...)
	c.waitFor("the master to serve", func(st masterState) bool { return true })
	return c
}

// restartMaster starts the cluster's master again on its address with
// args (its security as before).
func (c *cluster) restartMaster(args ...string) {
	_, addr, _ := strings.Cut(c.url, "://")
	if c.insecure {
		args = append(args, "--insecure")
	}
	c.master = startServer(c.t, "master", pki.Master, append([]string{"--listen", addr}, args...)...)
}

// startAgent starts agent name of the cluster, secured as the cluster is.
func (c *cluster) startAgent(name, resources, workDir string, extra ...string) *proc {
	addr := freeAddr(c.t)
	args := append([]string{"--master", c.url, "--listen", addr, "--name", name, "--resources", resources, "--work-dir", workDir, "--grace", "1s"}, extra...)
	if c.insecure {
		args = append(args, "--insecure")
	}
	p := startServer(c.t, "agent", name, args...)
	c.waitFor("agent "+name+" to register", func(st masterState) bool {
		a := st.agent(name)
		return a != nil && a.State == "active" && a.Connected
	})
	return p
}

// masterState is the part of /state the tests read.
type masterState struct {
	Policy struct {
		Policy    string    `json:"policy"`
		Source    string    `json:"source"`
		AppliedAt time.Time `json:"applied_at"`
		Pending   string    `json:"pending"`
	} `json:"policy"`
	Resources struct {
		Total map[string]float64 `json:"total"`
		Used  map[string]float64 `json:"used"`
	} `json:"resources"`
	Agents []struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		Connected bool   `json:"connected"`
		Isolation string `json:"isolation"`
		URL       string `json:"url"`
	} `json:"agents"`
	Tasks []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"tasks"`
	Frameworks []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Connected bool   `json:"connected"`
	} `json:"frameworks"`
	CompletedFrameworks []struct {
		ID string `json:"id"`
	} `json:"completed_frameworks"`
}

func (s masterState) agent(id string) *struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	Connected bool   `json:"connected"`
	Isolation string `json:"isolation"`
	URL       string `json:"url"`
} {
	for i := range s.Agents {
		if s.Agents[i].ID == id {
			return &s.Agents[i]
		}
	}
	return nil
}

// stateAs reads the master's /state into v, the view of it a test needs.
func (c *cluster) stateAs(v any) {
	c.t.Helper()
	resp, err := ops.Get(c.url + "/state")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := jsonDecode(resp, v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) state() (masterState, error) {
	var st masterState
	resp, err := ops.Get(c.url + "/state")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitFor polls /state until ok, for up to 20 s.
func (c *cluster) waitFor(what string, ok func(masterState) bool) masterState {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := c.state()
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s (last error %v, state %+v)", what, err, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rawFramework speaks the scheduler API by hand, as curl would.
type rawFramework struct {
	t       *testing.T
	hc      *http.Client // its principal's (ops unless subscribeAs)
	url     string
	id, sid string
	events  chan api.Event
	cancel  context.CancelFunc
}

func subscribe(t *testing.T, url, name, id string, failover float64) *rawFramework {
	t.Helper()
	info := api.FrameworkInfo{Name: name, FailoverTimeout: failover}
	if id != "" {
		info.ID = &api.ID{Value: id}
	}
	body, _ := json.Marshal(api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}})
	return subscribeBody(t, url, body)
}

// subscribeBody subscribes with a SUBSCRIBE call's JSON as it is.
func subscribeBody(t *testing.T, url string, body []byte) *rawFramework {
	t.Helper()
	return subscribeAs(t, ops, url, body)
}

// subscribeAs subscribes as the principal of client hc.
func subscribeAs(t *testing.T, hc *http.Client, url string, body []byte) *rawFramework {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/scheduler", bytes.NewReader(body))
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("subscribe: %s %s", resp.Status, b)
	}
	f := &rawFramework{t: t, hc: hc, url: url, sid: resp.Header.Get(api.StreamIDHeader), events: make(chan api.Event, 1024), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		defer close(f.events)
		rr := api.NewRecordReader(resp.Body)
		for {
			var e api.Event
			if rr.Decode(&e) != nil {
				return
			}
			f.events <- e
		}
	}()
	e := f.next(api.EventSubscribed)
	f.id = e.Subscribed.FrameworkID.Value
	t.Cleanup(cancel)
	return f
}

// next returns the next event of the type, skipping others, within 20 s.
func (f *rawFramework) next(typ string) api.Event {
	f.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-f.events:
			if !ok {
				f.t.Fatalf("stream closed while waiting for %s", typ)
			}
			if e.Type == typ {
				return e
			}
		case <-timeout:
			f.t.Fatalf("no %s event within 20s", typ)
		}
	}
}

// call posts a call and returns the HTTP status and body.
func (f *rawFramework) call(c api.Call) (int, string) {
	c.FrameworkID = &api.ID{Value: f.id}
	body, _ := json.Marshal(c)
	return f.post(body)
}

// post posts a call's JSON as it is, with the framework's stream id.
func (f *rawFramework) post(body []byte) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set(api.StreamIDHeader, f.sid)
	resp, err := f.hc.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// launch waits for an offer and launches one task on it.
func (f *rawFramework) launch(id, command, resources string) api.Offer {
	f.t.Helper()
	o := f.next(api.EventOffers).Offers.Offers[0]
	ti := api.TaskInfo{Name: id, TaskID: api.ID{Value: id}, AgentID: o.AgentID, Command: &api.CommandInfo{Value: command}}
	for _, kv := range strings.Split(resources, ";") {
		name, v, _ := strings.Cut(kv, ":")
		var x float64
		fmt.Sscan(v, &x)
		ti.Resources = append(ti.Resources, api.Resource{Name: name, Type: "SCALAR", Scalar: api.Scalar{Value: x}})
	}
	code, body := f.call(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID},
		Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: []api.TaskInfo{ti}}}}}})
	if code != http.StatusAccepted {
		f.t.Fatalf("accept: %d %s", code, body)
	}
	return o
}

// until returns the first update of task id in state, acknowledging every
// update on the way; it fails on another terminal state.
func (f *rawFramework) until(id, state string) api.TaskStatus {
	f.t.Helper()
	for {
		s := f.next(api.EventUpdate).Update.Status
		if s.UUID != "" {
			f.call(api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: *s.AgentID, TaskID: s.TaskID, UUID: s.UUID}})
		}
		if s.TaskID.Value != id {
			continue
		}
		if s.State == state {
			return s
		}
		switch s.State {
		case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED":
			f.t.Fatalf("task %s: %s (%s: %s), want %s", id, s.State, s.Reason, s.Message, state)
		}
	}
}
