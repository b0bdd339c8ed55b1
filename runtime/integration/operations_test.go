package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// subscribeRole subscribes a framework of role as ops (id: resubscribe).
func subscribeRole(t *testing.T, url, name, role, id string) *rawFramework {
	t.Helper()
	info := api.FrameworkInfo{Name: name, Roles: []string{role}, FailoverTimeout: 300}
	if id != "" {
		info.ID = &api.ID{Value: id}
	}
	body, _ := json.Marshal(api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}})
	return subscribeBody(t, url, body)
}

// accept posts an ACCEPT of one offer.
func (f *rawFramework) accept(o api.Offer, ops ...api.Operation) {
	f.t.Helper()
	if code, body := f.call(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID}, Operations: ops}}); code != http.StatusAccepted {
		f.t.Fatalf("accept: %d %s", code, body)
	}
}

// offerOf waits for an offer that holds exactly res, declining (with no
// filter) the ones that do not.
func (f *rawFramework) offerOf(res string) api.Offer {
	f.t.Helper()
	want := allocator.MustParseResources(res)
	var seen []string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, o := range f.next(api.EventOffers).Offers.Offers {
			got, err := api.ToResources("offer", o.Resources)
			if err == nil && got.Equal(want) {
				return o
			}
			seen = append(seen, got.String())
			zero := 0.0
			f.call(api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{o.ID}, Filters: &api.Filters{RefuseSeconds: &zero}}})
		}
	}
	f.t.Fatalf("no offer of %s; offers: %v", res, seen)
	return api.Offer{}
}

// operation is the next operation status.
func (f *rawFramework) operation() api.OperationStatus {
	f.t.Helper()
	return f.next(api.EventUpdateOperationStatus).UpdateOperationStatus.Status
}

func scalars(res string) []api.Resource { return api.FromResources(allocator.MustParseResources(res)) }

// A task group of three real processes starts together on one agent, each
// task in its own process with its own updates; when one fails, the agent
// kills the two others, as Mesos' default executor does; a KILL of one
// task of another group kills that group. The executor's resources are
// held until the last task ends.
func TestLaunchGroupOneFailsOthersKilled(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:4;mem:2048", t.TempDir())
	f := subscribe(t, c.url, "groups", "", 0)
	exec := &api.ExecutorInfo{Type: api.ExecutorDefault, ExecutorID: api.ID{Value: "pod-1"}, Resources: scalars("cpus:0.1;mem:32")}
	task := func(id, cmd string) api.TaskInfo {
		return api.TaskInfo{Name: id, TaskID: api.ID{Value: id}, Resources: scalars("cpus:0.5;mem:64"), Command: &api.CommandInfo{Value: cmd}}
	}
	o := f.next(api.EventOffers).Offers.Offers[0]
	f.accept(o, api.Operation{Type: api.OpLaunchGroup, LaunchGroup: &api.LaunchGroup{Executor: exec, TaskGroup: &api.TaskGroupInfo{Tasks: []api.TaskInfo{
		task("fails", "sleep 2; exit 3"), task("server", "sleep 60"), task("sidecar", "trap '' TERM; sleep 60")}}}})
	states := map[string][]string{}
	msgs := map[string]string{}
	for len(states["fails"]) < 2 || len(states["server"]) < 2 || len(states["sidecar"]) < 2 {
		s := f.next(api.EventUpdate).Update.Status
		f.call(api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: *s.AgentID, TaskID: s.TaskID, UUID: s.UUID}})
		states[s.TaskID.Value] = append(states[s.TaskID.Value], s.State)
		msgs[s.TaskID.Value] = s.Message
		if s.State == "TASK_RUNNING" && len(states) == 3 && len(states["fails"]) == 1 {
			pids := map[int]bool{}
			for _, id := range []string{"fails", "server", "sidecar"} {
				pids[findTask(t, c, "a1", id).Pid] = true
			}
			if len(pids) != 3 {
				t.Errorf("the group's tasks run in %d processes; want one each", len(pids))
			}
		}
	}
	want := map[string][]string{"fails": {"TASK_RUNNING", "TASK_FAILED"}, "server": {"TASK_RUNNING", "TASK_KILLED"}, "sidecar": {"TASK_RUNNING", "TASK_KILLED"}}
	for id, w := range want {
		if strings.Join(states[id], " ") != strings.Join(w, " ") {
			t.Errorf("task %s: %v, want %v", id, states[id], w)
		}
	}
	for _, id := range []string{"server", "sidecar"} {
		if !strings.Contains(msgs[id], "killed with its task group: task fails ended TASK_FAILED") {
			t.Errorf("task %s ended with %q; want it to say its group was killed", id, msgs[id])
		}
	}
	c.waitFor("the group's and its executor's resources to be freed", func(st masterState) bool { return st.Resources.Used["cpus"] == 0 })

	exec.ExecutorID.Value = "pod-2"
	o = f.next(api.EventOffers).Offers.Offers[0]
	f.accept(o, api.Operation{Type: api.OpLaunchGroup, LaunchGroup: &api.LaunchGroup{Executor: exec, TaskGroup: &api.TaskGroupInfo{Tasks: []api.TaskInfo{
		task("one", "sleep 60"), task("two", "sleep 60")}}}})
	f.until("one", "TASK_RUNNING")
	st := c.waitFor("the second group to run", func(st masterState) bool { return st.hasTask("two", "TASK_RUNNING") })
	if used := st.Resources.Used["cpus"]; used != 1.1 {
		t.Errorf("used cpus %v while the group runs; want its tasks' and executor's 1.1", used)
	}
	f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: "one"}}})
	c.waitFor("KILL of one task to kill its group", func(st masterState) bool {
		return !st.hasTask("one", "TASK_RUNNING") && !st.hasTask("two", "TASK_RUNNING") && st.Resources.Used["cpus"] == 0
	})
}

