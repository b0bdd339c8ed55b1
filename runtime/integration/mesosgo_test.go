package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpsched"
	mesosmaster "github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/resources"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/apronlab/apron/runtime/api"
)

// mesosGo is a framework that is mesos-go v0.0.11's v1 scheduler client,
// unmodified: httpsched over httpcli with the JSON codec, TLS verified
// with the cluster's CA, HTTP basic authentication as principal alice.
type mesosGo struct {
	t      *testing.T
	c      *cluster
	caller calls.Caller
	id     string
	events chan *scheduler.Event
	ended  chan error // the stream's end
	offers []mesos.Offer
	uuids  map[string][]byte // task -> the uuid of its last update
}

func newMesosGo(t *testing.T, c *cluster) *mesosGo {
	cred, err := secrets.Client("alice")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := secrets.Identity("alice")
	cl := httpcli.New(
		httpcli.Endpoint(c.url+"/api/v1/scheduler"),
		httpcli.Codec(codecs.ByMediaType[codecs.MediaTypeJSON]),
		httpcli.Do(httpcli.With(httpcli.TLSConfig(cred.TLS().Clone()), httpcli.BasicAuth(id.Principal, id.Secret), httpcli.Timeout(10*time.Second))),
	)
	return &mesosGo{t: t, c: c, caller: httpsched.NewCaller(cl), events: make(chan *scheduler.Event, 1024), ended: make(chan error, 1),
		uuids: map[string][]byte{}}
}

// subscribe opens the event stream and reads it until it ends.
func (m *mesosGo) subscribe(info *mesos.FrameworkInfo) {
	m.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m.t.Cleanup(cancel)
	resp, err := m.caller.Call(ctx, calls.Subscribe(info))
	if err != nil {
		m.t.Fatalf("mesos-go's SUBSCRIBE: %v", err)
	}
	go func() {
		defer resp.Close()
		for {
			e := new(scheduler.Event)
			if err := resp.Decode(e); err != nil {
				m.ended <- err
				close(m.events)
				return
			}
			m.events <- e
		}
	}()
}

// call sends a call of the framework with mesos-go's caller.
func (m *mesosGo) call(c *scheduler.Call) error {
	resp, err := m.caller.Call(context.Background(), c.With(calls.Framework(m.id)))
	if resp != nil {
		resp.Close()
	}
	return err
}

func (m *mesosGo) mustCall(c *scheduler.Call) {
	m.t.Helper()
	if err := m.call(c); err != nil {
		m.t.Fatalf("mesos-go's %s: %v", c.GetType(), err)
	}
}

// next returns the next event of the type within d, acknowledging every
// update that carries a uuid on the way (mesos-go's decoder would have
// failed on a reason or state not in Mesos' enums); nil after d.
func (m *mesosGo) next(typ scheduler.Event_Type, d time.Duration) *scheduler.Event {
	m.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-m.events:
			if !ok {
				m.t.Fatalf("the stream ended waiting for %s: %v", typ, <-m.ended)
			}
			switch e.GetType() {
			case scheduler.Event_OFFERS:
				m.offers = append(m.offers, e.GetOffers().GetOffers()...)
			case scheduler.Event_UPDATE:
				m.ack(e.GetUpdate().GetStatus())
			case scheduler.Event_ERROR:
				m.t.Fatalf("ERROR event: %s", e.GetError().GetMessage())
			}
			if e.GetType() == typ {
				return e
			}
		case <-timeout:
			return nil
		}
	}
}

func (m *mesosGo) must(typ scheduler.Event_Type) *scheduler.Event {
	m.t.Helper()
	e := m.next(typ, 20*time.Second)
	if e == nil {
		m.t.Fatalf("no %s within 20s", typ)
	}
	return e
}

func (m *mesosGo) ack(s mesos.TaskStatus) {
	m.t.Helper()
	if len(s.GetUUID()) == 0 {
		return
	}
	if len(s.GetUUID()) != 16 {
		m.t.Errorf("task %s: a uuid of %d bytes, want Mesos' 16", s.GetTaskID().Value, len(s.GetUUID()))
	}
	m.uuids[s.GetTaskID().Value] = s.GetUUID()
	m.mustCall(calls.Acknowledge(s.GetAgentID().GetValue(), s.GetTaskID().Value, s.GetUUID()))
}

