package core

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/mesos")

// mesosInfo is what the shell would say of the master, fixed.
var mesosInfo = MesosInfo{
	Version:  VersionInfo{Version: api.MesosVersion, BuildDate: "2023-11-14 22:00:00", BuildTime: 1699999200, GitSHA: "0123456789abcdef0123456789abcdef01234567", GitTag: "v1.2.0"},
	Hostname: "master.example", Address: "127.0.0.1:5050", Started: time.Unix(1_699_999_990, 0),
}

// mesosCluster is a core at a fixed clock with what the Mesos views
// show: two agents (one with attributes, a static reservation and a
// dynamic one), a framework
// of the default role with a running, a finished (acknowledged) and an
// unreachable-to-be task and a task group's, a multi-role framework with a running task, a
// torn-down framework with its completed task, and outstanding offers.
// The fws are the framework ids: batch, web, gone.
func mesosCluster(t *testing.T) (r *rig, fws [3]string) {
	t.Helper()
	r = newRig(t, Config{ID: "20231114-221320.000", AgentTimeout: 10 * time.Second,
		Policy: allocator.Config{Seed: 7, Roles: []allocator.RoleConfig{{Name: "web", Weight: 2, Guarantee: allocator.MustParseResources("cpus:1"), Limit: allocator.MustParseResources("cpus:3")}}}})
	for _, a := range []api.AgentSubscribe{
		{Name: "a1", Hostname: "a1.example", URL: "https://10.0.0.1:5051", Isolation: "cgroups",
			Resources: api.FromResources(allocator.MustParseResources("cpus:4;mem:4096;disk:10000;cpus(web):1")), Attributes: map[string]string{"rack": "r1", "zone": "2"}},
		{Name: "a2", Hostname: "a2.example", URL: "https://10.0.0.2:5051", Isolation: "cgroups", Resources: api.FromResources(allocator.MustParseResources("cpus:2;mem:2048;disk:5000"))},
	} {
		if ref := r.c.AgentSubscribe(r.now, r.stream(), "", &a); ref != nil {
			t.Fatal(ref)
		}
		r.drain()
		r.advance(time.Second)
	}
	batch, bs := r.framework(api.FrameworkInfo{Name: "batch", User: "alice", Principal: "alice", Hostname: "sched.example", FailoverTimeout: 3600,
		Capabilities: []api.Capability{{Type: api.PartitionAware}}})
	web, ws := r.framework(api.FrameworkInfo{Name: "web", Principal: "bob", Roles: []string{"web", "web/api"}, Capabilities: []api.Capability{{Type: "MULTI_ROLE"}}})
	gone, gs := r.framework(api.FrameworkInfo{Name: "gone", Principal: "carol", FailoverTimeout: 60})
	r.advance(time.Second)
	used := map[string]bool{}
	// use sends call on an outstanding offer of fw (to role, if given)
	// that holds need.
	use := func(fw, stream, role string, need allocator.Resources, call func(offer string) api.Call) {
		t.Helper()
		for _, e := range r.events(stream, api.EventOffers) {
			for _, o := range e.Offers.Offers {
				have, _ := api.ToResources("", o.Resources)
				if used[o.ID.Value] || !have.Contains(need) || role != "" && o.Role() != role {
					continue
				}
				used[o.ID.Value] = true
				if ref := r.call(fw, stream, call(o.ID.Value)); ref != nil {
					t.Fatal(ref)
				}
				r.advance(time.Second)
				return
			}
		}
		t.Fatalf("%s got no offer of %s", fw, need)
	}
	launch := func(fw, stream, res string, ids ...string) {
		t.Helper()
		var tasks []api.TaskInfo
		for _, id := range ids {
			tasks = append(tasks, taskInfo(id, res))
		}
		use(fw, stream, "", allocator.MustParseResources(res).Times(len(ids)), func(offer string) api.Call { return launchCall([]string{offer}, tasks...) })
	}
	// batch launches t1 and t2 and a task group (p1, its DEFAULT executor
	// pod) in one ACCEPT.
	use(batch, bs, "", allocator.MustParseResources("cpus:2.6;mem:608"), func(offer string) api.Call {
		return accept(offer, api.Operation{Type: api.OpLaunch, Launch: &api.Launch{TaskInfos: []api.TaskInfo{taskInfo("t1", "cpus:1;mem:256"), taskInfo("t2", "cpus:1;mem:256")}}},
			groupOp(defaultExecutor("pod"), taskInfo("p1", "cpus:0.5;mem:64")))
	})
	launch(web, ws, "cpus:1;mem:256;disk:100", "w1")
	launch(gone, gs, "cpus:0.5", "g1")
	// web reserves mem:512 of an offer to role web: a dynamic reservation by bob.
	use(web, ws, "web", allocator.MustParseResources("mem:512"), func(offer string) api.Call {
		return accept(offer, reserveOp(dynamic("mem:512", "web", "bob")))
	})
	for _, s := range []struct{ fw, task, state, uuid string }{
		{batch, "t1", TaskRunning, "u1"}, {batch, "t2", TaskRunning, "u2"}, {batch, "t2", TaskFinished, "u3"}, {batch, "p1", TaskRunning, "u6"},
		{web, "w1", TaskRunning, "u4"}, {gone, "g1", TaskRunning, "u5"},
	} {
		agent := r.task(s.fw, s.task).AgentID
		if ref := r.status(agent, s.fw, s.task, s.state, "", s.uuid); ref != nil {
			t.Fatal(ref)
		}
		r.advance(500 * time.Millisecond)
	}
	ack := api.Acknowledge{AgentID: api.ID{Value: r.task(batch, "t2").AgentID}, TaskID: api.ID{Value: "t2"}, UUID: uid("u3")}
	if ref := r.call(batch, bs, api.Call{Type: api.CallAcknowledge, Acknowledge: &ack}); ref != nil {
		t.Fatal(ref)
	}
	if ref := r.call(gone, gs, api.Call{Type: api.CallTeardown}); ref != nil {
		t.Fatal(ref)
	}
	r.advance(2 * time.Second)
	return r, [3]string{batch, web, gone}
}

