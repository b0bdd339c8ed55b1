package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/master"
)

// apron policy takes a list of masters and reaches the leader: past a
// dead master and through a standby's 307.
func TestPolicyCommandsFollowTheLeader(t *testing.T) {
	opts, err := masterOptions("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := master.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	lead := httptest.NewServer(m.Handler())
	defer lead.Close()
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, lead.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer standby.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	list := dead + "," + standby.URL

	file := filepath.Join(t.TempDir(), "weights.yaml")
	if err := os.WriteFile(file, []byte("policy: hdrf\nroles:\n  - {name: a, weight: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runApron(t, "policy", "apply", "--master", list, file); err != nil || !strings.Contains(out, "accepted") {
		t.Fatalf("policy apply: %v\n%s", err, out)
	}
	if out, err := runApron(t, "policy", "show", "--master", list); err != nil || !strings.Contains(out, "weights.yaml") {
		t.Fatalf("policy show: %v\n%s; want the policy just applied", err, out)
	}
	for _, cmd := range [][]string{{"policy", "show"}, {"execute", "--command", "true"}, {"run", "static-vs-shared", "--backend", "live"}} {
		_, err := runApron(t, append(cmd, "--master", "a:1,,b:2")...)
		if err == nil || !strings.Contains(err.Error(), `--master: masters: entry 2 of 3 (""): empty`) {
			t.Errorf("%v with a bad list: %v", cmd, err)
		}
	}
}
