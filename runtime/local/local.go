package local

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/runtime/pki"
	"github.com/apronlab/apron/runtime/webui"
)

// Config is a local cluster.
type Config struct {
	Master     master.Options // the master's, when it runs in this process (Masters 0 or 1)
	MasterAddr string         // default 127.0.0.1:5050; port 0 picks one; of several masters, the first's (the others take the next ports, or free ones with port 0)
	// Masters is how many masters: 0 or 1 runs one in this process; more
	// run as processes of Self (apron master --id --peers --data-dir), so
	// that one can be killed, with MasterArgs, their output to
	// MasterOutput (each line prefixed with the master's name).
	Masters      int
	MasterArgs   []string
	MasterOutput io.Writer
	// DataDir keeps the masters' registry from one start to the next: a
	// single master's raft log in DataDir, several masters' in
	// DataDir/master-N. Without it a single master keeps everything in
	// memory, and several start with fresh logs in WorkDir/master-N.
	DataDir   string
	Grace     time.Duration // between SIGTERM and SIGKILL of a master process at Stop (default 5s)
	Agents    int
	Prefix    string              // agent names: Prefix-1..Prefix-N; default "agent"
	Resources allocator.Resources // per agent; default the machine's split evenly
	// AgentPort is the first agent's port; the others follow. 0: the port
	// after the masters' (5051 for a single master on 5050), or free ports
	// when the master's port is 0.
	AgentPort int
	WorkDir   string // each agent works in WorkDir/<name>
	Isolation bool   // use cgroups when the machine allows
	Log       *slog.Logger
	Self      string // the apron binary, for tasks' $APRON and the master processes
	// Insecure runs the cluster with no authentication and no TLS.
	// Otherwise Start makes its secrets in WorkDir/secrets (package pki):
	// the masters and agents serve TLS and authenticate with them.
	Insecure bool
}

// Cluster is a running local cluster.
type Cluster struct {
	URL     string         // the master's; of several, the one that led when Start returned
	URLs    []string       // every master's, by id
	Master  *master.Master // the master, when it runs in this process
	Procs   []*MasterProc  // the master processes, by id, when there are several
	Agents  []*agent.Agent
	Warning error // why tasks run without isolation, if they do
	// Secrets are the cluster's (nil: Insecure), and Client the operator's
	// credential (principal ops) that Summary and Leader use.
	Secrets *pki.Secrets
	Client  *auth.Client
	hc      *http.Client // with Client's credential
	servers []*http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	grace   time.Duration
}