// status waits for an update of a task in state.
func (m *mesosGo) status(task string, state mesos.TaskState) mesos.TaskStatus {
	m.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		e := m.next(scheduler.Event_UPDATE, time.Until(deadline))
		if e == nil {
			break
		}
		if s := e.GetUpdate().GetStatus(); s.GetTaskID().Value == task && s.GetState() == state {
			return s
		}
	}
	m.t.Fatalf("no %s of task %s within 20s", state, task)
	return mesos.TaskStatus{}
}

// offer takes an outstanding offer, waiting for one.
func (m *mesosGo) offer() mesos.Offer {
	m.t.Helper()
	if len(m.offers) == 0 {
		m.must(scheduler.Event_OFFERS)
	}
	o := m.offers[0]
	m.offers = m.offers[1:]
	return o
}

// declineAll gives back every outstanding offer, with no filter.
func (m *mesosGo) declineAll() {
	for _, o := range m.offers {
		m.mustCall(calls.Decline(o.ID).With(calls.RefuseSeconds(0)))
	}
	m.offers = nil
}

// states waits for an update of each task in its state, and returns them.
func (m *mesosGo) states(want map[string]mesos.TaskState) map[string]mesos.TaskStatus {
	m.t.Helper()
	got := map[string]mesos.TaskStatus{}
	for len(got) < len(want) {
		s := m.must(scheduler.Event_UPDATE).GetUpdate().GetStatus()
		if w, ok := want[s.TaskID.Value]; ok && s.GetState() == w {
			got[s.TaskID.Value] = s
		}
	}
	return got
}

// offerTo takes an outstanding offer to role, declining others, waiting
// for one.
func (m *mesosGo) offerTo(role string) mesos.Offer {
	m.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		o := m.offer()
		if o.GetAllocationInfo().GetRole() == role {
			return o
		}
		m.mustCall(calls.Decline(o.ID).With(calls.RefuseSeconds(0)))
	}
	m.t.Fatalf("no offer to role %s within 20s", role)
	return mesos.Offer{}
}

// operate accepts offer o with op, asking for its status (operation id),
// and waits for it to be OPERATION_FINISHED.
func (m *mesosGo) operate(o mesos.Offer, op mesos.Offer_Operation, id string) {
	m.t.Helper()
	op.ID = &mesos.OperationID{Value: id}
	m.mustCall(calls.Accept(calls.OfferOperations{op}.WithOffers(o.ID)).With(calls.RefuseSeconds(0)))
	s := m.must(scheduler.Event_UPDATE_OPERATION_STATUS).GetUpdateOperationStatus().GetStatus()
	if s.GetState() != mesos.OPERATION_FINISHED || s.GetOperationID().Value != id {
		m.t.Fatalf("%s %s: %v, want OPERATION_FINISHED", op.GetType(), id, s)
	}
}

// reserved is cpus and mem of an offer, reserved dynamically for its role
// by principal, in Mesos' format before reservation refinement.
func reserved(o mesos.Offer, principal string, cpus, mem float64) []mesos.Resource {
	role := o.GetAllocationInfo().GetRole()
	rs := []mesos.Resource{resources.NewCPUs(cpus).Resource, resources.NewMemory(mem).Resource}
	for i := range rs {
		rs[i].Allocate(role)
		rs[i].Role = &role
		rs[i].Reservation = &mesos.Resource_ReservationInfo{Principal: &principal}
	}
	return rs
}

// dynamicOnAgent counts the resources of the cluster's first agent that
// GET_AGENTS says are reserved dynamically for role by principal, in
// Mesos' endpoint format: the reservations stack, and role and
// reservation too.
func (c *cluster) dynamicOnAgent(role, principal string) int {
	c.t.Helper()
	var agents mesosmaster.Response
	c.operator(mesosmaster.Call_GET_AGENTS, &agents)
	n := 0
	for _, r := range agents.GetGetAgents().GetAgents()[0].GetTotalResources() {
		k := len(r.Reservations)
		if k > 0 && r.Reservations[k-1].GetType() == mesos.Resource_ReservationInfo_DYNAMIC && r.Reservations[k-1].GetRole() == role &&
			r.Reservations[k-1].GetPrincipal() == principal && r.GetRole() == role && r.GetReservation().GetPrincipal() == principal {
			n++
		}
	}
	return n
}

// operator posts a call of Mesos' operator API as the operator and
// decodes its answer into mesos-go's master.proto types.
func (c *cluster) operator(typ mesosmaster.Call_Type, into *mesosmaster.Response) {
	c.t.Helper()
	body, _ := json.Marshal(mesosmaster.Call{Type: typ})
	resp, err := ops.Post(c.url+"/api/v1", "application/json", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: %s", typ, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		c.t.Fatalf("%s: mesos-go cannot read the answer: %v", typ, err)
	}
}

