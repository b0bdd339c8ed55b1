package integration

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
)

func TestTasksRunAndFinish(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	f := subscribe(t, c.url, "test", "", 0)
	f.launch("hello", "echo hello from $APRON_TASK_ID", "cpus:0.5;mem:64")
	f.until("hello", "TASK_RUNNING")
	s := f.until("hello", "TASK_FINISHED")
	if s.AgentID == nil || s.AgentID.Value != "a1" {
		t.Errorf("finished on %v, want a1", s.AgentID)
	}
	c.waitFor("the task's resources to be freed", func(st masterState) bool { return st.Resources.Used["cpus"] == 0 })
}

func TestExecuteEndToEnd(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	tests := []struct {
		name, command string
		ok            bool
		want          []string
	}{
		{"hello", "echo hello world && sleep 1", true, []string{"Subscribed with ID", "Submitted task 'hello' to agent 'a1'", "TASK_RUNNING", "TASK_FINISHED"}},
		{"fails", "exit 3", false, []string{"TASK_FAILED", "exited with status 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(apronBin, "execute", "--master", c.url, "--name", tt.name, "--command", tt.command, "--resources", "cpus:1;mem:128").CombinedOutput()
			if (err == nil) != tt.ok {
				t.Fatalf("exit error %v, want success %v\n%s", err, tt.ok, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// apron execute says why no offer holds its task, from the master's state,
// and --timeout ends it with a non-zero exit.
func TestExecuteSaysWhyNothingFits(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(policy, []byte("roles:\n  - {name: capped, limit: \"cpus:0.5\"}\nreservations:\n  - {agent: a2, role: web, resources: \"cpus:1.5\"}\n"), 0o644)
	plain, reserved := startMaster(t), startMaster(t, "--policy", policy)
	plain.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	reserved.startAgent("a2", "cpus:2;mem:1024", t.TempDir())
	for _, c := range []struct {
		name string
		c    *cluster
		args []string
		want []string
	}{
		{"larger than any agent", plain, []string{"--resources", "cpus:8;mem:128"}, []string{
			"No offer has held the task in 500ms: the task wants cpus:8;mem:128 in role *; the largest offer was cpus:2;mem:1024 from agent a1; cpus: the task wants 8, but the largest agent, a1, has 2 in all",
			"apron: --timeout 2s: no offer held the task: the task wants cpus:8;mem:128 in role *"}},
		{"reserved for another role", reserved, []string{"--resources", "cpus:1;mem:128"}, []string{
			"the largest offer was cpus:0.5;mem:1024 from agent a2; agent a2 has cpus:2;mem:1024, of which cpus(web):1.5 is reserved for other roles"}},
		{"over the role's limit", reserved, []string{"--resources", "cpus:1;mem:128", "--role", "capped"}, []string{
			"reserved for other roles; role capped may use only unreserved resources and its own reservations; and cpus: role capped's limit is 0.5 and it holds 0, so it may take 0.5 more; the task wants 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"execute", "--master", c.c.url, "--command", "true", "--wait", "500ms", "--timeout", "2s"}, c.args...)
			out, err := exec.Command(apronBin, args...).CombinedOutput()
			if err == nil {
				t.Fatalf("exit 0; want a non-zero exit at the timeout\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// Its own role's reservation holds the task.
	out, err := exec.Command(apronBin, "execute", "--master", reserved.url, "--command", "true", "--role", "web", "--resources", "cpus:1;mem:128", "--timeout", "20s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "TASK_FINISHED") {
		t.Fatalf("in role web, on its reservation: %v\n%s", err, out)
	}
}

func TestKilledAgentsTasksAreLost(t *testing.T) {
	c := startMaster(t, "--agent-timeout", "1s")
	agent := c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	f := subscribe(t, c.url, "test", "", 0)
	f.launch("long", "sleep 30", "cpus:1;mem:64")
	f.until("long", "TASK_RUNNING")
	tk := findTask(t, c, "a1", "long")
	t.Cleanup(func() {
		_ = syscall.Kill(-tk.Pid, syscall.SIGKILL)
		removeCgroup(tk.Cgroup) // no agent is left to
	})
	agent.kill9()
	s := f.until("long", "TASK_LOST")
	if !strings.Contains(s.Message, "unreachable") {
		t.Errorf("lost with message %q, want one saying the agent is unreachable", s.Message)
	}
	f.next(api.EventFailure)
	st := c.waitFor("the agent to be unreachable", func(st masterState) bool { return st.agent("a1").State == "unreachable" })
	if st.Resources.Total["cpus"] != 0 || st.Resources.Total["mem"] != 0 {
		t.Errorf("total resources %v after the only agent was lost, want none", st.Resources.Total)
	}
}

func TestRestartedAgentRecoversItsTasks(t *testing.T) {
	c := startMaster(t)
	dir := t.TempDir()
	agent := c.startAgent("a1", "cpus:2;mem:1024", dir)
	f := subscribe(t, c.url, "test", "", 0)
	f.launch("survivor", "sleep 3; echo done", "cpus:1;mem:64")
	f.until("survivor", "TASK_RUNNING")
	before := findTask(t, c, "a1", "survivor").Cgroup
	agent.kill9()
	c.startAgent("a1", "cpus:2;mem:1024", dir)
	st, _ := c.state()
	if len(st.Tasks) != 1 || st.Tasks[0].State != "TASK_RUNNING" {
		t.Fatalf("tasks after the agent restarted: %+v, want survivor running", st.Tasks)
	}
	if after := findTask(t, c, "a1", "survivor").Cgroup; after != before {
		t.Errorf("the task's cgroup was %q before the agent restarted and %q after", before, after)
	}
	f.until("survivor", "TASK_FINISHED")
	out, _ := os.ReadFile(filepath.Join(dir, "sandboxes", f.id, "survivor", "stdout"))
	if strings.TrimSpace(string(out)) != "done" {
		t.Errorf("stdout %q, want done", out)
	}
}

func TestFrameworkFailoverKeepsItsTasks(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	f := subscribe(t, c.url, "test", "", 30)
	f.launch("kept", "sleep 2", "cpus:1;mem:64")
	f.until("kept", "TASK_RUNNING")
	f.cancel() // the framework goes away
	c.waitFor("the framework to be disconnected", func(st masterState) bool { return len(st.Tasks) == 1 })
	time.Sleep(200 * time.Millisecond)
	again := subscribe(t, c.url, "test", f.id, 30)
	if again.id != f.id {
		t.Fatalf("resubscribed as %s, want %s", again.id, f.id)
	}
	again.until("kept", "TASK_FINISHED")
}

func TestCgroupLimitsAndMemoryLimit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("cgroups need root")
	}
	c := startMaster(t)
	c.startAgent("cg", "cpus:2;mem:1024", t.TempDir())
	st, _ := c.state()
	if iso := st.agent("cg").Isolation; iso == "none" {
		t.Skipf("the agent could not use cgroups here (isolation %s)", iso)
	}
	f := subscribe(t, c.url, "test", "", 0)
	f.launch("limited", "sleep 10", "cpus:0.5;mem:64")
	f.until("limited", "TASK_RUNNING")
	limits := taskLimits(t, st.agent("cg").URL, "limited")
	want := map[string]string{"cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "memory.limit_in_bytes": "67108864", "memory.max": "67108864", "cpu.max": "50000 100000"}
	checked := 0
	for k, v := range limits {
		if w, ok := want[k]; ok {
			checked++
			if strings.TrimSpace(v) != w {
				t.Errorf("%s = %q, want %s", k, v, w)
			}
		}
	}
	if checked < 2 {
		t.Errorf("limits %v: want the CPU quota and the memory limit", limits)
	}
	f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "limited"}}})
	f.until("limited", "TASK_KILLED")

	f.launch("hog", "head -c 300m /dev/zero | tail", "cpus:0.5;mem:32")
	s := f.until("hog", "TASK_FAILED")
	if s.Reason != api.ReasonMemoryLimit {
		t.Errorf("hog failed with reason %q (%s), want memory-limit", s.Reason, s.Message)
	}
}

// Two clusters on one machine, each with an agent a1 whose work dir has the
// same name: each agent has a cgroup parent of its own, so the same task
// runs in both even when the frameworks, subscribed in the same second,
// have the same id (hence the same container name).
func TestTwoClustersOnOneMachine(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("cgroups need root")
	}
	root := t.TempDir()
	var cgroups []string
	var fws []*rawFramework
	for _, name := range []string{"one", "two"} {
		c := startMaster(t)
		c.startAgent("a1", "cpus:1;mem:256", filepath.Join(root, name, "work"))
		if st, _ := c.state(); st.agent("a1").Isolation == "none" {
			t.Skip("the agent could not use cgroups here")
		}
		f := subscribe(t, c.url, "test", "", 0)
		f.launch("same", "sleep 30", "cpus:0.5;mem:32")
		f.until("same", "TASK_RUNNING")
		cgroups = append(cgroups, findTask(t, c, "a1", "same").Cgroup)
		fws = append(fws, f)
	}
	if path.Dir(cgroups[0]) == path.Dir(cgroups[1]) || cgroups[0] == "" {
		t.Errorf("the two clusters' tasks run in cgroups %q and %q, want two under different parents", cgroups[0], cgroups[1])
	}
	for _, f := range fws { // the agents delete the tasks' cgroups, then their roots as they stop
		f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "same"}}})
		f.until("same", "TASK_KILLED")
	}
}

func TestPolicyApply(t *testing.T) {
	c := startMaster(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(bad, []byte("policy: nosuch\n"), 0o644)
	os.WriteFile(good, []byte("policy: hdrf\nroles:\n  - {name: a, weight: 3}\n"), 0o644)
	out, err := exec.Command(apronBin, "policy", "apply", "--master", c.url, bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `policy: "nosuch" is not a policy`) {
		t.Fatalf("a bad policy: err %v, output %s; want a refusal naming the problem", err, out)
	}
	if st, _ := c.state(); st.Policy.Policy != "drf" {
		t.Fatalf("policy %s after a refused apply, want drf", st.Policy.Policy)
	}
	if out, err := exec.Command(apronBin, "policy", "apply", "--master", c.url, good).CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	st := c.waitFor("the new policy", func(st masterState) bool { return st.Policy.Policy == "hdrf" })
	if st.Policy.Source != "good.yaml" || st.Policy.AppliedAt.IsZero() {
		t.Errorf("policy source %q applied at %v", st.Policy.Source, st.Policy.AppliedAt)
	}
}

func TestBadCalls(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	post := func(body, sid string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, c.url+"/api/v1/scheduler", strings.NewReader(body))
		if sid, ok := strings.CutSuffix(sid, " protobuf"); ok {
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set(api.StreamIDHeader, sid)
		} else if sid != "" {
			req.Header.Set(api.StreamIDHeader, sid)
		}
		resp, err := ops.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e api.ErrorBody
		_ = jsonDecode(resp, &e)
		return resp.StatusCode, e.Field
	}
	f := subscribe(t, c.url, "test", "", 0)
	tests := []struct {
		name, body, sid string
		code            int
		field           string
	}{
		{"not json", `{"type":`, f.sid, 400, ""},
		{"wrong type", `{"type":"ACCEPT","framework_id":{"value":7}}`, f.sid, 400, "framework_id.value"},
		{"unknown field (Mesos ignores it)", fmt.Sprintf(`{"type":"REVIVE","framework_id":{"value":%q},"colour":1,"revive":null}`, f.id), f.sid, 202, ""},
		{"protobuf", `{}`, f.sid + " protobuf", 415, "Content-Type"},
		{"unknown type", fmt.Sprintf(`{"type":"FLY","framework_id":{"value":%q}}`, f.id), f.sid, 400, "type"},
		{"no stream id", fmt.Sprintf(`{"type":"REVIVE","framework_id":{"value":%q}}`, f.id), "", 400, api.StreamIDHeader},
		{"wrong stream id", fmt.Sprintf(`{"type":"REVIVE","framework_id":{"value":%q}}`, f.id), "nope", 400, api.StreamIDHeader},
		{"unknown framework", `{"type":"REVIVE","framework_id":{"value":"nope"}}`, f.sid, 400, "framework_id"},
		{"accept without offers", fmt.Sprintf(`{"type":"ACCEPT","framework_id":{"value":%q},"accept":{}}`, f.id), f.sid, 400, "accept.offer_ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, field := post(tt.body, tt.sid)
			if code != tt.code || field != tt.field {
				t.Errorf("got %d field %q, want %d field %q", code, field, tt.code, tt.field)
			}
		})
	}
	o := f.next(api.EventOffers).Offers.Offers[0]
	launch := func(offer api.ID, id, res string) {
		ti := api.TaskInfo{Name: id, TaskID: api.ID{Value: id}, AgentID: o.AgentID, Command: &api.CommandInfo{Value: "true"},
			Resources: []api.Resource{{Name: "cpus", Type: "SCALAR", Scalar: api.Scalar{Value: 64}}}}
		if res == "small" {
			ti.Resources[0].Scalar.Value = 0.1
		}
		f.call(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{offer}, Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: []api.TaskInfo{ti}}}}}})
	}
	// An offer id of this master that it never made (one of another
	// master gets no answer: it may have launched the task there).
	master, _, _ := strings.Cut(o.ID.Value, ".O")
	launch(api.ID{Value: master + ".O9-999"}, "ghost", "small")
	if s := f.until("ghost", "TASK_LOST"); s.Reason != "REASON_INVALID_OFFERS" { // TASK_DROPPED to a partition-aware framework
		t.Errorf("unknown offer: reason %s", s.Reason)
	}
	launch(o.ID, "huge", "huge")
	if s := f.until("huge", "TASK_ERROR"); !strings.Contains(s.Message, "do not fit") {
		t.Errorf("too big a task: message %q", s.Message)
	}
	launch(o.ID, "late", "small") // the offer was used by the refused launch
	f.until("late", "TASK_LOST")
}

