package integration

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/docsh"
	"github.com/apronlab/apron/runtime/api"
)

// docCalls reads docs/api.md's curl SUBSCRIBE body and the bodies of its
// `call '...'` examples, with $FW and $SID as given.
func docCalls(t *testing.T, fw, sid string) (subscribe string, calls []string) {
	t.Helper()
	blocks, err := docsh.Blocks("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		cmds, err := b.Commands("FW="+fw, "SID="+sid)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			switch {
			case len(c.Args) == 2 && c.Args[0] == "call":
				calls = append(calls, c.Args[1])
			case len(c.Args) > 0 && c.Args[0] == "curl" && strings.Contains(c.Source, "SUBSCRIBE"):
				if i := slices.Index(c.Args, "-d"); i >= 0 && i+1 < len(c.Args) {
					subscribe = c.Args[i+1]
				}
			}
		}
	}
	if subscribe == "" || len(calls) == 0 {
		t.Fatalf("docs/api.md: no curl SUBSCRIBE example (%q) or no call examples (%d)", subscribe, len(calls))
	}
	return subscribe, calls
}

// The scheduler API's examples in docs/api.md, sent as written to a master
// with agents agent-1 and agent-2: the SUBSCRIBE, then every call in order,
// with the framework id and stream id of the subscription, the doc's offer
// ids ...O1-1 (agent-1's) and ...O1-2 (agent-2's) and its uuid standing for the
// real ones. Each call is accepted (202) and does what the doc says.
func TestAPIDocCalls(t *testing.T) {
	c := startMaster(t)
	c.startAgent("agent-1", "cpus:2;mem:2048", t.TempDir())
	c.startAgent("agent-2", "cpus:2;mem:2048", t.TempDir())
	body, _ := docCalls(t, "", "")
	f := subscribeBody(t, c.url, []byte(body))
	_, calls := docCalls(t, f.id, f.sid)

	offers := map[string]string{} // agent -> offer id
	for len(offers) < 2 {
		for _, o := range f.next(api.EventOffers).Offers.Offers {
			offers[o.AgentID.Value] = o.ID.Value
		}
	}
	real := strings.NewReplacer(`"20261201-043302.117.O1-1"`, `"`+offers["agent-1"]+`"`, `"20261201-043302.117.O1-2"`, `"`+offers["agent-2"]+`"`)
	var types []string
	for _, call := range calls {
		var head struct{ Type string }
		if err := json.Unmarshal([]byte(call), &head); err != nil {
			t.Fatalf("docs/api.md: a call that is not JSON: %v\n%s", err, call)
		}
		types = append(types, head.Type)
		call = real.Replace(call)
		if head.Type == api.CallAcknowledge { // an update of hello that carried a uuid
			s := f.nextUpdate("hello", false, func(s api.TaskStatus) bool { return s.UUID != "" })
			call = strings.Replace(call, `"hK3cS0a1T0yHc2ZQ0m3k9w=="`, string(must(json.Marshal(s.UUID))), 1)
		}
		if code, resp := f.post([]byte(call)); code != http.StatusAccepted {
			t.Fatalf("docs/api.md's %s: %d %s\n%s", head.Type, code, resp, call)
		}
		switch head.Type {
		case api.CallKill:
			f.nextUpdate("hello", true, func(s api.TaskStatus) bool { return s.State == "TASK_KILLED" })
		case api.CallReconcile:
			f.nextUpdate("hello", true, func(s api.TaskStatus) bool { return s.Reason == "REASON_RECONCILIATION" })
		case api.CallTeardown:
			c.waitFor("the framework to be torn down", func(st masterState) bool {
				return slices.ContainsFunc(st.CompletedFrameworks, func(cf struct {
					ID string `json:"id"`
				}) bool {
					return cf.ID == f.id
				})
			})
		}
	}
	want := []string{api.CallAccept, api.CallDecline, api.CallSuppress, api.CallRevive, api.CallAcknowledge, api.CallKill, api.CallReconcile, api.CallTeardown}
	for _, w := range want {
		if !slices.Contains(types, w) {
			t.Errorf("docs/api.md's calls %v lack %s", types, w)
		}
	}
}

// nextUpdate returns the next update of task id that ok accepts, within
// 20 s. With ack it acknowledges the updates on the way, as a framework
// must: the agent sends the next update of a task only once the last one
// is acknowledged.
func (f *rawFramework) nextUpdate(id string, ack bool, ok func(api.TaskStatus) bool) api.TaskStatus {
	f.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		s := f.next(api.EventUpdate).Update.Status
		if s.TaskID.Value == id && ok(s) {
			return s
		}
		if ack && s.UUID != "" {
			f.call(api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: *s.AgentID, TaskID: s.TaskID, UUID: s.UUID}})
		}
	}
	f.t.Fatalf("no such update of %s within 20 s", id)
	return api.TaskStatus{}
}