// task is a task for an offer, of its resources allocated to its role.
func task(id string, o mesos.Offer, cpus, mem float64, cmd *mesos.CommandInfo) mesos.TaskInfo {
	rs := []mesos.Resource{resources.NewCPUs(cpus).Resource, resources.NewMemory(mem).Resource}
	for i := range rs {
		rs[i].Allocate(o.GetAllocationInfo().GetRole())
	}
	return mesos.TaskInfo{Name: id, TaskID: mesos.TaskID{Value: id}, AgentID: o.AgentID, Resources: rs, Command: cmd}
}

func shellCommand(s string) *mesos.CommandInfo { return &mesos.CommandInfo{Value: &s} }

// mesosGoStep is one step of the mesos-go test, run in order on one
// framework.
type mesosGoStep struct {
	name string
	run  func(t *testing.T, m *mesosGo)
}

var mesosGoSteps = []mesosGoStep{
	{"SUBSCRIBE", func(t *testing.T, m *mesosGo) {
		ft := 60.0
		m.subscribe(&mesos.FrameworkInfo{User: "", Name: "mesos-go", Roles: []string{"*"}, FailoverTimeout: &ft,
			Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}}})
		s := m.must(scheduler.Event_SUBSCRIBED).GetSubscribed()
		m.id = s.GetFrameworkID().Value
		mi := s.GetMasterInfo()
		if m.id == "" || s.GetHeartbeatIntervalSeconds() <= 0 || mi == nil || mi.GetAddress().GetPort() == 0 || mi.GetVersion() != api.MesosVersion {
			t.Errorf("SUBSCRIBED %v", s)
		}
	}},
	{"OFFERS", func(t *testing.T, m *mesosGo) {
		o := m.offer()
		m.offers = append([]mesos.Offer{o}, m.offers...)
		if o.GetAllocationInfo().GetRole() != "*" || o.Hostname == "" || len(o.Resources) == 0 {
			t.Errorf("offer %v: want allocation_info * and a hostname", o)
		}
		for _, r := range o.Resources {
			if r.GetAllocationInfo().GetRole() != "*" {
				t.Errorf("offered resource %v has no allocation_info *", r)
			}
		}
		attrs := map[string]mesos.Attribute{}
		for _, a := range o.Attributes {
			attrs[a.Name] = a
		}
		if a := attrs["rack"]; a.GetType() != mesos.TEXT || a.GetText().GetValue() != "r1" {
			t.Errorf("attribute rack: %v", a)
		}
		if a := attrs["zone"]; a.GetType() != mesos.SCALAR || a.GetScalar().GetValue() != 2 {
			t.Errorf("attribute zone: %v", a)
		}
	}},
	{"ACCEPT with LAUNCH, UPDATE and ACKNOWLEDGE", func(t *testing.T, m *mesosGo) {
		o := m.offer()
		no := false
		echo := "/bin/echo"
		exec := &mesos.CommandInfo{Shell: &no, Value: &echo, Arguments: []string{"echo", "hello", "from mesos-go"}}
		m.mustCall(calls.Accept(calls.OfferOperations{calls.OpLaunch(task("echo", o, 0.1, 32, exec), task("sleeper", o, 0.1, 32, shellCommand("sleep 60")))}.
			WithOffers(o.ID)).With(calls.RefuseSeconds(0)))
		// echo may end before sleeper runs: wait for both, in any order.
		fin := m.states(map[string]mesos.TaskState{"sleeper": mesos.TASK_RUNNING, "echo": mesos.TASK_FINISHED})["echo"]
		if len(fin.GetUUID()) != 16 || fin.GetSource() != mesos.SOURCE_AGENT {
			t.Errorf("TASK_FINISHED %v", fin)
		}
		m.c.waitFor("echo's acknowledged end to complete it", func(st masterState) bool { return !st.hasTask("echo", "TASK_FINISHED") })
	}},
	{"KILL", func(t *testing.T, m *mesosGo) {
		agent := m.c.agentOf("sleeper")
		m.mustCall(calls.Kill("sleeper", agent))
		s := m.status("sleeper", mesos.TASK_KILLED)
		if s.Reason != nil && s.GetReason() == mesos.REASON_COMMAND_EXECUTOR_FAILED {
			t.Errorf("TASK_KILLED with reason %s", s.GetReason())
		}
	}},
	{"DECLINE with a filter", func(t *testing.T, m *mesosGo) {
		m.declineAll()
		o := m.offer()
		const refuse = 3 * time.Second
		declined := time.Now()
		m.mustCall(calls.Decline(o.ID).With(calls.RefuseSeconds(refuse)))
		e := m.next(scheduler.Event_OFFERS, 15*time.Second)
		if e == nil {
			t.Fatal("no offer after the filter expired")
		}
		if waited := time.Since(declined); waited < refuse {
			t.Errorf("offered again after %v; the filter was %v", waited, refuse)
		}
	}},
	{"SUPPRESS and REVIVE with *", func(t *testing.T, m *mesosGo) {
		m.mustCall(calls.SuppressWith([]string{"*"}))
		m.declineAll()
		if e := m.next(scheduler.Event_OFFERS, 2*time.Second); e != nil {
			t.Fatalf("an offer while suppressed: %v", e)
		}
		m.mustCall(calls.ReviveWith([]string{"*"}))
		m.must(scheduler.Event_OFFERS)
	}},
	{"RECONCILE", func(t *testing.T, m *mesosGo) {
		// "never" names its agent: a master that started with no registry
		// answers for a task it does not know only on a registered agent
		// (Mesos' rule while agents may re-register).
		agent := m.c.agentOf("sleeper")
		m.mustCall(calls.Reconcile(calls.ReconcileTasks(map[string]string{"sleeper": agent, "never": agent})))
		for want := map[string]mesos.TaskState{"sleeper": mesos.TASK_KILLED, "never": mesos.TASK_LOST}; len(want) > 0; {
			s := m.must(scheduler.Event_UPDATE).GetUpdate().GetStatus()
			if w, ok := want[s.TaskID.Value]; ok {
				if s.GetState() != w || s.GetReason() != mesos.REASON_RECONCILIATION || len(s.GetUUID()) != 0 {
					t.Errorf("reconciled %s: %v, want %s with REASON_RECONCILIATION and no uuid", s.TaskID.Value, s, w)
				}
				delete(want, s.TaskID.Value)
			}
		}
	}},
	{"UPDATE_FRAMEWORK", func(t *testing.T, m *mesosGo) {
		ft := 60.0
		m.mustCall(calls.UpdateFramework(mesos.FrameworkInfo{ID: &mesos.FrameworkID{Value: m.id}, User: "", Name: "mesos-go renamed",
			Roles: []string{"*", "web"}, FailoverTimeout: &ft, Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}}}))
		m.c.waitFor("the new name", func(st masterState) bool { return st.frameworkName(m.id) == "mesos-go renamed" })
	}},
	{"ACCEPT with LAUNCH_GROUP", func(t *testing.T, m *mesosGo) {
		// A group of two: when g-fail fails, the agent kills g-ok (Mesos'
		// default executor); the executor is the operator API's while
		// the group runs.
		m.declineAll()
		o := m.offer()
		role := o.GetAllocationInfo().GetRole()
		exec := mesos.ExecutorInfo{Type: mesos.ExecutorInfo_DEFAULT, ExecutorID: mesos.ExecutorID{Value: "pod"},
			Resources: []mesos.Resource{resources.NewCPUs(0.1).Resource, resources.NewMemory(32).Resource}}
		for i := range exec.Resources {
			exec.Resources[i].Allocate(role)
		}
		m.mustCall(calls.Accept(calls.OfferOperations{calls.OpLaunchGroup(exec, task("g-ok", o, 0.1, 32, shellCommand("sleep 60")),
			task("g-fail", o, 0.1, 32, shellCommand("sleep 3; exit 3")))}.WithOffers(o.ID)).With(calls.RefuseSeconds(0)))
		m.states(map[string]mesos.TaskState{"g-ok": mesos.TASK_RUNNING, "g-fail": mesos.TASK_RUNNING})
		var running mesosmaster.Response
		m.c.operator(mesosmaster.Call_GET_EXECUTORS, &running)
		if ex := running.GetGetExecutors().GetExecutors(); len(ex) != 1 || ex[0].ExecutorInfo.ExecutorID.Value != "pod" ||
			ex[0].ExecutorInfo.GetType() != mesos.ExecutorInfo_DEFAULT || ex[0].ExecutorInfo.GetFrameworkID().GetValue() != m.id {
			t.Errorf("GET_EXECUTORS while the group runs: %v", ex)
		}
		ends := m.states(map[string]mesos.TaskState{"g-fail": mesos.TASK_FAILED, "g-ok": mesos.TASK_KILLED})
		if gok := ends["g-ok"]; !strings.Contains(gok.GetMessage(), "task group") {
			t.Errorf("g-ok killed saying %q; want why (its group)", gok.GetMessage())
		}
		m.c.waitFor("the group's tasks completed", func(st masterState) bool { return !st.hasTask("g-ok", "TASK_KILLED") })
	}},
	{"RESERVE, offered back to the role", func(t *testing.T, m *mesosGo) {
		m.mustCall(calls.SuppressWith([]string{"*"}))
		m.declineAll()
		o := m.offerTo("web")
		m.operate(o, calls.OpReserve(reserved(o, "alice", 0.5, 128)...), "r1")
		back := m.offerTo("web")
		var cpus, mem float64
		for _, r := range back.Resources {
			if r.GetRole() == "web" && r.GetReservation().GetPrincipal() == "alice" {
				switch r.Name {
				case "cpus":
					cpus += r.GetScalar().GetValue()
				case "mem":
					mem += r.GetScalar().GetValue()
				}
			}
		}
		if cpus != 0.5 || mem != 128 {
			t.Errorf("offered back to web: %v; want cpus 0.5 and mem 128 reserved by alice", back.Resources)
		}
		m.offers = append([]mesos.Offer{back}, m.offers...)
		if n := m.c.dynamicOnAgent("web", "alice"); n != 2 {
			t.Errorf("GET_AGENTS: %d resources DYNAMIC by alice for web, want cpus and mem", n)
		}
	}},
	{"UNRESERVE", func(t *testing.T, m *mesosGo) {
		o := m.offerTo("web")
		m.operate(o, calls.OpUnreserve(reserved(o, "alice", 0.5, 128)...), "u1")
		m.mustCall(calls.ReviveWith([]string{"*"}))
		m.declineAll()
		for _, r := range m.offer().Resources {
			if r.GetRole() != "*" || r.Reservation != nil || len(r.Reservations) > 0 {
				t.Errorf("after UNRESERVE, offered %v", r)
			}
		}
		if n := m.c.dynamicOnAgent("web", "alice"); n != 0 {
			t.Errorf("GET_AGENTS after UNRESERVE: %d resources still reserved", n)
		}
	}},
	{"TEARDOWN", func(t *testing.T, m *mesosGo) {
		m.mustCall(&scheduler.Call{Type: scheduler.Call_TEARDOWN})
		select {
		case err := <-m.ended:
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Logf("the stream ended: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the stream did not end")
		}
		m.c.waitFor("the framework to be torn down", func(st masterState) bool {
			return slices.ContainsFunc(st.CompletedFrameworks, func(f struct {
				ID string `json:"id"`
			}) bool {
				return f.ID == m.id
			})
		})
		if err := m.call(calls.Revive()); err == nil {
			t.Error("a call after TEARDOWN was taken")
		}
	}},
}

