package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/pki"
)

// launchLong launches one long task on the first offer f gets and waits
// for it to run; it returns the task's pid.
func launchLong(t *testing.T, c *cluster, f *rawFramework, id string) int {
	t.Helper()
	o := f.next(api.EventOffers).Offers.Offers[0]
	f.call(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID}, Operations: []api.Operation{{Type: "LAUNCH",
		Launch: &api.Launch{TaskInfos: []api.TaskInfo{
			{Name: id, TaskID: api.ID{Value: id}, AgentID: o.AgentID, Command: &api.CommandInfo{Value: "sleep 60"}, Resources: half(o.Resources)},
			{Name: "short", TaskID: api.ID{Value: "short"}, AgentID: o.AgentID, Command: &api.CommandInfo{Value: "sleep 1.5"}, Resources: half(o.Resources)},
		}}}}}})
	f.until(id, "TASK_RUNNING")
	return findTask(t, c, o.AgentID.Value, id).Pid
}

// half is half of each amount.
func half(rs []api.Resource) []api.Resource {
	out := make([]api.Resource, len(rs))
	for i, r := range rs {
		out[i] = r
		out[i].Scalar.Value = r.Scalar.Value / 2
	}
	return out
}

// ends collects, for a while, the terminal updates of a task with their
// uuids, acknowledging every update.
func (f *rawFramework) ends(id string, within time.Duration) map[api.UUID]string {
	out := map[api.UUID]string{} // uuid -> state
	timeout := time.After(within)
	for {
		select {
		case e, ok := <-f.events:
			if !ok {
				return out
			}
			if e.Type != api.EventUpdate {
				continue
			}
			s := e.Update.Status
			if s.UUID != "" {
				f.call(api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: *s.AgentID, TaskID: s.TaskID, UUID: s.UUID}})
			}
			if s.TaskID.Value == id && s.UUID != "" && s.State != "TASK_RUNNING" {
				out[s.UUID] = s.State
			}
		case <-timeout:
			return out
		}
	}
}

// A single master with --data-dir restarted after kill -9 forgets
// nothing: its framework, agent and task are in /state before anyone
// comes back; the framework resubscribes with its id and kills its task.
func TestDataDirRestartForgetsNothing(t *testing.T) {
	dir := t.TempDir()
	c := startMaster(t, "--data-dir", dir+"/master", "--agent-timeout", "5s")
	c.startAgent("a1", "cpus:1;mem:64", dir+"/a1")
	f := subscribe(t, c.url, "keeper", "", 300)
	pid := launchLong(t, c, f, "long")

	c.master.kill9()
	c.restartMaster("--data-dir", dir+"/master", "--agent-timeout", "5s")
	st := c.waitFor("the task back with its agent", func(st masterState) bool {
		a := st.agent("a1")
		return a != nil && a.Connected && st.hasTask("long", "TASK_RUNNING")
	})
	if syscall.Kill(pid, 0) != nil {
		t.Errorf("the task's process %d does not run after the restart", pid)
	}
	_ = st
	g := subscribe(t, c.url, "keeper", f.id, 300)
	g.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "long"}}})
	g.until("long", "TASK_KILLED")
}

// masters are the processes of a replicated cluster, by id.
type masters struct {
	t     *testing.T
	urls  []string
	procs []*proc
	dirs  []string
}

func startMasters(t *testing.T, n int, extra ...string) *masters {
	ms := &masters{t: t}
	for range n {
		ms.urls = append(ms.urls, scheme(extra)+"://"+freeAddr(t))
		ms.dirs = append(ms.dirs, t.TempDir())
	}
	for i := range n {
		ms.procs = append(ms.procs, ms.start(i, extra...))
	}
	return ms
}

func (ms *masters) start(i int, extra ...string) *proc {
	_, addr, _ := strings.Cut(ms.urls[i], "://")
	args := append([]string{"--listen", addr, "--id", fmt.Sprint(i + 1),
		"--peers", strings.Join(ms.urls, ","), "--data-dir", ms.dirs[i], "--agent-timeout", "5s"}, extra...)
	return startServer(ms.t, "master", pki.Master, args...)
}