// RESERVE of part of an offer for the framework's role: the reservation
// is in /state, offered back to that role only (another role's framework
// gets the rest), kept across a kill -9 of the master, and UNRESERVE
// gives it back to every role.
func TestReserveOfferedToTheRoleThenUnreserve(t *testing.T) {
	dir := t.TempDir()
	c := startMaster(t, "--data-dir", dir+"/master", "--agent-timeout", "5s")
	c.startAgent("a1", "cpus:4;mem:2048", dir+"/a1")
	web := subscribeRole(t, c.url, "web", "web", "")
	reserved := func(res string) []api.Resource {
		rs := scalars(res)
		for i := range rs {
			rs[i].Role, rs[i].Reservation = "web", &api.ReservationInfo{Principal: "ops"}
		}
		return rs
	}
	o := web.next(api.EventOffers).Offers.Offers[0]
	web.accept(o, api.Operation{Type: api.OpReserve, ID: &api.ID{Value: "r1"}, Reserve: &api.Reserve{Resources: reserved("cpus:2;mem:512")}})
	if s := web.operation(); s.State != api.OperationFinished || s.OperationID.Value != "r1" {
		t.Fatalf("RESERVE: %+v", s)
	}
	type withReservations struct {
		Agents []struct {
			ID           string                                        `json:"id"`
			Reservations []struct{ Role, Principal, Resources string } `json:"reservations"`
		} `json:"agents"`
	}
	checkState := func(when string) {
		t.Helper()
		var st withReservations
		c.stateAs(&st)
		if r := st.Agents[0].Reservations; len(r) != 1 || r[0].Role != "web" || r[0].Principal != "ops" || r[0].Resources != "cpus:2;mem:512" {
			t.Fatalf("%s: /state's reservations of a1: %+v", when, r)
		}
	}
	checkState("after RESERVE")
	web.call(api.Call{Type: api.CallSuppress})

	batch := subscribeRole(t, c.url, "batch", "batch", "")
	bo := batch.offerOf("cpus:2;mem:1536")
	zero := 0.0
	batch.call(api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{bo.ID}, Filters: &api.Filters{RefuseSeconds: &zero}}})
	batch.call(api.Call{Type: api.CallSuppress})

	c.master.kill9()
	c.restartMaster("--data-dir", dir+"/master", "--agent-timeout", "5s")
	c.waitFor("agent a1 back", func(st masterState) bool { a := st.agent("a1"); return a != nil && a.Connected })
	checkState("after the master's restart")
	web = subscribeRole(t, c.url, "web", "web", web.id)
	wo := web.offerOf("cpus:2;mem:1536;cpus(web):2;mem(web):512")
	for _, r := range wo.Resources {
		if r.Role == "web" && (r.Reservation == nil || r.Reservation.Principal != "ops") {
			t.Errorf("reserved %+v is not marked as ops' dynamic reservation", r)
		}
	}
	web.accept(wo, api.Operation{Type: api.OpUnreserve, ID: &api.ID{Value: "u1"}, Unreserve: &api.Unreserve{Resources: reserved("cpus:2;mem:512")}})
	if s := web.operation(); s.State != api.OperationFinished {
		t.Fatalf("UNRESERVE: %+v", s)
	}
	web.call(api.Call{Type: api.CallSuppress})
	batch = subscribeRole(t, c.url, "batch", "batch", batch.id)
	batch.offerOf("cpus:4;mem:2048")
}