// The unmodified mesos-go v0.0.11 scheduler client runs a framework on a
// real master and agent, with TLS and credentials as apron up sets them:
// every step of mesosGoSteps in order.
func TestMesosGoScheduler(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:1;mem:512", t.TempDir(), "--attributes", "rack:r1;zone:2")
	m := newMesosGo(t, c)
	for _, step := range mesosGoSteps {
		if !t.Run(step.name, func(t *testing.T) { step.run(t, m) }) {
			t.FailNow()
		}
	}
}

// agentOf is the agent a task of the cluster runs on.
func (c *cluster) agentOf(task string) string {
	c.t.Helper()
	var st struct {
		Tasks []struct {
			ID      string `json:"id"`
			AgentID string `json:"agent_id"`
		} `json:"tasks"`
		CompletedTasks []struct {
			ID      string `json:"id"`
			AgentID string `json:"agent_id"`
		} `json:"completed_tasks"`
	}
	c.stateAs(&st)
	for _, tk := range append(st.Tasks, st.CompletedTasks...) {
		if tk.ID == task {
			return tk.AgentID
		}
	}
	c.t.Fatalf("no task %s in /state", task)
	return ""
}

// frameworkName is the name of a framework in /state.
func (s masterState) frameworkName(id string) string {
	for _, f := range s.Frameworks {
		if f.ID == id {
			return f.Name
		}
	}
	return ""
}
