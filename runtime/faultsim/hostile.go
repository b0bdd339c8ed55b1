package faultsim

import (
	"fmt"
	"net/http"

	"github.com/apronlab/apron/runtime/api"
	mcore "github.com/apronlab/apron/runtime/master/core"
)

// hostileKinds are a client's attacks on the leading master, each as
// another principal than the one it names: each must be refused 403 and
// change nothing (the end checks hold the truth of every task).
var hostileKinds = []fault{
	{"hostile: a call as another framework", 1, func(w *world) {
		f, thief := w.twoFrameworks()
		if f == nil || f.id == "" {
			return
		}
		hostile(w, thief.name+" tearing down "+f.name, func(c *mcore.Core) *mcore.Refusal {
			call := api.Call{Type: api.CallTeardown, FrameworkID: &api.ID{Value: f.id}}
			sid := ""
			if f.stream != nil {
				sid = f.sid
			}
			return c.Call(w.now, sid, thief.name, &call)
		})
	}},
	{"hostile: resubscribing as another framework", 1, func(w *world) {
		f, thief := w.twoFrameworks()
		if f == nil || f.id == "" {
			return
		}
		hostile(w, thief.name+" resubscribing "+f.name, func(c *mcore.Core) *mcore.Refusal {
			info := f.info
			info.ID, info.Principal = &api.ID{Value: f.id}, thief.name
			_, ref := c.Subscribe(w.now, "hostile", info)
			return ref
		})
	}},
	{"hostile: a false status update", 1, func(w *world) {
		if len(w.agents) < 2 {
			return
		}
		i := w.rng.IntN(len(w.agents))
		a, liar := w.agents[i], w.agents[(i+1)%len(w.agents)]
		hostile(w, liar.name+" reporting for "+a.name, func(c *mcore.Core) *mcore.Refusal {
			return c.AgentCall(w.now, liar.name, &api.AgentCall{Type: api.AgentCallStatus, AgentID: a.name, Statuses: []api.AgentStatus{
				{FrameworkID: "any", Status: api.TaskStatus{TaskID: api.ID{Value: "any"}, State: mcore.TaskFinished, UUID: "forged"}}}})
		})
	}},
	{"hostile: an agent registered under another's name", 1, func(w *world) {
		if len(w.agents) < 2 {
			return
		}
		i := w.rng.IntN(len(w.agents))
		a, thief := w.agents[i], w.agents[(i+1)%len(w.agents)]
		hostile(w, thief.name+" registering as "+a.name, func(c *mcore.Core) *mcore.Refusal {
			return c.AgentSubscribe(w.now, "hostile", thief.name, &api.AgentSubscribe{Name: a.name, Hostname: a.name, URL: "http://" + a.name,
				Resources: a.res, Incarnation: 1 << 40})
		})
	}},
}

// twoFrameworks picks a framework and another one, its thief.
func (w *world) twoFrameworks() (f, thief *fwNode) {
	if len(w.fws) < 2 {
		return nil, nil
	}
	i := w.rng.IntN(len(w.fws))
	return w.fws[i], w.fws[(i+1)%len(w.fws)]
}

// hostile runs an attack at the leader, if there is one now, and fails
// the schedule unless it is refused as forbidden, or as naming what the
// master does not have (404: a memoryless master that restarted has no
// agent to take yet; a framework removed; or, for a scheduler call,
// Mesos' 400 for a framework that cannot be found).
func hostile(w *world, what string, attack func(*mcore.Core) *mcore.Refusal) {
	m := w.leader()
	if m == nil {
		return
	}
	ref := attack(m.c)
	m.flush()
	unknownFw := ref != nil && ref.Code == http.StatusBadRequest && ref.Field == "framework_id"
	if ref == nil || ref.Code != http.StatusForbidden && ref.Code != http.StatusNotFound && !unknownFw {
		w.fail("%s: %s", what, refusalString(ref))
	}
}

func refusalString(ref *mcore.Refusal) string {
	if ref == nil {
		return "accepted; want 403 (or 404, or 400 for an unknown framework)"
	}
	return fmt.Sprintf("refused %d (%s: %s); want 403 (or 404, or 400 for an unknown framework)", ref.Code, ref.Field, ref.Message)
}
