package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MasterProc is one master of a replicated local cluster, run as a
// process of its own (apron master --id --peers --data-dir) so that it can
// be killed.
type MasterProc struct {
	ID      int    // 1..Config.Masters
	URL     string // its base URL
	Pid     int
	DataDir string // its raft log

	cmd  *exec.Cmd
	out  *prefixWriter
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
}

// Exited reports whether the process has exited, and how.
func (p *MasterProc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// startMasters starts cfg.Masters master processes on consecutive ports
// from cfg.MasterAddr's (free ones when its port is 0), and waits for one
// of them to lead.
func (c *Cluster) startMasters(ctx context.Context, cfg Config) error {
	if cfg.Self == "" {
		return errors.New("local cluster: several masters run as processes of the apron binary, and Config.Self does not name it")
	}
	if cfg.WorkDir == "" && cfg.DataDir == "" {
		return errors.New("local cluster: several masters keep their logs in WorkDir or DataDir, and neither is given")
	}
	urls, err := masterURLs(c.Client.Scheme(), cfg.MasterAddr, cfg.Masters)
	if err != nil {
		return err
	}
	c.URLs = urls
	for i, u := range urls {
		dir, err := masterDir(cfg, i+1)
		if err != nil {
			c.stopMasters(cfg.Grace)
			return err
		}
		p, err := spawn(cfg, i+1, urls, dir, c.masterFlags(cfg, i+1))
		if err != nil {
			c.stopMasters(cfg.Grace)
			return fmt.Errorf("master %d at %s: %w", i+1, u, err)
		}
		c.Procs = append(c.Procs, p)
	}
	leader, err := c.waitLeader(ctx, 20*time.Second)
	if err != nil {
		c.stopMasters(cfg.Grace)
		return err
	}
	c.URL = leader
	return nil
}

// masterURLs are n masters' base URLs with scheme: addr's port and the
// next ones, or free ports when it is 0.
func masterURLs(scheme, addr string, n int) ([]string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("master address %q: %w; want host:port", addr, err)
	}
	first, err := strconv.Atoi(port)
	if err != nil || first < 0 || first+n-1 > 65535 {
		return nil, fmt.Errorf("master address %q: port %q; want 0 (free ports) or 1 to %d for %d masters", addr, port, 65536-n, n)
	}
	urls := make([]string, n)
	for i := range urls {
		p := first + i
		if first == 0 {
			if p, err = freePort(host); err != nil {
				return nil, err
			}
		}
		urls[i] = scheme + "://" + net.JoinHostPort(host, strconv.Itoa(p))
	}
	return urls, nil
}

// freePort is a port no one listens on now: the master that takes it
// listens a moment later.
func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// masterDir is master id's data dir: in DataDir, kept from one start to
// the next, or else in WorkDir, fresh at each start.
func masterDir(cfg Config, id int) (string, error) {
	name := fmt.Sprintf("master-%d", id)
	if cfg.DataDir != "" {
		return filepath.Join(cfg.DataDir, name), nil
	}
	dir := filepath.Join(cfg.WorkDir, name)
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("master %d: clearing its last log: %w", id, err)
	}
	return dir, nil
}

// spawn starts master id with the security flags given, which dies with
// this process.
func spawn(cfg Config, id int, urls []string, dir string, security []string) (*MasterProc, error) {
	_, addr, _ := strings.Cut(urls[id-1], "://")
	args := append([]string{"master", "--listen", addr, "--id", strconv.Itoa(id),
		"--peers", strings.Join(urls, ","), "--data-dir", dir}, security...)
	args = append(args, cfg.MasterArgs...)
	p := &MasterProc{ID: id, URL: urls[id-1], DataDir: dir, done: make(chan struct{}),
		out: &prefixWriter{w: cfg.MasterOutput, prefix: fmt.Sprintf("[master-%d] ", id)}}
	p.cmd = exec.Command(cfg.Self, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = childAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	p.Pid = p.cmd.Process.Pid
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitLeader waits for a master to lead and returns its URL.
func (c *Cluster) waitLeader(ctx context.Context, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, p := range c.Procs {
			if done, err := p.Exited(); done {
				return "", fmt.Errorf("master %d at %s exited while the masters started (%v): %s", p.ID, p.URL, err, p.out.last())
			}
		}
		if u := c.leader(ctx); u != "" {
			return u, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("local cluster: no master of %s led within %v", strings.Join(c.URLs, ","), within)
}

// Leader is the URL of the master that leads now, "" when none does (an
// election is under way).
func (c *Cluster) Leader(ctx context.Context) string {
	if c.Master != nil {
		return c.URL
	}
	return c.leader(ctx)
}

// leader asks each master whether it leads: a leading master's
// /master/redirect leads to itself.
func (c *Cluster) leader(ctx context.Context) string {
	hc := *c.hc
	hc.Timeout = time.Second
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, u := range c.URLs {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/master/redirect", nil)
		resp, err := hc.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTemporaryRedirect && strings.TrimRight(resp.Header.Get("Location"), "/") == u {
			return u
		}
	}
	return ""
}

// watch logs, until ctx ends, each master process that exits and each
// change of leader.
func (c *Cluster) watch(ctx context.Context, cfg Config) {
	leader := c.URL
	exited := make([]bool, len(c.Procs))
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i, p := range c.Procs {
			if done, err := p.Exited(); done && !exited[i] {
				exited[i] = true
				cfg.Log.Warn("master exited", "master", p.ID, "url", p.URL, "pid", p.Pid, "err", err)
			}
		}
		if u := c.leader(ctx); u != "" && u != leader {
			leader = u
			cfg.Log.Info("new leader", "url", u)
		}
	}
}

// stopMasters stops the master processes: SIGTERM, then SIGKILL to those
// still running after grace.
func (c *Cluster) stopMasters(grace time.Duration) {
	for _, p := range c.Procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for _, p := range c.Procs {
		select {
		case <-p.done:
		case <-timer.C:
			for _, q := range c.Procs {
				_ = q.cmd.Process.Kill()
			}
			<-p.done
		}
	}
}

// prefixWriter writes a process's output line by line, each line
// prefixed, and keeps its last line for errors.
type prefixWriter struct {
	w      io.Writer // nil: the output is dropped
	prefix string
	mu     sync.Mutex
	buf    []byte // a line not ended yet
	lastLn []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := p.buf[:i+1]
		p.lastLn = append(p.lastLn[:0], bytes.TrimSpace(line)...)
		if p.w != nil {
			_, _ = p.w.Write(append([]byte(p.prefix), line...))
		}
		p.buf = p.buf[i+1:]
	}
}

// last is the last line written.
func (p *prefixWriter) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lastLn) == 0 {
		return "(no output)"
	}
	return string(p.lastLn)
}