// The volume and disk operations apron does not do are dropped, as Mesos
// drops an operation it cannot apply: OPERATION_ERROR to an operation
// with an id, and the offer's resources back.
func TestUnsupportedOperationsDropped(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir())
	f := subscribe(t, c.url, "volumes", "", 0)
	for i, typ := range []string{api.OpCreate, api.OpDestroy, api.OpGrowVolume, api.OpShrinkVolume, api.OpCreateDisk, api.OpDestroyDisk} {
		o := f.next(api.EventOffers).Offers.Offers[0]
		op := fmt.Sprintf(`{"type":%q,"id":{"value":"op%d"},%q:{}}`, typ, i, strings.ToLower(typ))
		code, body := f.post([]byte(fmt.Sprintf(`{"type":"ACCEPT","framework_id":{"value":%q},"accept":{"offer_ids":[{"value":%q}],"operations":[%s],"filters":{"refuse_seconds":0}}}`, f.id, o.ID.Value, op)))
		if code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", typ, code, body)
		}
		s := f.operation()
		if s.State != api.OperationError || s.OperationID.Value != fmt.Sprint("op", i) || !strings.Contains(s.Message, typ+" is not supported") {
			t.Errorf("%s: %+v; want OPERATION_ERROR saying it is not supported", typ, s)
		}
	}
}

// docJSON is the ```json blocks of docs/api.md's section heading.
func docJSON(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/api.md has no %q", heading)
	}
	if i := strings.Index(section, "\n### "); i >= 0 {
		section = section[:i]
	}
	var out []string
	for _, part := range strings.Split(section, "```json\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatalf("docs/api.md %s: a json block that never closes", heading)
		}
		out = append(out, block)
	}
	return out
}

// The operations' examples in docs/api.md, sent as written (with the
// framework, offer and agent of a real subscription): the task group
// runs, the RESERVE and UNRESERVE are finished, and the status example is
// what the master sends.
func TestAPIDocOperations(t *testing.T) {
	c := startMaster(t)
	c.startAgent("agent-1", "cpus:4;mem:2048", t.TempDir())
	f := subscribeRole(t, c.url, "docs", "web", "")
	blocks := docJSON(t, "### Operations")
	if len(blocks) != 4 {
		t.Fatalf("docs/api.md's operations have %d json examples; want the group, RESERVE, UNRESERVE and a status", len(blocks))
	}
	post := func(body string) {
		t.Helper()
		o := f.next(api.EventOffers).Offers.Offers[0]
		body = strings.NewReplacer("$FW", f.id, "$OFFER", o.ID.Value, "$AGENT", o.AgentID.Value).Replace(body)
		if code, resp := f.post([]byte(body)); code != http.StatusAccepted {
			t.Fatalf("%d %s\n%s", code, resp, body)
		}
	}
	post(blocks[0])
	f.until("pod-1.server", "TASK_RUNNING")
	c.waitFor("the group to run", func(st masterState) bool { return st.hasTask("pod-1.sidecar", "TASK_RUNNING") })
	var want api.Event
	if err := json.Unmarshal([]byte(blocks[3]), &want); err != nil {
		t.Fatalf("the status example: %v", err)
	}
	for i, id := range []string{"reserve-1", "unreserve-1"} {
		post(blocks[1+i])
		s := f.operation()
		if s.State != api.OperationFinished || s.OperationID.Value != id {
			t.Fatalf("%s: %+v", id, s)
		}
		if id == "reserve-1" {
			got, _ := json.Marshal(s)
			exp, _ := json.Marshal(want.UpdateOperationStatus.Status)
			if string(got) != string(exp) {
				t.Errorf("the master sent\n%s\nthe doc shows\n%s", got, exp)
			}
		}
	}
}
