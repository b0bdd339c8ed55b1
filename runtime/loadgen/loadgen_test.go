package loadgen

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/runtime/pki"
	"github.com/apronlab/apron/runtime/pki/pkitest"
)

// startMaster serves a master over TLS with the secrets of s, which
// authenticates every call with them.
func startMaster(t *testing.T, ctx context.Context, s *pki.Secrets, fresh bool) (*master.Master, *http.Server, string) {
	t.Helper()
	m, err := master.New(master.Options{Policy: allocator.Config{Policy: "drf", AllocationInterval: 20 * time.Millisecond}, Fresh: fresh,
		Credential: pkitest.Client(t, s, pki.Master), Credentials: pkitest.Credentials(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	go m.Run(ctx)
	cfg, err := s.ServerTLS(pki.Master)
	if err != nil {
		t.Fatal(err)
	}
	srv := master.NewServerTLS(m.Handler(), master.ServerLimits{}, cfg)
	return m, srv, pkitest.Serve(t, srv)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
	}
}

// The simulated agents and frameworks follow a list of masters: when the
// first dies, every agent registers with the second with its running
// tasks, and the framework subscribes there again with its id.
func TestFollowsTheNextMaster(t *testing.T) {
	const agents, tasks = 10, 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := pkitest.New(t, nil)
	first, srv1, url1 := startMaster(t, ctx, s, true)
	second, _, url2 := startMaster(t, ctx, s, false) // no memory: it takes back what the agents report
	list, err := masters.WithCredential(url1+","+url2, pkitest.Client(t, s, pki.Ops))
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := StartAgents(ctx, list, agents, allocator.MustParseResources("cpus:4;mem:4096"), "sim")
	if err != nil {
		t.Fatal(err)
	}
	fws, _, err := StartFrameworks(ctx, list, 1, "filler", "*", Fill(ctx, 2, tasks, allocator.MustParseResources("cpus:1;mem:1024")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every task running on the first master", func() bool { return first.Summary().TaskCounts["TASK_RUNNING"] == tasks })

	srv1.Close() // its connections too
	waitFor(t, "every agent registered again", func() bool { return fleet.Registrations.Load() == 2*agents })
	waitFor(t, "every task running on the second master, the framework back", func() bool {
		st := second.State()
		return second.Summary().TaskCounts["TASK_RUNNING"] == tasks && len(st.Frameworks) == 1 && st.Frameworks[0].Connected && st.Frameworks[0].ID == fws[0].ID
	})
	if n := fleet.Launched.Load(); n != tasks {
		t.Errorf("%d launches, want %d: none again after the failover", n, tasks)
	}
}
