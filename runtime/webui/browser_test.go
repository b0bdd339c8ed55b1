package webui_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/local"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/pki"
	"github.com/apronlab/apron/runtime/pki/pkitest"
	"github.com/apronlab/apron/runtime/scheduler"
	"github.com/apronlab/apron/runtime/webui"
	"github.com/chromedp/chromedp"
)

// browser finds Chromium, or skips the test saying why.
func browser(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on PATH (Debian: apt-get install chromium); the browser test did not run")
	return ""
}

// newTab starts Chromium (or skips the test) and returns a tab's context,
// which ends after timeout or with the test. The test's profile takes the
// certificates of the test's own CA, which no browser trusts.
func newTab(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser(t)), chromedp.NoSandbox, chromedp.Flag("ignore-certificate-errors", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// shot saves a screenshot of the whole page as name.png in the test's
// artifact directory (go test -artifacts).
func shot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(t.ArtifactDir(), name+".png"), png, 0o644)
	})
}

// The seed's first session, in a real browser: a master and an agent, the
// hello-world task launched, the overview showing one agent and the task
// running then finished, its page showing its stdout. Screenshots of every
// page go to the test's artifact directory (go test -artifacts).
func TestHelloWorldInTheBrowser(t *testing.T) {
	ctx := newTab(t, 90*time.Second, chromedp.WindowSize(1280, 800))
	c, err := local.Start(context.Background(), local.Config{Master: master.Options{Policy: allocator.Config{Policy: "drf"}, Sample: 200 * time.Millisecond},
		MasterAddr: "127.0.0.1:0", Agents: 1, Resources: allocator.MustParseResources("cpus:2;mem:1024"), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	login(t, ctx, c.Secrets, c.URL)
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluating %s: %v", js, err)
		}
		return s
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#agents-active")), shot(t, "overview-empty")); err != nil {
		t.Fatal(err)
	}
	agents := text("#agents-active")
	// The keyboard reaches the page: the first Tab lands on the skip link.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.activeElement.className"))
	if err != nil || focused != "skip" {
		t.Errorf("after one Tab the focus is on %q (%v), want the skip link", focused, err)
	}
	if strings.TrimSpace(agents) != "1" {
		t.Fatalf("the overview shows %q active agents, want 1", agents)
	}
	// apron's version and the master's uptime in the footer; memory with its unit.
	uptimeRE := regexp.MustCompile(`^(\d+h)?(\d+m)?\d+s$`)
	if v, up := text("#version"), text("#uptime"); !strings.HasPrefix(v, "apron ") || !uptimeRE.MatchString(up) {
		t.Errorf("the footer shows version %q and uptime %q", v, up)
	}
	firstUptime := text("#uptime")
	if mem := eval(`[...document.querySelectorAll("th[scope=row]")].find(e => e.textContent === "mem").nextElementSibling.textContent`); mem != "1 GiB" {
		t.Errorf("the resources table shows mem total %q, want 1 GiB", mem)
	}

	task := &scheduler.OneTask{Name: "hello", Command: "echo hello world && sleep 3", Resources: allocator.MustParseResources("cpus:1;mem:128")}
	done := make(chan error, 1)
	go func() {
		done <- scheduler.Run(ctx, scheduler.Options{Master: c.URL, Credential: c.Client, Name: "hello-world", Done: task.Done}, task)
	}()

	running := `tr[data-task="hello"][data-state="TASK_RUNNING"]`
	finished := `tr[data-task="hello"][data-state="TASK_FINISHED"]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(running)), shot(t, "overview-running")); err != nil {
		t.Fatalf("watching the task on the overview (it reloads itself): %v", err)
	}
	if n, res := text("#tasks-running"), text(running+" td:nth-child(5)"); n != "1" || res != "cpus 1, mem 128 MiB" {
		t.Errorf("while the task runs the overview counts %q running, its resources %q; want 1 and cpus 1, mem 128 MiB", n, res)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(finished)), shot(t, "overview-finished")); err != nil {
		t.Fatalf("watching the task on the overview (it reloads itself): %v", err)
	}
	counts := eval(`[...document.querySelectorAll(".cards [id^=tasks-]")].map(e => e.id + "=" + e.textContent).join(" ")`)
	if counts != "tasks-staging=0 tasks-running=0 tasks-finished=1 tasks-failed=0 tasks-killed=0 tasks-lost=0" {
		t.Errorf("the overview counts tasks by state as %q", counts)
	}
	// Each legend entry is drawn in its line's colour, as the browser computes it.
	legend := eval(`[...document.querySelectorAll("#main svg.chart g.legend")].map(g => {
		const line = document.querySelector('#main svg.chart polyline[data-series="' + g.dataset.series + '"]');
		return g.dataset.series + ": " + getComputedStyle(g.querySelector("text")).fill + (line ? " line " + getComputedStyle(line).stroke : " no line");
	}).join("; ")`)
	entries := strings.Split(legend, "; ")
	for _, e := range entries {
		name, colours, _ := strings.Cut(e, ": ")
		text, line, _ := strings.Cut(colours, " line ")
		if text != line || !strings.HasPrefix(text, "rgb(") {
			t.Errorf("legend %q is drawn in %s, its line in %q", name, text, line)
		}
	}
	if len(entries) < 2 {
		t.Errorf("the utilization chart's legend: %q, want cpus and mem", legend)
	}
	if up := text("#uptime"); up == firstUptime || !uptimeRE.MatchString(up) {
		t.Errorf("the uptime in the footer reads %q, as when the page was loaded (%q): it does not follow the refreshes", up, firstUptime)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f := task.Final(); f == nil || f.State != "TASK_FINISHED" {
		t.Fatalf("the task ended %+v", f)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(finished+" a")), chromedp.WaitVisible(chromedp.CSS("#stdout")), shot(t, "task")); err != nil {
		t.Fatal(err)
	}
	stdout, state := text("#stdout"), text("#task-state")
	if !strings.Contains(stdout, "hello world") || state != "TASK_FINISHED" {
		t.Errorf("the task page shows state %q and stdout %q; want TASK_FINISHED and hello world", state, stdout)
	}

	for _, p := range []struct{ path, name, want string }{
		{"/agents", "agents", "agent-1"},
		{"/agents", "agents", "0 MiB / 1 GiB"},
		{"/agents/agent-1", "agent", "hello"},
		{"/agents/agent-1", "agent", "cpus 1, mem 128 MiB"},
		{"/frameworks", "frameworks", "hello-world"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")), shot(t, p.name)); err != nil {
			t.Fatal(err)
		}
		body := text("main")
		if !strings.Contains(body, p.want) {
			t.Errorf("%s does not show %q:\n%s", p.path, p.want, body)
		}
	}
	// Narrow windows get one column; the overview still reads.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(420, 800), chromedp.Navigate(c.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#agents-active")), shot(t, "overview-narrow")); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", t.ArtifactDir())
}

// A page left open on a master that stops leading follows the leader: the
// master now answers its refresh with a 307 to the leader's same page,
// and the page loads itself again from there.
func TestPageFollowsTheLeader(t *testing.T) {
	ctx := newTab(t, 60*time.Second)
	secrets := pkitest.New(t, nil)
	newMaster := func() http.Handler {
		m, err := master.New(secure(t, secrets, master.Options{Policy: allocator.Config{Policy: "drf"}}))
		if err != nil {
			t.Fatal(err)
		}
		return webui.Handler(m)
	}
	leader := startTLS(t, secrets, newMaster())
	var standby atomic.Bool
	first := newMaster()
	old := startTLS(t, secrets, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if standby.Load() {
			http.Redirect(w, r, leader.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		first.ServeHTTP(w, r)
	}))
	login(t, ctx, secrets, old.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(old.URL+"/agents"), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatal(err)
	}
	standby.Store(true)
	for {
		at, err := chromedp.Run(ctx, chromedp.Evaluate[string]("window.location.href"))
		if err == nil && at == leader.URL+"/agents" {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the page is at %s (%v), want the leader's %s/agents", at, err, leader.URL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replicated is three masters of a raft-replicated cluster in this
// process, each serving its web UI on a loopback port over TLS, and
// talking to the others over TLS as principal master.
type replicated struct {
	urls    []string
	stop    []func() // each master's
	secrets *pki.Secrets
}

func startReplicated(t *testing.T, n int) *replicated {
	t.Helper()
	r := &replicated{secrets: pkitest.New(t, nil)}
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		r.urls = append(r.urls, "https://"+ln.Addr().String())
	}
	for i, ln := range lns {
		r.stop = append(r.stop, serveReplica(t, r.secrets, ln, r.urls, uint64(i+1)))
	}
	return r
}

// serveReplica runs master id of peers, with its web UI, on ln until the
// test ends or the returned stop is called.
func serveReplica(t *testing.T, secrets *pki.Secrets, ln net.Listener, peers []string, id uint64) (stop func()) {
	t.Helper()
	cfg, err := secrets.ServerTLS(pki.Master)
	if err != nil {
		t.Fatal(err)
	}
	m, err := master.New(secure(t, secrets, master.Options{Policy: allocator.Config{Policy: "drf"},
		Replica: &master.ReplicaOptions{ID: id, Peers: peers, DataDir: t.TempDir(), Tick: 50 * time.Millisecond}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := master.NewServerTLS(webui.Handler(m), master.ServerLimits{}, cfg)
	ran := make(chan struct{})
	go func() { m.Run(ctx); close(ran) }()
	go func() { _ = master.Serve(srv, ln) }()
	stop = sync.OnceFunc(func() { cancel(); _ = srv.Close(); <-ran })
	t.Cleanup(stop)
	return stop
}

// The overview of a replicated cluster, opened at any master, shows the
// masters: three, each with its URL and role, one leader (the master that
// serves the page, since the others redirect to it) and the term. With
// the leader stopped, another master leads in a later term, and its
// overview says so.
func TestMastersInTheBrowser(t *testing.T) {
	ctx := newTab(t, 90*time.Second, chromedp.WindowSize(1280, 800))
	r := startReplicated(t, 3)
	login(t, ctx, r.secrets, r.urls[0]) // the session cookie goes to every port of 127.0.0.1
	panel := func(at, name string) (leader int, term int, rows string) {
		t.Helper()
		// A master that knows no leader yet answers 503: load the page until the panel shows.
		for {
			err := chromedp.Do(ctx, chromedp.Navigate(at+"/"))
			if err == nil {
				ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#masters") !== null`))
				if ok {
					break
				}
			}
			if ctx.Err() != nil {
				t.Fatalf("no Masters panel at %s: %v", at, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err := chromedp.Do(ctx, shot(t, name)); err != nil {
			t.Fatal(err)
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[document.querySelector("#masters-leader").textContent, document.querySelector("#masters-term").textContent,
			[...document.querySelectorAll("#masters tbody tr")].map(tr => tr.dataset.master + " " + tr.querySelector("a").href + " " + tr.dataset.role + (tr.querySelector("a").href === location.origin + "/" ? " serves" : "")).join("; ")].join("|")`))
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(s, "|")
		leader, _ = strconv.Atoi(parts[0])
		term, _ = strconv.Atoi(parts[1])
		return leader, term, parts[2]
	}
	want := func(leader int) string {
		var rows []string
		for i, u := range r.urls {
			role := "follower"
			if i+1 == leader {
				role = "leader serves"
			}
			rows = append(rows, fmt.Sprintf("%d %s/ %s", i+1, u, role))
		}
		return strings.Join(rows, "; ")
	}

	// A leader just elected may not have heard from its peers yet (they
	// show unreachable): load again until it has, or the test's time ends.
	leader, term, rows := panel(r.urls[2], "masters")
	for (leader < 1 || leader > 3 || term < 1 || rows != want(leader)) && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		leader, term, rows = panel(r.urls[2], "masters")
	}
	if leader < 1 || leader > 3 || term < 1 || rows != want(leader) {
		t.Fatalf("the Masters panel shows leader %d in term %d and %q; want a leader, a term and %q", leader, term, rows, want(leader))
	}
	r.stop[leader-1]()
	other := r.urls[leader%3] // a master still running
	for {
		next, nextTerm, rows := panel(other, "masters-after-failover")
		if next != leader {
			if nextTerm <= term || !strings.Contains(rows, fmt.Sprintf("%d %s/ leader serves", next, r.urls[next-1])) {
				t.Errorf("after master %d stopped, the panel shows leader %d in term %d (was %d) and %q", leader, next, nextTerm, term, rows)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("master %d, stopped, still leads on the panel", leader)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// secure gives a master the credentials, ACLs and own credential of s.
func secure(t *testing.T, s *pki.Secrets, opts master.Options) master.Options {
	acls, err := auth.LoadACLs(s.ACLs)
	if err != nil {
		t.Fatal(err)
	}
	opts.Credentials, opts.Authorizer, opts.Credential = pkitest.Credentials(t, s), acls, pkitest.Client(t, s, pki.Master)
	return opts
}

// startTLS serves h over TLS as the masters of s until the test ends.
func startTLS(t *testing.T, s *pki.Secrets, h http.Handler) *httptest.Server {
	cfg, err := s.ServerTLS(pki.Master)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// login opens the login link of principal ops at url: the browser's
// session for every master of 127.0.0.1.
func login(t *testing.T, ctx context.Context, s *pki.Secrets, url string) {
	t.Helper()
	ops, _ := s.Identity(pki.Ops)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/login?token="+ops.Secret)); err != nil {
		t.Fatalf("the login link: %v", err)
	}
}
