package agent

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/agent/launch"
	"github.com/apronlab/apron/runtime/api"
)

// liveAgent is an agent of a test with its master and its HTTP server.
type liveAgent struct {
	*Agent
	m    *fakeMaster
	srv  *httptest.Server
	stop func()
}

// nobody skips a test that is not root and returns the user nobody.
func nobody(t *testing.T) launch.Identity {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running tasks as other users needs root")
	}
	id, err := launch.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	return id
}

// traversable lets every user reach dir, a test's temporary directory
// (0700), as they reach an agent's usual work dir.
func traversable(t *testing.T, dir string) string {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	return dir
}

// startAgent runs an agent on dir with the options mod sets, registered
// with its fake master.
func startAgent(t *testing.T, dir string, mod func(*Options)) *liveAgent {
	t.Helper()
	m := newFakeMaster(t)
	opts := Options{Master: m.srv.URL, Name: "a", WorkDir: dir, Resources: allocator.MustParseResources("cpus:2;mem:512"), Grace: 500 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	la := &liveAgent{Agent: a, m: m, srv: httptest.NewServer(a.Handler())}
	t.Cleanup(la.srv.Close)
	la.stop = runAgent(t, a)
	m.until("registration", func() bool { return len(m.subscribes) > 0 })
	return la
}

// ended waits for a task's terminal status.
func (la *liveAgent) ended(task string) api.TaskStatus {
	la.m.t.Helper()
	la.m.until(task+" to end", func() bool { s, _ := la.m.final(task); return core.Terminal(s.State) })
	s, _ := la.m.final(task)
	return s
}

// get fetches a path of the agent's HTTP server.
func (la *liveAgent) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(la.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func mem(mib float64) []api.Resource {
	return []api.Resource{{Name: "cpus", Type: "SCALAR", Scalar: api.Scalar{Value: 1}}, {Name: "mem", Type: "SCALAR", Scalar: api.Scalar{Value: mib}}}
}

// cgroupFiles are the files of the cgroup hierarchy that holds the memory
// controller: its root's cgroup.procs, a container's parent's, and the
// name of a container's memory limit.
func cgroupFiles(iso isolation.Isolator, root string) (rootProcs, parentProcs, limit string) {
	dir, limit := "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
	if iso.Name() == "cgroups-v2" {
		dir, limit = "/sys/fs/cgroup", "memory.max"
	}
	return dir + "/cgroup.procs", dir + "/" + root + "/cgroup.procs", dir + "/" + root + "/fw.t/" + limit
}

// A task runs as nobody, who owns its sandbox, in a cgroup namespace
// rooted at its own cgroup, and can write no cgroup file: neither its own
// limit nor its parent's or the root's cgroup.procs, nor any other.
func TestTaskRunsAsNobodyAndCannotWriteCgroups(t *testing.T) {
	id := nobody(t)
	iso, root := isolated(t)
	la := startAgent(t, t.TempDir(), func(o *Options) { o.Isolator = iso })
	rootProcs, parentProcs, limit := cgroupFiles(iso, root)
	la.m.launch("t", fmt.Sprintf(`id -u; stat -c '%%U %%a' . stdout; cat /proc/self/cgroup
		for f in %s %s %s; do echo $$ > "$f" && echo "wrote $f"; done
		echo writable: $(find /sys/fs/cgroup -writable 2>/dev/null | wc -l)`, limit, parentProcs, rootProcs), mem(64))
	if s := la.ended("t"); s.State != "TASK_FINISHED" {
		t.Fatalf("task ended %+v", s)
	}
	code, out := la.get(t, "/sandbox/fw/t/stdout")
	if code != http.StatusOK {
		t.Fatalf("stdout: %d %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != strconv.Itoa(int(id.UID)) || lines[1] != "nobody 750" || lines[2] != "nobody 640" {
		t.Errorf("uid, sandbox and stdout owner and mode %q, want %d, nobody 750, nobody 640", lines[:3], id.UID)
	}
	if strings.Contains(out, "wrote") || !strings.HasSuffix(out, "writable: 0\n") {
		t.Errorf("the task wrote cgroup files:\n%s", out)
	}
	if !launch.CgroupNamespaces() {
		t.Log("no cgroup namespaces on this kernel")
		return
	}
	for _, l := range lines[3 : len(lines)-1] {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("/proc/self/cgroup line %q in the task, want the namespace's root /", l)
		}
	}
}

// The attack of issue 16: a task writes its pid into its parent's and the
// root memory cgroup, then uses more than its 64 MiB: the writes fail and
// the kernel kills it at its limit.
func TestTaskMovingItselfOutStaysInItsMemoryLimit(t *testing.T) {
	nobody(t)
	iso, root := isolated(t)
	la := startAgent(t, t.TempDir(), func(o *Options) { o.Isolator = iso })
	rootProcs, parentProcs, _ := cgroupFiles(iso, root)
	la.m.launch("t", fmt.Sprintf(`for f in %s %s; do echo $$ > "$f" && echo "moved into $f"; done
		head -c 300m /dev/zero | tail`, parentProcs, rootProcs), mem(64))
	if s := la.ended("t"); s.State != "TASK_FAILED" || s.Reason != api.ReasonMemoryLimit {
		t.Errorf("task ended %s %s (%s), want TASK_FAILED memory-limit", s.State, s.Reason, s.Message)
	}
	if _, out := la.get(t, "/sandbox/fw/t/stdout"); strings.Contains(out, "moved") {
		t.Errorf("the task left its cgroup: %s", out)
	}
	if _, errs := la.get(t, "/sandbox/fw/t/stderr"); !strings.Contains(errs, "Permission denied") {
		t.Errorf("stderr %q, want the refused writes", errs)
	}
}

// A task's environment is what it is given, nothing of the agent's.
func TestTaskEnvironmentIsClean(t *testing.T) {
	nobody(t)
	t.Setenv("APRON_AGENT_SECRET", "s3cret")
	dir := traversable(t, t.TempDir())
	la := startAgent(t, dir, func(o *Options) { o.Self = "/bin/true" })
	la.m.launchCommand("t", api.CommandInfo{Value: `env; cd "$HOME" && echo home-ok`,
		Environment: &api.Environment{Variables: []api.EnvVariable{{Name: "GIVEN", Value: "a b"}, {Name: "HOME_TOO", Value: "x"}}}}, nil)
	if s := la.ended("t"); s.State != "TASK_FINISHED" {
		t.Fatalf("task ended %+v", s)
	}
	_, out := la.get(t, "/sandbox/fw/t/stdout")
	sandbox := filepath.Join(dir, "sandboxes", "fw", "t")
	want := map[string]string{"PATH": safePath, "HOME": sandbox, "USER": "nobody", "LOGNAME": "nobody", "APRON": "/bin/true",
		"APRON_SANDBOX": sandbox, "MESOS_SANDBOX": sandbox, "APRON_TASK_ID": "t", "APRON_FRAMEWORK_ID": "fw", "GIVEN": "a b", "HOME_TOO": "x"}
	shells := map[string]bool{"PWD": true, "OLDPWD": true, "SHLVL": true, "_": true} // what the shell sets
	got := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if name, value, ok := strings.Cut(l, "="); ok && !shells[name] {
			got[name] = value
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("task environment\n%v\nwant\n%v", got, want)
	}
	if !strings.Contains(out, "home-ok") {
		t.Errorf("the task could not cd to its HOME: %s", out)
	}
}

// A task that replaces its stdout with a link to /etc/shadow, its stderr
// with a FIFO, or whose file is a hard link to a file not its own: the
// sandbox endpoint refuses them, and serves none of their bytes.
func TestSandboxEndpointRefusesLinks(t *testing.T) {
	nobody(t)
	dir := t.TempDir()
	la := startAgent(t, dir, nil)
	la.m.launch("t", `echo secret-free; ln -sf /etc/shadow stdout; rm stderr; mkfifo stderr`, nil)
	if s := la.ended("t"); s.State != "TASK_FINISHED" {
		t.Fatalf("task ended %+v", s)
	}
	code, body := la.get(t, "/sandbox/fw/t/stdout")
	if code != http.StatusForbidden || !strings.Contains(body, "symbolic link") || strings.Contains(body, "root:") {
		t.Errorf("a stdout linked to /etc/shadow: %d %q, want 403 saying it is a link", code, body)
	}
	if code, body := la.get(t, "/sandbox/fw/t/stderr"); code != http.StatusForbidden || !strings.Contains(body, "not a regular file") {
		t.Errorf("a FIFO stderr: %d %q, want 403", code, body)
	}
	secret := filepath.Join(dir, "root-only")
	must(t, os.WriteFile(secret, []byte("root:secret"), 0o600))
	stderr := filepath.Join(dir, "sandboxes", "fw", "t", "stderr")
	must(t, os.Remove(stderr))
	must(t, os.Link(secret, stderr))
	if code, body := la.get(t, "/sandbox/fw/t/stderr"); code != http.StatusForbidden || strings.Contains(body, "secret") {
		t.Errorf("a stderr hard-linked to root's file: %d %q, want 403", code, body)
	}
	if code, _ := la.get(t, "/sandbox/fw/nosuch/stdout"); code != http.StatusNotFound {
		t.Errorf("a missing sandbox: %d, want 404", code)
	}
}

// A task as root is refused unless the agent allows root tasks; a user
// the machine does not have fails the task, saying so.
func TestRootTasksNeedAllowRootTasks(t *testing.T) {
	nobody(t)
	la := startAgent(t, t.TempDir(), nil)
	la.m.launchCommand("root", api.CommandInfo{Value: "id -u", User: "root"}, nil)
	la.m.launchCommand("ghost", api.CommandInfo{Value: "id -u", User: "no-such-user-apron"}, nil)
	if s := la.ended("root"); s.State != "TASK_FAILED" || !strings.Contains(s.Message, "--allow-root-tasks") {
		t.Errorf("a root task: %s %q, want TASK_FAILED naming --allow-root-tasks", s.State, s.Message)
	}
	if s := la.ended("ghost"); s.State != "TASK_FAILED" || !strings.Contains(s.Message, `user "no-such-user-apron" does not exist`) {
		t.Errorf("a task of a missing user: %s %q", s.State, s.Message)
	}
	if _, err := New(Options{Master: "http://x", Name: "b", WorkDir: t.TempDir(), Resources: allocator.MustParseResources("cpus:1"), TaskUser: "root"}); err == nil || !strings.Contains(err.Error(), "--allow-root-tasks") {
		t.Errorf("an agent whose task user is root: %v, want a refusal", err)
	}
	allowed := startAgent(t, t.TempDir(), func(o *Options) { o.AllowRootTasks = true })
	allowed.m.launchCommand("root", api.CommandInfo{Value: "id -u", User: "root"}, nil)
	if s := allowed.ended("root"); s.State != "TASK_FINISHED" {
		t.Errorf("a root task with --allow-root-tasks: %+v", s)
	}
	if _, out := allowed.get(t, "/sandbox/fw/root/stdout"); out != "0\n" {
		t.Errorf("root task printed uid %q, want 0", out)
	}
}

// A restarted agent recovers its tasks run as nobody: the ends of those
// that ended meanwhile (the exit status nobody wrote) and one still
// running, which it then kills.
func TestRestartedAgentRecoversTasksOfNobody(t *testing.T) {
	id := nobody(t)
	dir := t.TempDir()
	first := startAgent(t, dir, nil)
	first.m.launch("ended", "id -u; sleep 0.5; exit 3", nil)
	first.m.launch("fifo", "mkfifo exit_status; sleep 0.5; exit 4", nil) // a FIFO would hold the wrapper
	first.m.launch("running", "sleep 30", nil)
	first.m.until("all running", func() bool {
		for _, task := range []string{"ended", "fifo", "running"} {
			if s, _ := first.m.final(task); s.State != "TASK_RUNNING" {
				return false
			}
		}
		return true
	})
	first.stop()
	time.Sleep(time.Second)
	second := startAgent(t, dir, nil)
	if s := second.ended("ended"); s.State != "TASK_FAILED" || s.Message != "command exited with status 3" {
		t.Errorf("recovered end %s %q, want status 3 from the exit file", s.State, s.Message)
	}
	if s := second.ended("fifo"); s.Message != "command exited with status 4" {
		t.Errorf("recovered end of a task that left a FIFO as its exit file: %s %q, want status 4", s.State, s.Message)
	}
	if _, out := second.get(t, "/sandbox/fw/ended/stdout"); out != strconv.Itoa(int(id.UID))+"\n" {
		t.Errorf("the ended task printed uid %q", out)
	}
	second.m.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: "fw", TaskID: "running"}})
	if s := second.ended("running"); s.State != "TASK_KILLED" {
		t.Errorf("recovered running task ended %+v, want TASK_KILLED", s)
	}
}

