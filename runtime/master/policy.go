package master

import (
	"encoding/json"
	"github.com/apronlab/apron/runtime/api"
	"io"
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master/core"
)

func (m *Master) servePolicyGet(w http.ResponseWriter, r *http.Request) {
	if !m.Allowed(w, r, auth.ViewState, "state", false) {
		return
	}
	m.mu.Lock()
	if m.core == nil {
		m.mu.Unlock()
		m.notLeader(w, r)
		return
	}
	v := m.core.PolicyView()
	m.mu.Unlock()
	writeJSON(w, v)
}

// servePolicyApply validates a posted policy file and queues it for the
// next allocation cycle. The file's name (for its format) comes from the
// "name" query parameter.
func (m *Master) servePolicyApply(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "policy.yaml"
	}
	if m.opts.ParsePolicy == nil {
		refuse(w, http.StatusNotImplemented, "", "this master was started without a policy parser")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		refuse(w, http.StatusBadRequest, "", "reading the policy: %v", err)
		return
	}
	cfg, err := m.opts.ParsePolicy(name, data) // its errors name the file
	if err != nil {
		refuse(w, http.StatusBadRequest, "", "%v; the policy in force is unchanged", err)
		return
	}
	var ref *core.Refusal
	var v core.PolicyView
	if !m.input(func(now time.Time) {
		if ref = m.core.SetPolicy(now, Principal(r), cfg, name); ref == nil {
			v = m.core.PolicyView()
		}
	}) {
		m.notLeader(w, r)
		return
	}
	m.opts.Audit.Record(auth.Event{Principal: Principal(r), Action: auth.UpdatePolicy, Object: name, Allowed: ref == nil || ref.Code != http.StatusForbidden,
		Detail: refusalText(ref, "queued for the next allocation cycle")})
	if ref != nil {
		refused(w, ref)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	writeJSON(w, v)
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// refusalText is what a refusal says, or ok when there is none.
func refusalText(ref *core.Refusal, ok string) string {
	if ref == nil {
		return ok
	}
	return ref.Message
}

// serveTeardown is an operator's teardown of a framework (Mesos'
// /teardown, POST framework_id): a framework's own principal may, others
// need teardown_frameworks on its principal. Audited.
func (m *Master) serveTeardown(w http.ResponseWriter, r *http.Request) {
	var body struct {
		FrameworkID api.ID `json:"framework_id"`
	}
	if decode(w, r, 1<<16, `a teardown {"framework_id": {"value": ...}}`, &body) {
		m.teardown(w, r, body.FrameworkID.Value)
	}
}

// teardown tears a framework down for an operator (200), audited; the
// operator API's TEARDOWN too.
func (m *Master) teardown(w http.ResponseWriter, r *http.Request, id string) {
	var ref *core.Refusal
	if !m.input(func(now time.Time) { ref = m.core.Teardown(now, Principal(r), id) }) {
		m.notLeader(w, r)
		return
	}
	m.opts.Audit.Record(auth.Event{Principal: Principal(r), Action: auth.TeardownFrameworks, Object: id,
		Allowed: ref == nil || ref.Code != http.StatusForbidden, Detail: refusalText(ref, "torn down")})
	if ref != nil {
		refused(w, ref)
		return
	}
	w.WriteHeader(http.StatusOK)
}
