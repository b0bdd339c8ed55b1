package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/resources"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"

	"github.com/apronlab/apron/allocator"
)

var update = flag.Bool("update", false, "rewrite testdata/events from apron's events")

// plain is a JSON value with its nulls dropped, as Mesos reads null:
// unset.
func plain(t testing.TB, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	return dropNulls(v)
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

// mesosGoCalls are calls as mesos-go v0.0.11's scheduler client makes
// them (its JSON codec marshals with ffjson).
func mesosGoCalls(t testing.TB) map[string][]byte {
	t.Helper()
	ft := 60.0
	info := &mesos.FrameworkInfo{User: "nobody", Name: "mesos-go", Roles: []string{"*"}, FailoverTimeout: &ft,
		Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}}}
	cmd := "echo hello"
	shell := false
	task := mesos.TaskInfo{Name: "t", TaskID: mesos.TaskID{Value: "t1"}, AgentID: mesos.AgentID{Value: "a1"},
		Resources: []mesos.Resource{resources.NewCPUs(0.5).Resource, resources.NewMemory(64).Resource},
		Command:   &mesos.CommandInfo{Value: &cmd, Shell: &shell, Arguments: []string{"echo", "hello"}}}
	task.Resources[0].Allocate("*")
	task.Resources[1].Allocate("*")
	uuid := []byte("0123456789abcdef")
	cs := map[string]*scheduler.Call{
		"subscribe": calls.Subscribe(info),
		"accept": calls.Accept(calls.OfferOperations{calls.OpLaunch(task)}.WithOffers(mesos.OfferID{Value: "o1"})).
			With(calls.RefuseSeconds(5 * time.Second)),
		"decline":                      calls.Decline(mesos.OfferID{Value: "o1"}).With(calls.RefuseSeconds(time.Minute)),
		"revive":                       calls.Revive(),
		"revive_roles":                 calls.ReviveWith([]string{"*"}),
		"suppress":                     calls.SuppressWith([]string{"*"}),
		"kill":                         calls.Kill("t1", "a1"),
		"acknowledge":                  calls.Acknowledge("a1", "t1", uuid),
		"reconcile":                    calls.Reconcile(calls.ReconcileTasks(map[string]string{"t1": "a1"})),
		"teardown":                     {Type: scheduler.Call_TEARDOWN},
		"shutdown":                     calls.Shutdown("e1", "a1"),
		"message":                      calls.Message("a1", "e1", []byte("hi")),
		"request":                      calls.Request(mesos.Request{AgentID: &mesos.AgentID{Value: "a1"}}),
		"acknowledge_operation_status": calls.AcknowledgeOperationStatus("a1", "", uuid, "op1"),
		"reconcile_operations":         calls.ReconcileOperations([]calls.ReconcileOperationRequest{{OperationID: "op1", AgentID: "a1"}}),
		"update_framework":             calls.UpdateFramework(*info),
		"accept_inverse_offers":        calls.AcceptInverseOffers(mesos.OfferID{Value: "i1"}),
		"decline_inverse_offers":       calls.DeclineInverseOffers(mesos.OfferID{Value: "i1"}),
	}
	out := map[string][]byte{}
	for name, c := range cs {
		c.FrameworkID = &mesos.FrameworkID{Value: "fw1"}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("mesos-go's %s: %v", name, err)
		}
		out["mesos-go/"+name] = b
	}
	return out
}

// docCalls are testdata/calls: Mesos' docs' examples.
func docCalls(t testing.TB) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob("testdata/calls/*.json")
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out["docs/"+strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	if len(out) < 17 {
		t.Fatalf("testdata/calls: %d calls; want one of each call type", len(out))
	}
	return out
}

// Every call of Mesos' docs and of mesos-go decodes, and apron reads it
// whole: apron's own encoding of what it read is the call, field for
// field, with null taken as unset. So no field of Mesos' is read under
// another name or type, or dropped unread.
func TestMesosCalls(t *testing.T) {
	all := docCalls(t)
	for k, v := range mesosGoCalls(t) {
		all[k] = v
	}
	types := map[string]bool{}
	for name, data := range all {
		t.Run(name, func(t *testing.T) {
			c, err := DecodeCall(data)
			if err != nil {
				t.Fatalf("DecodeCall: %v\n%s", err, data)
			}
			types[c.Type] = true
			again, _ := json.Marshal(c)
			if got, want := plain(t, again), plain(t, data); !reflect.DeepEqual(got, want) {
				t.Errorf("apron reads\n%s\nas\n%s", data, again)
			}
		})
	}
	for _, ct := range CallTypes {
		if !types[ct] {
			t.Errorf("no call of type %s among the docs' and mesos-go's", ct)
		}
	}
}