// Other users cannot run an apron binary built in a private directory (go
// run's): tasks get $APRON in the work dir, a hard link if it may be run
// by others, else a copy, and the binary is left as it was.
func TestTasksCanRunTheApronBinary(t *testing.T) {
	nobody(t)
	for _, mode := range []os.FileMode{0o755, 0o700} {
		t.Run(mode.String(), func(t *testing.T) {
			private := t.TempDir()
			must(t, os.Chmod(private, 0o700))
			self := filepath.Join(private, "apron")
			data, err := os.ReadFile("/bin/echo")
			must(t, err)
			must(t, os.WriteFile(self, data, mode))
			la := startAgent(t, traversable(t, t.TempDir()), func(o *Options) { o.Self = self })
			la.m.launch("t", `"$APRON" apron-ok`, nil)
			if s := la.ended("t"); s.State != "TASK_FINISHED" {
				t.Fatalf("task ended %+v", s)
			}
			if _, out := la.get(t, "/sandbox/fw/t/stdout"); out != "apron-ok\n" {
				t.Errorf("$APRON printed %q", out)
			}
			if info, err := os.Stat(self); err != nil || info.Mode() != mode {
				t.Errorf("the binary's mode is %v (%v), want %v as it was", info.Mode(), err, mode)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	open := traversable(t, t.TempDir())
	private := t.TempDir()
	must(t, os.Chmod(private, 0o700))
	must(t, os.WriteFile(filepath.Join(open, "run"), nil, 0o755))
	must(t, os.WriteFile(filepath.Join(open, "own"), nil, 0o700))
	for _, tt := range []struct{ path, want string }{
		{"/", ""},
		{"/bin/sh", ""},
		{filepath.Join(open, "run"), ""},
		{filepath.Join(open, "own"), filepath.Join(open, "own")},
		{filepath.Join(private, "x"), filepath.Join(private, "x")}, // missing
		{private, private},
	} {
		if got := unreachable(tt.path, 0o001); got != tt.want {
			t.Errorf("unreachable(%s) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
