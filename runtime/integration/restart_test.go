package integration

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// After kill -9 of the master and a restart on the same address, every
// agent re-registers within 10 s with its tasks still running; the
// framework resubscribes with its id, keeps its task and can kill it.
func TestMasterRestart(t *testing.T) {
	c := startMaster(t, "--agent-timeout", "5s")
	dir := t.TempDir()
	c.startAgent("a1", "cpus:1;mem:64", dir+"/a1")
	c.startAgent("a2", "cpus:1;mem:64", dir+"/a2")
	f := subscribe(t, c.url, "keeper", "", 300)
	c.waitFor("both agents", func(st masterState) bool { return len(st.Agents) == 2 })
	var offers []api.Offer
	for len(offers) < 2 {
		offers = append(offers, f.next(api.EventOffers).Offers.Offers...)
	}
	var pids []int
	for i, o := range offers[:2] {
		id := fmt.Sprintf("long-%d", i+1)
		f.call(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID}, Operations: []api.Operation{{Type: "LAUNCH",
			Launch: &api.Launch{TaskInfos: []api.TaskInfo{{Name: id, TaskID: api.ID{Value: id}, AgentID: o.AgentID, Command: &api.CommandInfo{Value: "sleep 60"},
				Resources: o.Resources}}}}}}})
		f.until(id, "TASK_RUNNING")
		pids = append(pids, findTask(t, c, o.AgentID.Value, id).Pid)
	}

	c.master.kill9()
	restarted := time.Now()
	c.restartMaster("--agent-timeout", "5s")
	st := c.waitFor("both agents back with their tasks", func(st masterState) bool {
		running := 0
		for _, tk := range st.Tasks {
			if tk.State == "TASK_RUNNING" {
				running++
			}
		}
		a1, a2 := st.agent("a1"), st.agent("a2")
		return a1 != nil && a2 != nil && a1.Connected && a2.Connected && running == 2
	})
	if took := time.Since(restarted); took > 10*time.Second {
		t.Errorf("the agents re-registered %v after the restart; want within 10s", took)
	}
	for _, pid := range pids {
		if pid == 0 || syscall.Kill(pid, 0) != nil {
			t.Errorf("task process %d does not run after the master restarted", pid)
		}
	}
	t.Logf("agents back %v after the restart: %d tasks", time.Since(restarted).Round(time.Millisecond), len(st.Tasks))

	g := subscribe(t, c.url, "keeper", f.id, 300)
	if g.id != f.id {
		t.Fatalf("resubscribed as %s, want %s", g.id, f.id)
	}
	g.call(api.Call{Type: api.CallReconcile, Reconcile: &api.Reconcile{}})
	g.until("long-1", "TASK_RUNNING")
	g.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "long-1"}}})
	g.until("long-1", "TASK_KILLED")
	if p, _ := os.FindProcess(pids[0]); p != nil && syscall.Kill(pids[0], 0) == nil {
		time.Sleep(500 * time.Millisecond)
		if syscall.Kill(pids[0], 0) == nil {
			t.Errorf("killed task's process %d still runs", pids[0])
		}
	}
}