// Start starts the masters and the agents and waits for the agents to
// register.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Agents < 1 {
		return nil, fmt.Errorf("local cluster: %d agents; want 1 or more", cfg.Agents)
	}
	if cfg.Masters < 0 {
		return nil, fmt.Errorf("local cluster: %d masters; want 1 or more (0: 1)", cfg.Masters)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "agent"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MasterAddr == "" {
		cfg.MasterAddr = "127.0.0.1:5050"
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	res, err := perAgent(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Cluster{cancel: cancel, grace: cfg.Grace}
	if err := c.secure(cfg); err != nil {
		cancel()
		return nil, err
	}
	c.hc = &http.Client{Transport: c.Client.Transport(http.DefaultTransport.(*http.Transport)), Timeout: 5 * time.Second}
	if cfg.Masters > 1 {
		err = c.startMasters(ctx, cfg)
	} else {
		err = c.startMaster(ctx, cfg)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	if cfg.Masters > 1 {
		c.wg.Go(func() { c.watch(ctx, cfg) })
	}
	first := firstAgentPort(cfg)
	for i := range cfg.Agents {
		port := 0
		if first > 0 {
			port = first + i
		}
		if err := c.startAgent(ctx, cfg, i, res, port); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, c.waitAgents(ctx, cfg.Agents)
}

// startMaster starts a single master in this process.
func (c *Cluster) startMaster(ctx context.Context, cfg Config) error {
	ln, err := net.Listen("tcp", cfg.MasterAddr)
	if err != nil {
		return fmt.Errorf("master: %w", err)
	}
	c.URL = c.Client.Scheme() + "://" + ln.Addr().String()
	c.URLs = []string{c.URL}
	opts := cfg.Master
	opts.Log = cfg.Log
	if cfg.DataDir != "" {
		opts.Replica = &master.ReplicaOptions{ID: 1, Peers: c.URLs, DataDir: cfg.DataDir}
	}
	tlsCfg, err := c.masterSecurity(cfg, &opts)
	if err != nil {
		ln.Close()
		return err
	}
	m, err := master.New(opts)
	if err != nil {
		ln.Close()
		return err
	}
	c.Master = m
	c.serve(ln, webui.Handler(m), tlsCfg)
	c.wg.Go(func() { m.Run(ctx) })
	return nil
}

// firstAgentPort is the first agent's port: 0 for free ports.
func firstAgentPort(cfg Config) int {
	if cfg.AgentPort > 0 {
		return cfg.AgentPort
	}
	_, p, _ := net.SplitHostPort(cfg.MasterAddr)
	port, _ := strconv.Atoi(p)
	if port == 0 {
		return 0
	}
	return port + max(cfg.Masters, 1)
}

// MasterList is every master's URL, comma-separated: what clients'
// --master takes.
func (c *Cluster) MasterList() string { return strings.Join(c.URLs, ",") }

// Summary is the leading master's /state without its tasks.
func (c *Cluster) Summary(ctx context.Context) (master.Summary, error) {
	if c.Master != nil {
		return c.Master.Summary(), nil
	}
	var s master.Summary
	ms, err := masters.WithCredential(c.MasterList(), c.Client)
	if err == nil {
		err = ms.GetJSON(ctx, c.hc, "/state", &s)
	}
	return s, err
}

func perAgent(cfg Config) (allocator.Resources, error) {
	if !cfg.Resources.IsEmpty() {
		return cfg.Resources, nil
	}
	all, err := agent.Detect()
	if err != nil {
		return nil, err
	}
	var out allocator.Resources
	for _, r := range all {
		out = append(out, allocator.Resource{Name: r.Name, Value: r.Value / allocator.Quantity(cfg.Agents)})
	}
	return out, nil
}

func (c *Cluster) startAgent(ctx context.Context, cfg Config, i int, res allocator.Resources, port int) error {
	name := agentName(cfg, i)
	dir := filepath.Join(cfg.WorkDir, name)
	iso := isolation.None()
	if cfg.Isolation {
		var warn error // the same for every agent: say it once
		if iso, warn = isolation.New(isolation.RootFor(dir)); warn != nil && c.Warning == nil {
			c.Warning = warn
		}
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("agent %s: %w", name, err)
	}
	host, _ := os.Hostname()
	opts := agent.Options{Master: c.MasterList(), Name: name, Hostname: host, URL: c.Client.Scheme() + "://" + ln.Addr().String(),
		Resources: res, WorkDir: dir, Isolator: iso, Log: cfg.Log, Self: cfg.Self}
	tlsCfg, err := c.agentSecurity(name, &opts)
	if err != nil {
		ln.Close()
		return err
	}
	a, err := agent.New(opts)
	if err != nil {
		ln.Close()
		return err
	}
	c.Agents = append(c.Agents, a)
	c.serve(ln, a.Handler(), tlsCfg)
	c.wg.Go(func() { _ = a.Run(ctx) })
	return nil
}

// serve serves h on ln, over TLS with cfg (nil: plain HTTP).
func (c *Cluster) serve(ln net.Listener, h http.Handler, cfg *tls.Config) {
	srv := master.NewServerTLS(h, master.ServerLimits{}, cfg)
	c.servers = append(c.servers, srv)
	c.wg.Go(func() {
		if err := master.Serve(srv, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("serve", "err", err)
		}
	})
}

func (c *Cluster) waitAgents(ctx context.Context, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		active := 0
		st, _ := c.Summary(ctx)
		for _, a := range st.Agents {
			if a.State == "active" {
				active++
			}
		}
		if active == n {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Stop()
	return fmt.Errorf("local cluster: the agents did not register within 10s")
}

// Stop stops the agents, then the masters; tasks still running are left
// to the agents' next start (their checkpoints) unless killed before.
func (c *Cluster) Stop() {
	c.cancel()
	for _, s := range c.servers {
		_ = s.Close()
	}
	c.wg.Wait()
	c.stopMasters(c.grace)
}
