package chaos

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
)

// proc is a running apron process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProc starts bin with args, its output appended to log.
func startProc(bin, log string, args ...string) (*proc, error) {
	out, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "=== %s: apron %v\n", time.Now().Format(time.RFC3339Nano), args)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	// should the test binary die (a timeout), its master and agents die
	// with it rather than outlive it
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// kill is kill -9, waited for.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// stop is SIGTERM (and SIGCONT, should it be stopped), then SIGKILL after 5 s.
func (p *proc) stop() {
	p.signal(syscall.SIGTERM)
	p.signal(syscall.SIGCONT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// node is the master or an agent: how to start it, and its process while up.
type node struct {
	name, addr, log, workDir string
	args                     []string
	p                        *proc // nil while down
	paused                   bool
	fault                    Fault // the fault it is under
}

// cluster is a master and its agents, as processes, with the faults
// done to them.
type cluster struct {
	bin  string
	hist *History
	mu   sync.Mutex
	// master is the master; its URL is http://master.addr.
	master   *node
	agents   []*node
	heals    []*time.Timer
	starting bool                    // a master is being started
	secrets  *pki.Secrets            // nil: the cluster runs --insecure
	clients  map[string]*auth.Client // the frameworks' and the tester's credentials
}

// tester is the principal that reads /state.
const tester = "tester"

// transport returns a function that gives a base transport principal's
// credentials (as is, for an insecure cluster).
func (c *cluster) transport(principal string) func(*http.Transport) http.RoundTripper {
	return func(base *http.Transport) http.RoundTripper {
		return c.clients[principal].Transport(base) // a nil client: base
	}
}

// secure adds the flags that secure the master (principal pki.Master) or
// an agent to args.
func (c *cluster) secure(args []string, principal, dir string) []string {
	if c.secrets == nil {
		return append(args, "--insecure")
	}
	return append(args, c.secrets.ServerFlags(principal, filepath.Join(dir, "audit.log"))...)
}

// freeAddr is a loopback address no one listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// newCluster starts a master and the plan's agents, and waits for every
// agent to register.
func newCluster(ctx context.Context, cfg Config, plan *Plan, names []string) (*cluster, error) {
	c := &cluster{bin: cfg.Apron}
	if !cfg.Insecure {
		var fws []string
		for _, f := range plan.Frameworks {
			fws = append(fws, f.Name)
		}
		var err error
		if c.secrets, err = pki.Generate(pki.Spec{Dir: filepath.Join(cfg.Dir, "secrets"), Agents: names, Frameworks: fws, Others: []string{tester}}); err != nil {
			return nil, err
		}
		c.clients = map[string]*auth.Client{}
		for _, p := range append(fws, tester) {
			if c.clients[p], err = c.secrets.Client(p); err != nil {
				return nil, err
			}
		}
	}
	policy := filepath.Join(cfg.Dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("policy: drf\nallocation_interval: 500ms\n"), 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c.master = &node{name: "master", addr: addr, log: filepath.Join(cfg.Dir, "master.log"),
		args: c.secure([]string{"master", "--listen", addr, "--agent-timeout", plan.AgentTimeout.String(), "--policy", policy,
			"--data-dir", filepath.Join(cfg.Dir, "master-data")}, pki.Master, cfg.Dir)}
	if err := c.startMaster(ctx); err != nil {
		return nil, err
	}
	for i, name := range names {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		wd := filepath.Join(cfg.Dir, fmt.Sprintf("a%d", i+1))
		args := []string{"agent", "--master", c.url(), "--listen", addr, "--name", name, "--resources", plan.AgentResources,
			"--work-dir", wd, "--grace", "1s"}
		if !cfg.Isolation {
			args = append(args, "--no-isolation")
		}
		args = c.secure(args, name, wd)
		a := &node{name: name, addr: addr, log: filepath.Join(cfg.Dir, fmt.Sprintf("agent-a%d.log", i+1)), workDir: wd, args: args}
		if a.p, err = startProc(c.bin, a.log, a.args...); err != nil {
			return nil, err
		}
		c.agents = append(c.agents, a)
	}
	return c, c.waitAgents(ctx, names, 20*time.Second)
}

func (c *cluster) url() string {
	if c.secrets == nil {
		return "http://" + c.master.addr
	}
	return "https://" + c.master.addr
}

// names are the agents' ids.
func (c *cluster) names() []string {
	var out []string
	for _, a := range c.agents {
		out = append(out, a.name)
	}
	return out
}

// startMaster starts the master and waits until it serves, trying again
// for a few seconds if it cannot (its address still taken).
func (c *cluster) startMaster(ctx context.Context) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p, err := startProc(c.bin, c.master.log, c.master.args...)
		if err != nil {
			return err
		}
		if c.serving(ctx, p, deadline) {
			c.mu.Lock()
			c.master.p = p
			c.mu.Unlock()
			return nil
		}
		p.kill()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the master did not serve on %s within 10s (see %s)", c.master.addr, c.master.log)
}

// serving waits until the master p serves, or it exits, or the deadline.
func (c *cluster) serving(ctx context.Context, p *proc, deadline time.Time) bool {
	for time.Now().Before(deadline) {
		if c.healthy() {
			return true
		}
		select {
		case <-p.done:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func (c *cluster) healthy() bool {
	hc := http.Client{Timeout: time.Second, Transport: c.transport(tester)(http.DefaultTransport.(*http.Transport))}
	resp, err := hc.Get(c.url() + "/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitAgents waits until the master has every agent active and connected.
func (c *cluster) waitAgents(ctx context.Context, names []string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		s, err := c.snapshot(ctx)
		if err == nil && len(s.connected(names)) == len(names) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agents %v did not all register within %v (last error %v)", names, bound, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// agentDown does an agent fault; agentUp undoes it at the fault's end.
func (c *cluster) agentDown(i int, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[i]
	if a.p == nil || a.paused {
		return
	}
	a.fault = f
	c.hist.Add(Entry{Who: "fault", What: WhatFaultBegin, Fault: &f, Note: a.name})
	switch f.Kind {
	case AgentCrash:
		a.p.kill()
		a.p = nil
	case AgentStop:
		a.p.stop()
		a.p = nil
	case AgentPause:
		a.p.signal(syscall.SIGSTOP)
		a.paused = true
	}
	if f.Down > 0 {
		c.heals = append(c.heals, time.AfterFunc(f.Down, func() { c.agentUp(i) }))
	}
}

func (c *cluster) agentUp(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.agents[i]
	f := a.fault
	switch {
	case a.paused:
		a.p.signal(syscall.SIGCONT)
		a.paused = false
	case a.p == nil:
		p, err := startProc(c.bin, a.log, a.args...)
		if err != nil {
			c.hist.Add(Entry{Who: "fault", What: WhatFaultEnd, Fault: &f, Note: a.name, Err: err.Error()})
			return
		}
		a.p = p
	default:
		return
	}
	c.hist.Add(Entry{Who: "fault", What: WhatFaultEnd, Fault: &f, Note: a.name})
}

// restartMaster kills the master and starts it again after f.Down.
func (c *cluster) restartMaster(ctx context.Context, f Fault) {
	c.mu.Lock()
	p := c.master.p
	c.master.p = nil
	c.mu.Unlock()
	if p == nil {
		return
	}
	c.hist.Add(Entry{Who: "fault", What: WhatFaultBegin, Fault: &f})
	p.kill()
	c.mu.Lock()
	c.master.fault = f
	c.heals = append(c.heals, time.AfterFunc(f.Down, func() { c.masterUp(ctx) }))
	c.mu.Unlock()
}

func (c *cluster) masterUp(ctx context.Context) {
	c.mu.Lock()
	busy, f := c.master.p != nil || c.starting, c.master.fault
	c.starting = c.starting || !busy
	c.mu.Unlock()
	if busy {
		return
	}
	e := Entry{Who: "fault", What: WhatFaultEnd, Fault: &f}
	if err := c.startMaster(ctx); err != nil {
		e.Err = err.Error()
	}
	c.hist.Add(e)
	c.mu.Lock()
	c.starting = false
	c.mu.Unlock()
}

// heal ends every fault now: the master up, every agent running.
func (c *cluster) heal(ctx context.Context) {
	c.mu.Lock()
	for _, t := range c.heals {
		t.Stop()
	}
	c.heals = nil
	c.mu.Unlock()
	c.masterUp(ctx)
	for i := range c.agents {
		c.agentUp(i)
	}
}

// stop ends every process: the agents, then the master.
func (c *cluster) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.heals {
		t.Stop()
	}
	for _, n := range append(c.agents, c.master) {
		if n.p != nil {
			n.p.stop()
			n.p = nil
		}
	}
}