// golden compares got, indented, with testdata/mesos/name, or writes it
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	b.WriteByte('\n')
	path := filepath.Join("testdata", "mesos", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, b.Bytes())
	}
}

// The read-only endpoints of a deterministic cluster, as golden files.
func TestMesosEndpointsGolden(t *testing.T) {
	r, fws := mesosCluster(t)
	golden(t, "master_state.json", r.c.AppendMesosState(nil, mesosInfo))
	golden(t, "master_slaves.json", r.c.AppendMesosSlaves(nil, mesosInfo, ""))
	golden(t, "master_frameworks.json", r.c.AppendMesosFrameworks(nil, fws[1]))
	golden(t, "master_tasks.json", r.c.AppendMesosTasks(nil, TasksQuery{Limit: 100, Desc: true}))
	golden(t, "master_roles.json", r.c.MesosRoles())
	golden(t, "metrics_snapshot.json", mustJSON(r.c.MesosMetrics(90*time.Second, CycleStats{Runs: 7, Last: 1500 * time.Microsecond})))
}

// Each read call of the operator API, as golden files.
func TestOperatorGolden(t *testing.T) {
	r, _ := mesosCluster(t)
	for _, call := range []string{GetState, GetAgents, GetFrameworks, GetExecutors, GetOperations, GetTasks, GetRoles, GetWeights, GetMaster, GetQuota} {
		out, ok := r.c.OperatorGet(nil, call, mesosInfo)
		if !ok {
			t.Fatalf("%s: not answered", call)
		}
		golden(t, "operator/"+call+".json", out)
	}
	if _, ok := r.c.OperatorGet(nil, "GET_FLAGS", mesosInfo); ok {
		t.Error("GET_FLAGS answered; the core does not serve it")
	}
}