// The new user's path: apron up, then the apron execute it suggests.
func TestUpThenExecute(t *testing.T) {
	bundle, useBundle := upClient(t)
	addr := freeAddr(t)
	_, port, _ := strings.Cut(freeAddr(t), ":")
	work := t.TempDir()
	up := start(t, "up", "--agents", "2", "--listen", addr, "--agent-port", port, "--resources", "cpus:1;mem:512", "--work-dir", work)
	waitPrinted(t, up)
	useBundle()
	c := &cluster{t: t, url: "https://" + addr, master: up}
	c.waitFor("both agents", func(st masterState) bool { return len(st.Agents) == 2 && st.Agents[1].State == "active" })
	if !strings.Contains(up.out.String(), "apron execute --master "+c.url) {
		t.Fatalf("apron up does not say how to run apron execute:\n%s", up.out)
	}
	if !strings.Contains(up.out.String(), ": cpus:1;mem:512, isolation ") {
		t.Errorf("apron up does not list the agents' resources in the text form cpus:1;mem:512:\n%s", up.out)
	}
	checkUpSecrets(t, up, filepath.Join(work, "secrets"), bundle)
	// As the README runs it: --master host:port, no other flag; the
	// bundle apron up wrote makes it https, verified, as ops.
	out, err := exec.Command(apronBin, "execute", "--master", addr, "--name", "my-first-task", "--command", "echo hello world && sleep 1", "--resources", "cpus:1;mem:128").CombinedOutput()
	if err != nil {
		t.Fatalf("execute: %v\n%s", err, out)
	}
	running := strings.Index(string(out), "TASK_RUNNING")
	finished := strings.Index(string(out), "TASK_FINISHED")
	if running < 0 || finished < running {
		t.Errorf("want TASK_RUNNING then TASK_FINISHED:\n%s", out)
	}
	curlState(t, up)
	for line := range strings.Lines(up.out.String()) {
		if dup := repeatedKeys(line); len(dup) > 0 {
			t.Errorf("apron up logs %v twice in: %s", dup, line)
		}
	}
}