func TestDecodeCallErrors(t *testing.T) {
	tests := []struct {
		name, in, field, says string
	}{
		{"not JSON", `{"type":`, "", "unexpected EOF"},
		{"two values", `{"type":"TEARDOWN"} {}`, "", "more than one JSON value"},
		{"an array", `[]`, "", "cannot unmarshal array"},
		{"wrong type", `{"type":"REVIVE","framework_id":{"value":7}}`, "framework_id.value", "cannot unmarshal number"},
		{"unknown call", `{"type":"FLY"}`, "type", "not one of Mesos' names"},
		{"no type", `{"framework_id":{"value":"f"}}`, "type", "not one of Mesos' names"},
		{"unknown capability", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"f","capabilities":[{"type":"FLYING"}]}}}`,
			"framework_info.capabilities[0].type", "PARTITION_AWARE"},
		{"uuid not base64", `{"type":"ACKNOWLEDGE","acknowledge":{"uuid":"!!"}}`, "", "not base64"},
		{"resource type", `{"type":"ACCEPT","accept":{"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"resources":[{"name":"cpus","type":"BIG"}]}]}}]}}`,
			"accept.operations[0].launch.task_infos[0].resources[0].type", "SCALAR, RANGES, SET, TEXT"},
		{"a group task's resource type", `{"type":"ACCEPT","accept":{"operations":[{"type":"LAUNCH_GROUP","launch_group":{"task_group":{"tasks":[{"resources":[{"name":"cpus","type":"BIG"}]}]}}}]}}`,
			"accept.operations[0].launch_group.task_group.tasks[0].resources[0].type", "SCALAR, RANGES, SET, TEXT"},
		{"variable type", `{"type":"ACCEPT","accept":{"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"command":{"environment":{"variables":[{"name":"A","type":"X"}]}}}]}}]}}`,
			"accept.operations[0].launch.task_infos[0].command.environment.variables[0].type", "VALUE, SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCall([]byte(tt.in))
			ce, ok := err.(*CallError)
			if !ok || ce.Field != tt.field || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %v (%T), want a CallError on field %q saying %q", err, err, tt.field, tt.says)
			}
		})
	}
}

// JSONField names the field of a value of the wrong type and of an
// unknown field (a decoder that disallows them: the agent protocol's).
func TestJSONField(t *testing.T) {
	tests := []struct{ in, field string }{
		{`{"agent_id":7}`, "agent_id"},
		{`{"agent_id":"a","wings":2}`, "wings"},
		{`{"agent_id":`, ""},
	}
	for _, tt := range tests {
		var v struct {
			AgentID string `json:"agent_id"`
		}
		dec := json.NewDecoder(strings.NewReader(tt.in))
		dec.DisallowUnknownFields()
		err := dec.Decode(&v)
		if err == nil || JSONField(err) != tt.field {
			t.Errorf("%s: JSONField(%v) = %q, want %q", tt.in, err, JSONField(err), tt.field)
		}
	}
}

// apronEvents are the events apron sends, one of each shape, made with
// the functions apron's master makes them with.
func apronEvents() map[string]Event {
	res := allocator.MustParseResources("cpus:2;mem:1024;cpus(web):1;mem(web):256")
	dyn := func(name, role string) []DynamicPart { // mem(web) reserved by a framework
		if name == "mem" {
			return []DynamicPart{{Principal: "ops", Amount: 256}}
		}
		return nil
	}
	offer := func(refinement bool) *Offers {
		return &Offers{Offers: []Offer{{ID: ID{Value: "m1.O1-1"}, FrameworkID: ID{Value: "m1-0001"}, AgentID: ID{Value: "agent-1"},
			Hostname: "box", AllocationInfo: &AllocationInfo{Role: "web"}, Resources: Allocated(MarkReservations(FromResources(res), refinement, dyn), "web"),
			Attributes: AttributesOf(map[string]string{"rack": "r1", "zone": "2", "ports": "[31000-32000]", "disks": "{ssd,hdd}"})}}}
	}
	agent := &ID{Value: "agent-1"}
	return map[string]Event{
		"subscribed": {Type: EventSubscribed, Subscribed: &Subscribed{FrameworkID: ID{Value: "m1-0001"}, HeartbeatIntervalSeconds: 15,
			MasterInfo: &MasterInfo{ID: "m1", IP: 16777343, Port: 5050, Hostname: "localhost", Version: MesosVersion,
				Address: &Address{Hostname: "localhost", IP: "127.0.0.1", Port: 5050}}}},
		"offers":            {Type: EventOffers, Offers: offer(false)},
		"offers_refinement": {Type: EventOffers, Offers: offer(true)},
		"rescind":           {Type: EventRescind, Rescind: &Rescind{OfferID: ID{Value: "m1.O1-1"}}},
		"update": {Type: EventUpdate, Update: &Update{Status: TaskStatus{TaskID: ID{Value: "t1"}, State: "TASK_FAILED",
			Message: "memory-limit: the task used more than its 64 MiB and the kernel killed it", Source: SourceAgent,
			Reason: ReasonMemoryLimit, AgentID: agent, Timestamp: 1764547200.5, UUID: UUID("0123456789abcdef")}}},
		"update_unreachable": {Type: EventUpdate, Update: &Update{Status: TaskStatus{TaskID: ID{Value: "t1"}, State: "TASK_UNREACHABLE",
			Message: "agent agent-1 is unreachable: no heartbeat for 1m15s", Source: SourceMaster, Reason: ReasonAgentRemoved,
			AgentID: agent, Timestamp: 1764547200.5, UnreachableTime: &TimeInfo{Nanoseconds: 1764547200000000000}}}},
		"update_operation_status": {Type: EventUpdateOperationStatus, UpdateOperationStatus: &UpdateOperationStatus{Status: OperationStatus{
			OperationID: &ID{Value: "op1"}, State: "OPERATION_UNKNOWN", AgentID: agent}}},
		"failure":   {Type: EventFailure, Failure: &Failure{AgentID: agent}},
		"error":     {Type: EventError, Error: &Error{Message: "framework resubscribed on another connection"}},
		"heartbeat": {Type: EventHeartbeat},
	}
}

