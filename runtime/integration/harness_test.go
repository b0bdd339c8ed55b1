package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/runtime/api"
)

var apronBin string

func TestMain(m *testing.M) {
	testutil.MainWithApron(m, func(bin string) { apronBin = bin })
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
	t      *testing.T
	url    string
	master *proc
}

func startMaster(t *testing.T, args ...string) *cluster {
	addr := freeAddr(t)
	c := &cluster{t: t, url: "http://" + addr}
	c.master = start(t, append([]string{"master", "--listen", addr}, args...)...)
	c.waitFor("the master to serve", func(st masterState) bool { return true })
	return c
}

func (c *cluster) startAgent(name, resources, workDir string, extra ...string) *proc {
	addr := freeAddr(c.t)
	args := append([]string{"agent", "--master", c.url, "--listen", addr, "--name", name, "--resources", resources, "--work-dir", workDir, "--grace", "1s"}, extra...)
	p := start(c.t, args...)
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

func (c *cluster) state() (masterState, error) {
	var st masterState
	resp, err := http.Get(c.url + "/state")
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
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/scheduler", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("subscribe: %s %s", resp.Status, b)
	}
	f := &rawFramework{t: t, url: url, sid: resp.Header.Get(api.StreamIDHeader), events: make(chan api.Event, 1024), cancel: cancel}
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
	resp, err := http.DefaultClient.Do(req)
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