// leader waits until the masters agree on a leader and returns its index.
func (ms *masters) leader(except int) int {
	ms.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for i, u := range ms.urls {
			if i == except {
				continue
			}
			var v struct {
				Leader uint64 `json:"leader"`
				Self   uint64 `json:"self"`
			}
			resp, err := ops.Get(u + "/api/v1/masters")
			if err != nil {
				continue
			}
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err == nil && v.Leader != 0 && int(v.Leader)-1 != except {
				if r, err := ops.Get(ms.urls[v.Leader-1] + "/state"); err == nil && r.StatusCode == 200 {
					r.Body.Close()
					return int(v.Leader) - 1
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	ms.t.Fatalf("no leader within 20 s")
	return -1
}

// Three masters: kill -9 of the leader while a task runs; a new leader
// serves within seconds with the framework, agent and task; the framework
// resubscribes through a standby's redirect and keeps its task; the old
// leader rejoins as a follower.
func TestLeaderFailover(t *testing.T) {
	ms := startMasters(t, 3)
	lead := ms.leader(-1)
	via := (lead + 1) % 3 // clients talk to a standby: it redirects them
	c := &cluster{t: t, url: ms.urls[via]}
	c.startAgent("a1", "cpus:2;mem:128", t.TempDir()+"/a1")
	f := subscribe(t, c.url, "keeper", "", 300)
	pid := launchLong(t, c, f, "long") // and "short", which ends during the failover

	ms.procs[lead].kill9()
	killed := time.Now()
	next := ms.leader(lead)
	t.Logf("master %d leads %v after master %d was killed", next+1, time.Since(killed).Round(time.Millisecond), lead+1)
	c.url = ms.urls[next]
	c.waitFor("the agent and its task on the new leader", func(st masterState) bool {
		a := st.agent("a1")
		return a != nil && a.Connected && st.hasTask("long", "TASK_RUNNING")
	})
	if syscall.Kill(pid, 0) != nil {
		t.Errorf("the task's process %d does not run after the failover", pid)
	}
	g := subscribe(t, ms.urls[3-lead-next], "keeper", f.id, 300) // through the standby that is left
	if g.id != f.id {
		t.Fatalf("resubscribed as %s, want %s", g.id, f.id)
	}
	if got := g.ends("short", 4*time.Second); len(got) != 1 || fmt.Sprint(got) != fmt.Sprintf("map[%s:TASK_FINISHED]", firstKey(got)) {
		t.Errorf("the task that ended during the failover: updates %v; want one TASK_FINISHED", got)
	}
	ms.procs[lead] = ms.start(lead)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := ops.Get(ms.urls[lead] + "/api/v1/masters")
		if err == nil {
			var v struct{ Leader uint64 }
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if int(v.Leader) == next+1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the old leader did not rejoin as a follower of master %d", next+1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "long"}}})
	g.until("long", "TASK_KILLED")
}

// A leader stopped (SIGSTOP: cut off from its peers and clients) accepts
// nothing; the others elect a leader that serves; continued, the old one
// follows the new leader and redirects to it, and it holds the registry
// the new leader wrote meanwhile.
func TestStoppedLeaderStepsDown(t *testing.T) {
	ms := startMasters(t, 3)
	lead := ms.leader(-1)
	_ = ms.procs[lead].cmd.Process.Signal(syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			_ = ms.procs[lead].cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	time.Sleep(100 * time.Millisecond) // the signal is delivered
	hc := *ops
	hc.Timeout = time.Second
	if resp, err := hc.Get(ms.urls[lead] + "/state"); err == nil {
		resp.Body.Close()
		t.Errorf("the stopped leader answered: %s", resp.Status)
	}
	next := ms.leader(lead)
	f := subscribe(t, ms.urls[next], "after", "", 60)
	_ = ms.procs[lead].cmd.Process.Signal(syscall.SIGCONT)
	stopped = false
	deadline := time.Now().Add(10 * time.Second)
	noRedirect := *ops
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for {
		resp, err := noRedirect.Get(ms.urls[lead] + "/state")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusTemporaryRedirect && resp.Header.Get("Location") == ms.urls[next]+"/state" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the continued old leader does not redirect to master %d", next+1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := &cluster{t: t, url: ms.urls[lead]} // its /state redirects to the leader
	c.waitFor("the framework of the new leader", func(st masterState) bool { return len(st.Frameworks) == 1 && st.Frameworks[0].ID == f.id })
}

func firstKey[K comparable, V any](m map[K]V) K {
	for k := range m {
		return k
	}
	var zero K
	return zero
}

func (s masterState) hasTask(id, state string) bool {
	for _, t := range s.Tasks {
		if t.ID == id && t.State == state {
			return true
		}
	}
	return false
}
