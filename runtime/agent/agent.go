package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/api"
)

// Options configure an agent.
type Options struct {
	Master     string // the master's base URL, e.g. http://127.0.0.1:5050
	Name       string // the agent's id; default: the checkpointed one, else hostname-port
	Hostname   string
	URL        string // where this agent serves /state and sandboxes
	Resources  allocator.Resources
	Attributes map[string]string
	WorkDir    string
	Isolator   isolation.Isolator
	Grace      time.Duration // SIGTERM to SIGKILL; default 3s
	Retry      time.Duration // status update retry; default 1s, doubling to 10s
	// Self is the apron binary, $APRON in task commands (what apron burn
	// runs from). It is never guessed: in a test binary os.Executable is
	// the test itself, which would run the tests again for every task.
	Self string
	Log  *slog.Logger
}

// Agent runs tasks for a master.
type Agent struct {
	opts  Options
	store *store
	hc    *http.Client // calls
	sc    *http.Client // the event stream

	mu        sync.Mutex
	id        string
	heartbeat time.Duration
	tasks     map[string]*run // by framework/task
	wake      chan struct{}   // a status is ready to send
	reconnect chan struct{}   // the master no longer knows this agent
}

// New checks the options and recovers the checkpointed tasks of the work
// directory: those still running are watched again, those that ended while
// the agent was down get their final status.
func New(opts Options) (*Agent, error) {
	if opts.Master == "" || opts.WorkDir == "" || opts.Resources.IsEmpty() {
		return nil, fmt.Errorf("agent: the master URL, a work dir and some resources are required")
	}
	if opts.Grace <= 0 {
		opts.Grace = 3 * time.Second
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Isolator == nil {
		opts.Isolator = isolation.None()
	}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: work dir: %w", err)
	}
	a := &Agent{opts: opts, store: &store{dir: opts.WorkDir}, hc: &http.Client{Timeout: 10 * time.Second}, sc: &http.Client{},
		tasks: map[string]*run{}, wake: make(chan struct{}, 1), reconnect: make(chan struct{}, 1), heartbeat: time.Second}
	if a.opts.Name == "" {
		a.opts.Name = a.store.loadName()
	}
	if a.opts.Name == "" {
		return nil, fmt.Errorf("agent: no name given and none checkpointed in %s", opts.WorkDir)
	}
	a.opts.Log = a.opts.Log.With("agent", a.opts.Name) // every line says which agent
	if err := a.store.saveName(a.opts.Name); err != nil {
		return nil, fmt.Errorf("agent: checkpoint: %w", err)
	}
	a.recover()
	return a, nil
}

// Name is the agent's id.
func (a *Agent) Name() string { return a.opts.Name }

// Run registers with the master and serves it until ctx ends; a lost
// connection is retried. Tasks keep running after Run returns; with none
// left, the agent's cgroup root is removed.
func (a *Agent) Run(ctx context.Context) error {
	go a.sendStatuses(ctx)
	go a.heartbeats(ctx)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := a.subscribe(ctx)
		if ctx.Err() != nil {
			break
		}
		a.opts.Log.Warn("master connection lost; retrying", "err", err, "in", backoff)
		if time.Since(start) > 5*time.Second {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	if err := a.opts.Isolator.Close(); err != nil {
		a.opts.Log.Warn("leaving the cgroup root", "err", err)
	}
	return nil
}

// subscribe opens the event stream and handles its events until it ends.
func (a *Agent) subscribe(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-a.reconnect:
			cancel()
		case <-ctx.Done():
		}
	}()
	call := api.AgentCall{Type: api.AgentCallSubscribe, Subscribe: &api.AgentSubscribe{
		Name: a.opts.Name, Hostname: a.opts.Hostname, URL: a.opts.URL, Resources: api.FromResources(a.opts.Resources),
		Attributes: a.opts.Attributes, Isolation: a.opts.Isolator.Name(), Tasks: a.running()}}
	resp, err := a.do(ctx, a.sc, call)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("subscribe: %s: %s", resp.Status, readError(resp))
	}
	rr := api.NewRecordReader(resp.Body)
	for {
		var e api.AgentEvent
		if err := rr.Decode(&e); err != nil {
			return err
		}
		a.handle(e)
	}
}

func (a *Agent) handle(e api.AgentEvent) {
	switch {
	case e.Type == api.AgentEventRegistered && e.Registered != nil:
		hb := time.Duration(e.Registered.HeartbeatIntervalSeconds * float64(time.Second))
		a.mu.Lock()
		a.id, a.heartbeat = e.Registered.AgentID, hb
		a.mu.Unlock()
		a.opts.Log.Info("registered", "heartbeat", hb)
		a.poke() // resend what is pending
	case e.Type == api.AgentEventLaunch && e.Launch != nil:
		a.launch(e.Launch)
	case e.Type == api.AgentEventKill && e.Kill != nil:
		a.kill(e.Kill.FrameworkID, e.Kill.TaskID)
	case e.Type == api.AgentEventAck && e.Ack != nil:
		a.acked(e.Ack)
	case e.Type == api.AgentEventShutdown:
		a.opts.Log.Warn("the master asked this agent to shut down")
	}
}

// running lists the tasks to report when (re-)registering.
func (a *Agent) running() []api.AgentTask {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []api.AgentTask
	for _, k := range sorted.Keys(a.tasks) {
		r := a.tasks[k].rec
		if r.State == "TASK_STARTING" || r.State == "TASK_RUNNING" {
			out = append(out, api.AgentTask{FrameworkID: r.FrameworkID, Task: r.Task, State: r.State, Role: r.Role})
		}
	}
	return out
}

// heartbeats posts a HEARTBEAT at the interval the master asked for.
func (a *Agent) heartbeats(ctx context.Context) {
	for {
		a.mu.Lock()
		d, id := a.heartbeat, a.id
		a.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		if id != "" {
			a.post(ctx, api.AgentCall{Type: api.AgentCallHeartbeat, AgentID: id})
		}
	}
}

// post sends a call; a 404 means the master forgot the agent, which then
// subscribes again.
func (a *Agent) post(ctx context.Context, c api.AgentCall) bool {
	resp, err := a.do(ctx, a.hc, c)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		select {
		case a.reconnect <- struct{}{}:
		default:
		}
	}
	return resp.StatusCode == http.StatusAccepted
}

// do posts an agent call to the master.
func (a *Agent) do(ctx context.Context, hc *http.Client, c api.AgentCall) (*http.Response, error) {
	body, _ := json.Marshal(c) // the wire types always marshal
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.opts.Master+"/api/v1/agent", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return hc.Do(req)
}

func readError(resp *http.Response) string {
	var e api.ErrorBody
	if json.NewDecoder(resp.Body).Decode(&e) == nil {
		return e.Error
	}
	return ""
}

// Detect returns this machine's resources as Mesos counts them: every
// CPU, and the memory less 1 GiB or half of it, whichever is less, left to
// the system.
func Detect() (allocator.Resources, error) {
	mem, err := memTotalMiB()
	if err != nil {
		return nil, err
	}
	mem -= min(1024, mem/2)
	return allocator.ParseResources(fmt.Sprintf("cpus:%d;mem:%d", goruntime.NumCPU(), mem))
}

func memTotalMiB() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("detecting memory: %w", err)
	}
	var kb int64
	for _, line := range strings.Split(string(data), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("detecting memory: no MemTotal in /proc/meminfo")
}