// apron's events are the golden files testdata/events (their shapes are
// Mesos' docs' and scheduler.proto's), and mesos-go v0.0.11 reads each
// whole: its own encoding of what it read is the event, field for field.
func TestMesosEvents(t *testing.T) {
	for name, e := range apronEvents() {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(e, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata/events", name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("%s: apron sends\n%s\nwant\n%s", path, got, want)
			}
			var me scheduler.Event
			if err := json.Unmarshal(want, &me); err != nil {
				t.Fatalf("mesos-go cannot read %s: %v", path, err)
			}
			if me.GetType().String() != e.Type {
				t.Errorf("mesos-go reads type %s, want %s", me.GetType(), e.Type)
			}
			again, _ := json.Marshal(&me)
			if g, w := plain(t, again), plain(t, want); !reflect.DeepEqual(g, w) {
				t.Errorf("mesos-go reads\n%s\nas\n%s", want, again)
			}
		})
	}
	names, _ := filepath.Glob("testdata/events/*.json")
	if len(names) != len(apronEvents()) {
		t.Errorf("testdata/events has %d files, apron makes %d events", len(names), len(apronEvents()))
	}
}

// Every reason and task state apron's runtime writes is one of Mesos'.
func TestReasonsAndStatesAreMesos(t *testing.T) {
	for _, r := range []string{ReasonMemoryLimit, ReasonExecutorFailed, ReasonLaunchFailed, ReasonExecutorEnded, ReasonTaskInvalid,
		ReasonTaskUnauthorized, ReasonInvalidOffers, ReasonFrameworkRemoved, ReasonAgentRemoved, ReasonAgentRestarted, ReasonReconciliation} {
		if err := oneOf("reason", r, Reasons); err != nil {
			t.Error(err)
		}
	}
	var files []string
	_ = filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 50 {
		t.Fatalf("found %d Go files under runtime/", len(files))
	}
	for _, p := range files {
		src, _ := os.ReadFile(p)
		for _, lit := range quoted(string(src)) {
			switch {
			case strings.HasPrefix(lit, "REASON_") && oneOf("", lit, Reasons) != nil:
				t.Errorf("%s: reason %s is not one of Mesos'", p, lit)
			case strings.HasPrefix(lit, "TASK_") && strings.ToUpper(lit) == lit && !notStates[lit] && oneOf("", lit, TaskStates) != nil:
				t.Errorf("%s: state %s is not one of Mesos'", p, lit)
			}
		}
	}
}

// notStates are literals of runtime/ that look like task states and are
// not: a capability, a registry command, a prefix.
var notStates = map[string]bool{"TASK_KILLING_STATE": true, "TASK_STATE": true, "TASK_": true}

// quoted returns the string literals of Go source.
func quoted(src string) []string {
	var out []string
	for {
		i := strings.IndexByte(src, '"')
		if i < 0 {
			return out
		}
		src = src[i+1:]
		j := strings.IndexAny(src, "\"\n")
		if j < 0 {
			return out
		}
		out = append(out, src[:j])
		src = src[j+1:]
	}
}

