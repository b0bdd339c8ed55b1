package core

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

func scalarMap(kv ...any) map[string]api.Scalar {
	m := map[string]api.Scalar{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = api.Scalar{Value: kv[i+1].(float64)}
	}
	return m
}

func roleConfigOf(c *Core, name string) (allocator.RoleConfig, bool) {
	for _, r := range c.alloc.Config().Roles {
		if r.Name == name {
			return r, true
		}
	}
	return allocator.RoleConfig{}, false
}

// UPDATE_WEIGHTS and UPDATE_QUOTA are policy swaps: queued, then applied
// at the next allocation cycle, with their source, and they add up when
// made in one cycle; GET_WEIGHTS and GET_QUOTA show what is in force.
func TestOperatorPolicyUpdates(t *testing.T) {
	r := newRig(t, Config{Policy: allocator.Config{Policy: "drf", Roles: []allocator.RoleConfig{{Name: "web", Weight: 2}}}})
	r.agent("a1", "cpus:8;mem:8192", nil)
	if ref := r.c.UpdateWeights(r.now, "", []WeightInfo{{Role: "*", Weight: 3}, {Role: "batch", Weight: 0.5}}); ref != nil {
		t.Fatal(ref)
	}
	if ref := r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "web", Guarantees: scalarMap("cpus", 2.0), Limits: scalarMap("cpus", 4.0, "mem", 4096.0)}}, false); ref != nil {
		t.Fatal(ref)
	}
	if v := r.c.PolicyView(); v.Pending != SourceUpdateQuota {
		t.Fatalf("pending %q, want %s queued", v.Pending, SourceUpdateQuota)
	}
	r.advance(time.Millisecond)
	if v := r.c.PolicyView(); v.Source != SourceUpdateQuota || v.Pending != "" {
		t.Fatalf("after a cycle: source %q pending %q", v.Source, v.Pending)
	}
	for role, want := range map[string]float64{"default": 3, "batch": 0.5, "web": 2} {
		if rc, _ := roleConfigOf(r.c, role); rc.Weight != want {
			t.Errorf("role %s weight %v, want %v (the weights of one cycle add up)", role, rc.Weight, want)
		}
	}
	web, _ := roleConfigOf(r.c, "web")
	if web.Guarantee.String() != "cpus:2" || web.Limit.String() != "cpus:4;mem:4096" {
		t.Errorf("web's quota %s / %s", web.Guarantee, web.Limit)
	}
	out, _ := r.c.OperatorGet(nil, GetWeights, mesosInfo)
	for _, want := range []string{`{"weight":3,"role":"*"}`, `{"weight":0.5,"role":"batch"}`, `{"weight":2,"role":"web"}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("GET_WEIGHTS lacks %s:\n%s", want, out)
		}
	}
	out, _ = r.c.OperatorGet(nil, GetQuota, mesosInfo)
	if !strings.Contains(string(out), `"configs":[{"role":"web","guarantees":{"cpus":{"value":2}},"limits":{"cpus":{"value":4},"mem":{"value":4096}}}]`) {
		t.Errorf("GET_QUOTA:\n%s", out)
	}
	// A quota with neither guarantees nor limits is no quota; a weight of
	// 1 is the default: the role goes from the policy.
	if ref := r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "web"}}, false); ref != nil {
		t.Fatal(ref)
	}
	if ref := r.c.UpdateWeights(r.now, "", []WeightInfo{{Role: "web", Weight: 1}}); ref != nil {
		t.Fatal(ref)
	}
	r.advance(time.Millisecond)
	if rc, ok := roleConfigOf(r.c, "web"); ok {
		t.Errorf("web still listed, %+v", rc)
	}
}

func TestOperatorPolicyRefusals(t *testing.T) {
	r := newRig(t, Config{})
	r.agent("a1", "cpus:4;mem:4096", nil)
	fw, fs := r.framework(api.FrameworkInfo{Name: "f", Roles: []string{"web"}})
	r.advance(time.Millisecond)
	if ref := r.call(fw, fs, launchCall([]string{r.lastOffer(fs).ID.Value}, taskInfo("t1", "cpus:2;mem:512"))); ref != nil {
		t.Fatal(ref)
	}
	for _, tt := range []struct {
		name  string
		ref   *Refusal
		field string
		says  string
	}{
		{"no role", r.c.UpdateWeights(r.now, "", []WeightInfo{{Weight: 2}}), "update_weights.weight_infos[0].role", "empty role"},
		{"zero weight", r.c.UpdateWeights(r.now, "", []WeightInfo{{Role: "web"}, {Role: "a", Weight: 0}}), "update_weights.weight_infos[0].weight", "weights must be positive"},
		{"bad role", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "a b"}}, false), "update_quota.quota_configs[0].role", "may hold only"},
		{"negative", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "x", Guarantees: scalarMap("cpus", -1.0)}}, false), "update_quota.quota_configs[0].guarantees", "want a number from 0"},
		{"huge", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "x", Limits: scalarMap("mem", 2e12)}}, false), "update_quota.quota_configs[0].limits", "1.099511627776e+12"},
		{"zero limit", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "x", Limits: scalarMap("gpus", 0.0)}}, false), "update_quota.quota_configs[0].limits", "a limit of 0 is not supported"},
		{"guarantee over limit", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "x", Guarantees: scalarMap("cpus", 2.0), Limits: scalarMap("cpus", 1.0)}}, false),
			"update_quota.quota_configs[0].guarantees", "exceeds its limit"},
		{"limit under consumption", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "web", Limits: scalarMap("cpus", 1.0)}}, false),
			"update_quota.quota_configs[0].limits", `role "web" already consumes cpus:2;mem:512`},
		{"beyond capacity", r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "x", Guarantees: scalarMap("cpus", 3.0)}, {Role: "y", Guarantees: scalarMap("cpus", 2.0)}}, false),
			"update_quota.quota_configs", "exceed the cluster's capacity cpus:4;mem:4096"},
	} {
		if tt.ref == nil || tt.ref.Code != http.StatusBadRequest || tt.ref.Field != tt.field || !strings.Contains(tt.ref.Message, tt.says) {
			t.Errorf("%s: %+v; want 400 on %s saying %q", tt.name, tt.ref, tt.field, tt.says)
		}
	}
	if v := r.c.PolicyView(); v.Pending != "" {
		t.Fatalf("a refused call queued %q", v.Pending)
	}
	// force bypasses what Mesos' force bypasses.
	if ref := r.c.UpdateQuota(r.now, "", []QuotaConfig{{Role: "web", Limits: scalarMap("cpus", 1.0)}, {Role: "x", Guarantees: scalarMap("cpus", 9.0)}}, true); ref != nil {
		t.Errorf("forced: %v", ref)
	}
}

// UPDATE_WEIGHTS and UPDATE_QUOTA are authorised as a policy change of
// their part: ops may change weights only (testACLs).
func TestOperatorPolicyACLs(t *testing.T) {
	r := newRig(t, Config{Authorizer: testACLs(t)})
	if ref := r.c.UpdateWeights(r.now, "ops", []WeightInfo{{Role: "web", Weight: 2}}); ref != nil {
		t.Errorf("ops changing weights: %v", ref)
	}
	ref := r.c.UpdateQuota(r.now, "ops", []QuotaConfig{{Role: "web", Guarantees: scalarMap("cpus", 0.0)}, {Role: "web", Limits: scalarMap("cpus", 1.0)}}, true)
	wantDenied(t, ref, "quota")
	wantDenied(t, r.c.UpdateWeights(r.now, "alice", []WeightInfo{{Role: "web", Weight: 3}}), "weights")
	// Even a change to nothing needs the right: each call swaps the policy.
	wantDenied(t, r.c.UpdateQuota(r.now, "ops", nil, false), "quota")
}

// A task's cached JSON follows its state; tasks page and filter as
// Mesos' /master/tasks; unreachable tasks are listed apart.
func TestMesosTaskViews(t *testing.T) {
	r, fws := mesosCluster(t)
	page := func(q TasksQuery) []string {
		var v struct{ Tasks []modelTask }
		if err := json.Unmarshal(r.c.AppendMesosTasks(nil, q), &v); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tk := range v.Tasks {
			ids = append(ids, tk.ID+":"+tk.State)
		}
		return ids
	}
	if got := strings.Join(page(TasksQuery{Limit: 2, Offset: 1}), " "); got != "t2:TASK_FINISHED p1:TASK_RUNNING" {
		t.Errorf("ascending, offset 1, limit 2: %s", got)
	}
	if got := strings.Join(page(TasksQuery{Limit: 10, Desc: true, FrameworkID: fws[0]}), " "); got != "p1:TASK_RUNNING t2:TASK_FINISHED t1:TASK_RUNNING" {
		t.Errorf("batch's tasks, newest first: %s", got)
	}
	if got := page(TasksQuery{Limit: 10, TaskID: "w1"}); len(got) != 1 || got[0] != "w1:TASK_RUNNING" {
		t.Errorf("task_id w1: %v", got)
	}
	if got := page(TasksQuery{Limit: 10, Offset: 99}); len(got) != 0 {
		t.Errorf("past the end: %v", got)
	}
	before := string(r.task(fws[1], "w1").modelJSON())
	if ref := r.status("a2", fws[1], "w1", TaskFailed, "", "u9"); ref != nil {
		t.Fatal(ref)
	}
	after := string(r.task(fws[1], "w1").modelJSON())
	if before == after || !strings.Contains(after, `"state":"TASK_FAILED"`) || !strings.Contains(string(r.task(fws[1], "w1").v1JSON(nil)), `"state":"TASK_FAILED"`) {
		t.Errorf("the cached JSON did not follow the task:\n%s\n%s", before, after)
	}
	// a1 stops heartbeating: batch's t1 and p1 (partition aware) are unreachable.
	r.advance(30 * time.Second)
	var st struct {
		UnreachableSlaves int `json:"unreachable_slaves"`
		Slaves            []modelSlave
		Frameworks        []struct {
			ID               string
			Tasks            []modelTask
			UnreachableTasks []modelTask `json:"unreachable_tasks"`
		}
	}
	if err := json.Unmarshal(r.c.AppendMesosState(nil, mesosInfo), &st); err != nil {
		t.Fatal(err)
	}
	if st.UnreachableSlaves != 2 || len(st.Slaves) != 0 {
		t.Errorf("unreachable agents: %d listed, %d counted, want 0 and 2", len(st.Slaves), st.UnreachableSlaves)
	}
	if f := st.Frameworks[0]; len(f.Tasks) != 0 || len(f.UnreachableTasks) != 2 || f.UnreachableTasks[1].ID != "p1" || f.UnreachableTasks[1].ExecutorID != "pod" || f.UnreachableTasks[1].State != TaskUnreachable {
		t.Errorf("batch's tasks %v, unreachable %v", f.Tasks, f.UnreachableTasks)
	}
}

// A framework known only from the registry, not resubscribed since this
// master took over, is recovered; one that subscribed to it is not.
func TestMesosRecoveredFrameworks(t *testing.T) {
	r, fws := mesosCluster(t)
	c, err := Recover(r.c.cfg, r.c.reg, r.now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f := c.reg.frameworks[fws[0]]
	if !c.recovered(f) {
		t.Error("a framework of the registry, not resubscribed, is not recovered")
	}
	if _, ref := c.Subscribe(r.now.Add(2*time.Minute), "s-new", f.Info); ref != nil {
		t.Fatal(ref)
	}
	c.FrameworkGone(r.now.Add(3*time.Minute), "s-new")
	if c.recovered(f) {
		t.Error("a framework that resubscribed to this master, then left, is still recovered")
	}
	// A master that started with no memory adopts a framework from the
	// tasks an agent reports: recovered, until it subscribes.
	r = newRig(t, Config{})
	r.advance(time.Minute)
	r.agent("a1", "cpus:2;mem:2048", []api.AgentTask{{FrameworkID: "fx", Task: taskInfo("t1", "cpus:1;mem:128"), State: TaskRunning, Role: "default"}})
	if f := r.c.reg.frameworks["fx"]; f == nil || !r.c.recovered(f) {
		t.Errorf("a framework adopted from an agent's tasks: %v, want it recovered", f)
	}
}

func TestAttributesAsMesosWritesThem(t *testing.T) {
	got := attributes(map[string]string{"rack": "r1", "zone": "2", "ratio": "0.5", "ports": "[1-2]"})
	want := map[string]any{"rack": "r1", "zone": 2.0, "ratio": 0.5, "ports": "[1-2]"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %#v, want %#v", k, got[k], v)
		}
	}
}
