package chaos

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/masters"
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

// node is a master or an agent: how to start it, and its process while up.
type node struct {
	name, addr, log, workDir string
	args                     []string
	p                        *proc // nil while down
	paused                   bool
	starting                 bool  // a master being started
	fault                    Fault // the fault it is under
}

// cluster is the masters and their agents, as processes, with the faults
// done to them.
type cluster struct {
	bin  string
	hist *History
	mu   sync.Mutex
	// masters: master i has id i+1 and the URL url(i); one master keeps
	// its registry on disk, three replicate it.
	masters []*node
	agents  []*node
	heals   []*time.Timer
	secrets *pki.Secrets            // nil: the cluster runs --insecure
	clients map[string]*auth.Client // the frameworks' and the tester's credentials
	// tester is where the tester reads /state: the leader, found as any
	// client finds it.
	tester *masters.List
	// watch ends the watchers of leader faults, which watchers counts.
	watch    context.Context
	endWatch context.CancelFunc
	watchers sync.WaitGroup
}

// tester is the principal that reads /state.
const tester = "tester"

// frameworkHeartbeat is how often the masters send frameworks a
// HEARTBEAT: a framework whose stream is silent for silentBeats of them
// takes its master for gone (stopped, or cut off) and subscribes again.
const (
	frameworkHeartbeat = time.Second
	silentBeats        = 3 // as runtime/scheduler's driver
)

// transport returns a function that gives a base transport principal's
// credentials (as is, for an insecure cluster).
func (c *cluster) transport(principal string) func(*http.Transport) http.RoundTripper {
	return func(base *http.Transport) http.RoundTripper {
		return c.clients[principal].Transport(base) // a nil client: base
	}
}

// secure adds the flags that secure a master (principal pki.Master) or an
// agent to args.
func (c *cluster) secure(args []string, principal, auditLog string) []string {
	if c.secrets == nil {
		return append(args, "--insecure")
	}
	return append(args, c.secrets.ServerFlags(principal, auditLog)...)
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

// newCluster starts the plan's masters and agents, and waits for a leader
// and for every agent to register.
func newCluster(ctx context.Context, cfg Config, plan *Plan, names []string) (*cluster, error) {
	c := &cluster{bin: cfg.Apron}
	c.watch, c.endWatch = context.WithCancel(ctx)
	if err := c.makeSecrets(cfg, plan, names); err != nil {
		return c, err
	}
	if err := c.startMasters(ctx, cfg, plan); err != nil {
		return c, err
	}
	var err error
	if c.tester, err = masters.Parse(c.masterList()); err != nil {
		return c, err
	}
	for i, name := range names {
		addr, err := freeAddr()
		if err != nil {
			return c, err
		}
		wd := filepath.Join(cfg.Dir, fmt.Sprintf("a%d", i+1))
		args := []string{"agent", "--master", c.masterList(), "--listen", addr, "--name", name, "--resources", plan.AgentResources,
			"--work-dir", wd, "--grace", "1s"}
		if !cfg.Isolation {
			args = append(args, "--no-isolation")
		}
		args = c.secure(args, name, filepath.Join(wd, "audit.log"))
		a := &node{name: name, addr: addr, log: filepath.Join(cfg.Dir, fmt.Sprintf("agent-a%d.log", i+1)), workDir: wd, args: args}
		if a.p, err = startProc(c.bin, a.log, a.args...); err != nil {
			return c, err
		}
		c.mu.Lock()
		c.agents = append(c.agents, a)
		c.mu.Unlock()
	}
	return c, c.waitAgents(ctx, names, 20*time.Second)
}

// makeSecrets makes the cluster's secrets, unless it runs --insecure:
// each agent and framework a principal of its own, the tester one with
// the operators' rights.
func (c *cluster) makeSecrets(cfg Config, plan *Plan, names []string) error {
	if cfg.Insecure {
		return nil
	}
	var fws []string
	for _, f := range plan.Frameworks {
		fws = append(fws, f.Name)
	}
	var err error
	if c.secrets, err = pki.Generate(pki.Spec{Dir: filepath.Join(cfg.Dir, "secrets"), Agents: names, Frameworks: fws, Others: []string{tester}}); err != nil {
		return err
	}
	c.clients = map[string]*auth.Client{}
	for _, p := range append(fws, tester) {
		if c.clients[p], err = c.secrets.Client(p); err != nil {
			return err
		}
	}
	return nil
}

// url is master i's base URL.
func (c *cluster) url(i int) string {
	if c.secrets == nil {
		return "http://" + c.masters[i].addr
	}
	return "https://" + c.masters[i].addr
}

// masterList is the masters as their clients take them: base URLs, by
// id, comma-separated.
func (c *cluster) masterList() string {
	var urls []string
	for i := range c.masters {
		urls = append(urls, c.url(i))
	}
	return strings.Join(urls, ",")
}

// names are the agents' ids.
func (c *cluster) names() []string {
	var out []string
	for _, a := range c.agents {
		out = append(out, a.name)
	}
	return out
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

// heal ends every fault now: every master and agent up and running.
func (c *cluster) heal(ctx context.Context) {
	c.mu.Lock()
	for _, t := range c.heals {
		t.Stop()
	}
	c.heals = nil
	c.mu.Unlock()
	for i := range c.masters {
		c.masterUp(ctx, i)
	}
	for i := range c.agents {
		c.agentUp(i)
	}
}

// stop ends the watchers and every process: the agents, then the masters.
func (c *cluster) stop() {
	c.endWatch()
	c.watchers.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.heals {
		t.Stop()
	}
	for _, n := range slices.Concat(c.agents, c.masters) {
		if n.p != nil {
			n.p.stop()
			n.p = nil
		}
	}
}