func TestAttributes(t *testing.T) {
	in := map[string]string{"rack": "r1", "zone": "2.5", "ports": "[31000-32000,40000-40010]", "disks": "{ssd,hdd}", "bad": "[3-1]"}
	got := AttributesOf(in)
	want := []Attribute{
		{Name: "bad", Type: ValueText, Text: &Text{Value: "[3-1]"}},
		{Name: "disks", Type: ValueSet, Set: &Set{Item: []string{"ssd", "hdd"}}},
		{Name: "ports", Type: ValueRanges, Ranges: &Ranges{Range: []Range{{Begin: 31000, End: 32000}, {Begin: 40000, End: 40010}}}},
		{Name: "rack", Type: ValueText, Text: &Text{Value: "r1"}},
		{Name: "zone", Type: ValueScalar, Scalar: &Scalar{Value: 2.5}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AttributesOf:\n%+v\nwant\n%+v", got, want)
	}
	if back := AttributeMap(got); !reflect.DeepEqual(back, map[string]string{"rack": "r1", "zone": "2.5", "ports": "[31000-32000,40000-40010]", "disks": "{ssd,hdd}", "bad": "[3-1]"}) {
		t.Errorf("AttributeMap: %v", back)
	}
	if AttributesOf(nil) != nil || AttributeMap(nil) != nil {
		t.Error("no attributes: want nil both ways")
	}
}

func TestUUIDJSON(t *testing.T) {
	u := UUID("0123456789abcdef")
	b, _ := json.Marshal(struct {
		U UUID `json:"uuid,omitempty"`
	}{u})
	if string(b) != `{"uuid":"MDEyMzQ1Njc4OWFiY2RlZg=="}` {
		t.Errorf("marshal: %s", b)
	}
	tests := []struct {
		in   string
		want UUID
		err  bool
	}{
		{`"MDEyMzQ1Njc4OWFiY2RlZg=="`, u, false},
		{`null`, "", false},
		{`""`, "", false},
		{`"zz"`, "", true},
		{`7`, "", true},
	}
	for _, tt := range tests {
		var got UUID
		err := json.Unmarshal([]byte(tt.in), &got)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: %q %v, want %q (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
	if u.String() != "30313233343536373839616263646566" {
		t.Errorf("String: %s", u)
	}
}

func TestAcceptHeaders(t *testing.T) {
	tests := []struct {
		accept         string
		json, recordio bool
	}{
		{"", true, false},
		{"application/json", true, false},
		{"Application/JSON; charset=utf-8", true, false},
		{"*/*", true, false},
		{"application/*;q=0.5", true, false},
		{"application/recordio", false, true},
		{"application/recordio, application/json;q=0", false, true},
		{"application/x-protobuf", false, false},
		{"text/html, application/json;q=0.9", true, false},
	}
	for _, tt := range tests {
		if got := AcceptsJSON(tt.accept); got != tt.json {
			t.Errorf("AcceptsJSON(%q) = %v", tt.accept, got)
		}
		if got := AcceptsRecordIO(tt.accept); got != tt.recordio {
			t.Errorf("AcceptsRecordIO(%q) = %v", tt.accept, got)
		}
	}
}

// Offers carry allocation_info on the offer and on each resource, and
// reservations in the form the framework reads.
func TestOfferResources(t *testing.T) {
	res := allocator.MustParseResources("cpus:1;cpus(web):2")
	for _, refinement := range []bool{false, true} {
		out := Allocated(MarkReservations(FromResources(res), refinement, func(string, string) []DynamicPart { return nil }), "web")
		for _, r := range out {
			if r.AllocationInfo == nil || r.AllocationInfo.Role != "web" {
				t.Errorf("%+v: no allocation_info web", r)
			}
		}
		back, err := ToResources("r", out)
		if err != nil || !back.Equal(res) {
			t.Errorf("refinement %v: round trip %v %v", refinement, back, err)
		}
		if refinement && (out[1].Role != "" || len(out[1].Reservations) != 1) || !refinement && (out[0].Role != "*" || out[1].Role != "web") {
			t.Errorf("refinement %v: %+v", refinement, out)
		}
	}
}

// FuzzDecodeCall: any input is decoded or refused, never a panic; what is
// decoded encodes to a call that decodes to itself.
func FuzzDecodeCall(f *testing.F) {
	for _, b := range docCalls(f) {
		f.Add(b)
	}
	for _, b := range mesosGoCalls(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"type":"SUBSCRIBE","subscribe":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCall(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("a decoded call does not encode: %v", err)
		}
		c2, err := DecodeCall(b)
		if err != nil {
			t.Fatalf("apron's encoding of a call does not decode: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(c2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("not a fixed point:\n%s\n%s", b, b2)
		}
	})
}
