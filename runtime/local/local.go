package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/webui"
)

// Config is a local cluster.
type Config struct {
	Master     master.Options
	MasterAddr string // default 127.0.0.1:5050; port 0 picks one
	Agents     int
	Prefix     string              // agent names: Prefix-1..Prefix-N; default "agent"
	Resources  allocator.Resources // per agent; default the machine's split evenly
	AgentPort  int                 // first agent's port (default 5051); 0 with MasterAddr port 0 picks free ports
	WorkDir    string              // each agent works in WorkDir/<name>
	Isolation  bool                // use cgroups when the machine allows
	Log        *slog.Logger
	Self       string // the apron binary, for tasks' $APRON
}

// Cluster is a running local cluster.
type Cluster struct {
	URL     string // the master's
	Master  *master.Master
	Agents  []*agent.Agent
	Warning error // why tasks run without isolation, if they do
	servers []*http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Start starts the master and the agents and waits for the agents to
// register.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Agents < 1 {
		return nil, fmt.Errorf("local cluster: %d agents; want 1 or more", cfg.Agents)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "agent"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Master.Log = cfg.Log
	res, err := perAgent(cfg)
	if err != nil {
		return nil, err
	}
	m, err := master.New(cfg.Master)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Cluster{Master: m, cancel: cancel}
	addr := cfg.MasterAddr
	if addr == "" {
		addr = "127.0.0.1:5050"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("master: %w", err)
	}
	c.URL = "http://" + ln.Addr().String()
	c.serve(ln, webui.Handler(m))
	c.wg.Go(func() { m.Run(ctx) })
	for i := range cfg.Agents {
		if err := c.startAgent(ctx, cfg, i, res); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, c.waitAgents(ctx, cfg.Agents)
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

func (c *Cluster) startAgent(ctx context.Context, cfg Config, i int, res allocator.Resources) error {
	name := fmt.Sprintf("%s-%d", cfg.Prefix, i+1)
	dir := filepath.Join(cfg.WorkDir, name)
	iso := isolation.None()
	if cfg.Isolation {
		var warn error // the same for every agent: say it once
		if iso, warn = isolation.New(isolation.RootFor(dir)); warn != nil && c.Warning == nil {
			c.Warning = warn
		}
	}
	port := 0
	if cfg.AgentPort > 0 {
		port = cfg.AgentPort + i
	} else if cfg.MasterAddr == "" {
		port = 5051 + i
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("agent %s: %w", name, err)
	}
	host, _ := os.Hostname()
	a, err := agent.New(agent.Options{Master: c.URL, Name: name, Hostname: host, URL: "http://" + ln.Addr().String(),
		Resources: res, WorkDir: dir, Isolator: iso, Log: cfg.Log, Self: cfg.Self})
	if err != nil {
		ln.Close()
		return err
	}
	c.Agents = append(c.Agents, a)
	c.serve(ln, a.Handler())
	c.wg.Go(func() { _ = a.Run(ctx) })
	return nil
}

func (c *Cluster) serve(ln net.Listener, h http.Handler) {
	srv := master.NewServer(h)
	c.servers = append(c.servers, srv)
	c.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("serve", "err", err)
		}
	})
}

func (c *Cluster) waitAgents(ctx context.Context, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		active := 0
		for _, a := range c.Master.State().Agents {
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

// Stop stops the master and the agents; tasks still running are left to
// the agents' next start (their checkpoints) unless killed before.
func (c *Cluster) Stop() {
	c.cancel()
	for _, s := range c.servers {
		_ = s.Close()
	}
	c.wg.Wait()
}
