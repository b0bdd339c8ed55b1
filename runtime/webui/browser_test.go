package webui_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/local"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/scheduler"
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

// The seed's first session, in a real browser: a master and an agent, the
// hello-world task launched, the overview showing one agent and the task
// running then finished, its page showing its stdout. Screenshots of every
// page go to the test's artifact directory (go test -artifacts).
func TestHelloWorldInTheBrowser(t *testing.T) {
	exe := browser(t)
	c, err := local.Start(context.Background(), local.Config{Master: master.Options{Policy: allocator.Config{Policy: "drf"}, Sample: 200 * time.Millisecond},
		MasterAddr: "127.0.0.1:0", Agents: 1, Resources: allocator.MustParseResources("cpus:2;mem:1024"), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	shots := t.ArtifactDir()
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#agents-active")), shot("overview-empty")); err != nil {
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

	task := &scheduler.OneTask{Name: "hello", Command: "echo hello world && sleep 3", Resources: allocator.MustParseResources("cpus:1;mem:128")}
	done := make(chan error, 1)
	go func() {
		done <- scheduler.Run(ctx, scheduler.Options{Master: c.URL, Name: "hello-world", Done: task.Done}, task)
	}()

	running := `tr[data-task="hello"][data-state="TASK_RUNNING"]`
	finished := `tr[data-task="hello"][data-state="TASK_FINISHED"]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(running)), shot("overview-running"),
		chromedp.WaitVisible(chromedp.CSS(finished)), shot("overview-finished")); err != nil {
		t.Fatalf("watching the task on the overview (it reloads itself): %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f := task.Final(); f == nil || f.State != "TASK_FINISHED" {
		t.Fatalf("the task ended %+v", f)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(finished+" a")), chromedp.WaitVisible(chromedp.CSS("#stdout")), shot("task")); err != nil {
		t.Fatal(err)
	}
	stdout, state := text("#stdout"), text("#task-state")
	if !strings.Contains(stdout, "hello world") || state != "TASK_FINISHED" {
		t.Errorf("the task page shows state %q and stdout %q; want TASK_FINISHED and hello world", state, stdout)
	}

	for _, p := range []struct{ path, name, want string }{
		{"/agents", "agents", "agent-1"},
		{"/agents/agent-1", "agent", "hello"},
		{"/frameworks", "frameworks", "hello-world"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")), shot(p.name)); err != nil {
			t.Fatal(err)
		}
		body := text("main")
		if !strings.Contains(body, p.want) {
			t.Errorf("%s does not show %q:\n%s", p.path, p.want, body)
		}
	}
	// Narrow windows get one column; the overview still reads.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(420, 800), chromedp.Navigate(c.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#agents-active")), shot("overview-narrow")); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
}
