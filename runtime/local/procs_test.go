package local

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
)

func TestMasterURLs(t *testing.T) {
	for _, tt := range []struct {
		addr string
		n    int
		want string // the URLs, comma-separated; "free" for free ports; or the error's start
	}{
		{"127.0.0.1:5050", 3, "http://127.0.0.1:5050,http://127.0.0.1:5051,http://127.0.0.1:5052"},
		{"127.0.0.1:5050", 1, "http://127.0.0.1:5050"},
		{"[::1]:7000", 2, "http://[::1]:7000,http://[::1]:7001"},
		{"127.0.0.1:0", 3, "free"},
		{"127.0.0.1:65535", 2, `master address "127.0.0.1:65535": port "65535"; want 0 (free ports) or 1 to 65534 for 2 masters`},
		{"127.0.0.1:http", 3, `master address "127.0.0.1:http": port "http"`},
		{"5050", 3, `master address "5050"`},
	} {
		urls, err := masterURLs("http", tt.addr, tt.n)
		switch {
		case tt.want == "free":
			seen := map[string]bool{}
			for _, u := range urls {
				host, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
				if host != "127.0.0.1" || port == "0" || seen[port] {
					t.Errorf("masterURLs(%q, %d) = %v: want %d free ports on 127.0.0.1, each once", tt.addr, tt.n, urls, tt.n)
				}
				seen[port] = true
			}
			if err != nil || len(urls) != tt.n {
				t.Errorf("masterURLs(%q, %d) = %v, %v", tt.addr, tt.n, urls, err)
			}
		case err != nil:
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("masterURLs(%q, %d): %v; want an error beginning %s", tt.addr, tt.n, err, tt.want)
			}
		case strings.Join(urls, ",") != tt.want:
			t.Errorf("masterURLs(%q, %d) = %v, want %s", tt.addr, tt.n, urls, tt.want)
		}
	}
}

func TestFirstAgentPort(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want int
	}{
		{Config{MasterAddr: "127.0.0.1:5050"}, 5051}, // apron up as it always was
		{Config{MasterAddr: "127.0.0.1:5050", Masters: 1}, 5051},
		{Config{MasterAddr: "127.0.0.1:5050", Masters: 3}, 5053}, // after the masters
		{Config{MasterAddr: "127.0.0.1:5050", Masters: 3, AgentPort: 6000}, 6000},
		{Config{MasterAddr: "127.0.0.1:0", Masters: 3}, 0}, // free ports
		{Config{MasterAddr: "127.0.0.1:0", AgentPort: 6000}, 6000},
	} {
		if got := firstAgentPort(tt.cfg); got != tt.want {
			t.Errorf("firstAgentPort(%+v) = %d, want %d", tt.cfg, got, tt.want)
		}
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	p := &prefixWriter{w: &out, prefix: "[master-2] "}
	if p.last() != "(no output)" {
		t.Errorf("last line before any output: %q", p.last())
	}
	for _, s := range []string{"apron master on", " http://x\nleading ", "term=2\n", "half a line"} {
		if n, err := p.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if want := "[master-2] apron master on http://x\n[master-2] leading term=2\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
	if p.last() != "leading term=2" {
		t.Errorf("last line %q, want the last one ended", p.last())
	}
	if _, err := (&prefixWriter{}).Write([]byte("dropped\n")); err != nil {
		t.Errorf("a writer without output: %v", err)
	}
}

func TestStartSeveralMastersNeedsTheBinary(t *testing.T) {
	_, err := Start(context.Background(), Config{Masters: 3, Agents: 1, Resources: allocator.MustParseResources("cpus:1;mem:64"), WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "Config.Self") {
		t.Errorf("3 masters without the apron binary: %v; want an error naming Config.Self", err)
	}
	if _, err := Start(context.Background(), Config{Masters: -1, Agents: 1}); err == nil || !strings.Contains(err.Error(), "-1 masters") {
		t.Errorf("-1 masters: %v", err)
	}
}

// script writes an executable shell script that stands in for the apron
// binary.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-apron")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A master process that ignores SIGTERM is killed after the grace, and
// every one of them is, even when several ignore it.
func TestStopMastersKillsAfterGrace(t *testing.T) {
	self := script(t, "trap '' TERM\necho started\nwhile :; do sleep 0.05; done")
	cfg := Config{Self: self}
	c := &Cluster{}
	urls := []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}
	for i := range urls {
		p, err := spawn(cfg, i+1, urls, t.TempDir(), []string{"--insecure"})
		if err != nil {
			t.Fatal(err)
		}
		c.Procs = append(c.Procs, p)
	}
	for _, p := range c.Procs { // the trap is set
		for p.out.last() != "started" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	stopped := make(chan struct{})
	go func() { c.stopMasters(200 * time.Millisecond); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stopMasters did not return 10 s after a grace of 200 ms")
	}
	for _, p := range c.Procs {
		if done, err := p.Exited(); !done || !strings.Contains(fmt.Sprint(err), "killed") {
			t.Errorf("master %d: exited %v (%v); want killed", p.ID, done, err)
		}
	}
}

// A master process that exits while the masters start fails Start with
// what it said last, and the others are stopped.
func TestStartSaysWhyAMasterExited(t *testing.T) {
	self := script(t, `case "$*" in *"--id 2"*) echo "listen tcp: address already in use" >&2; exit 1;; esac
exec sleep 60`)
	_, err := Start(context.Background(), Config{Masters: 3, MasterAddr: "127.0.0.1:0", Agents: 1, Self: self,
		Resources: allocator.MustParseResources("cpus:1;mem:64"), WorkDir: t.TempDir(), Grace: time.Second})
	if err == nil || !strings.Contains(err.Error(), "master 2 at https://127.0.0.1:") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Start with a master that cannot listen: %v; want an error naming master 2 and what it said", err)
	}
}