// waitPrinted waits for apron up to print its cluster.
func waitPrinted(t *testing.T, up *proc) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(up.out.String(), "Ctrl-C stops the cluster."); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("apron up did not print its cluster within 30 s:\n%s", up.out)
		}
	}
}

// checkUpSecrets checks what apron up made: its secrets' directory (0700)
// and files (0600), the client bundle it wrote (0600, in a folder of
// 0700), and the login link it printed, with ops' secret.
func checkUpSecrets(t *testing.T, up *proc, dir, bundle string) {
	t.Helper()
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, mode %v; want 0700", dir, err, st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) < 10 {
		t.Errorf("%s holds %d files; want the CA, certificates, keys, credentials, ACLs and bundles", dir, len(entries))
	}
	for _, e := range entries {
		if info, _ := e.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s/%s: mode %v, want 0600", dir, e.Name(), info.Mode())
		}
	}
	st, err := os.Stat(bundle)
	folder, _ := os.Stat(filepath.Dir(bundle))
	if err != nil || st.Mode().Perm() != 0o600 || folder.Mode().Perm() != 0o700 {
		t.Fatalf("the client bundle %s: %v; want mode 0600 in a folder of 0700", bundle, err)
	}
	cred, err := auth.LoadClient(bundle)
	if err != nil || cred.Principal != pki.Ops || cred.WrittenBy != auth.WrittenByUp {
		t.Fatalf("the client bundle: %v %+v", err, cred)
	}
	if !strings.Contains(up.out.String(), "/login?token="+cred.Secret+"\n") {
		t.Errorf("apron up does not print the web UI's login link with ops' secret:\n%s", up.out)
	}
}

// curlState runs the curl command apron up prints (the README's) on
// /state: curl verifies the master with the CA and presents ops'
// certificate.
func curlState(t *testing.T, up *proc) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Logf("no curl on PATH: the printed curl command was not run")
		return
	}
	m := regexp.MustCompile(`State: curl -sK (\S+) (https://\S+/state) `).FindStringSubmatch(up.out.String())
	if m == nil {
		t.Fatalf("apron up does not print a curl command for /state:\n%s", up.out)
	}
	out, err := exec.Command("curl", "-sSfK", m[1], m[2]+"?pretty").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"agents"`) {
		t.Errorf("curl -K %s %s: %v\n%s", m[1], m[2], err, out)
	}
}

func TestPolicyShow(t *testing.T) {
	c := startMaster(t)
	out, err := exec.Command(apronBin, "policy", "show", "--master", c.url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"policy": "drf"`) {
		t.Fatalf("policy show: %v\n%s", err, out)
	}
}
