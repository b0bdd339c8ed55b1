package master

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/master/core"
)

func (m *Master) servePolicyGet(w http.ResponseWriter, r *http.Request) {
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
		if ref = m.core.SetPolicy(now, cfg, name); ref == nil {
			v = m.core.PolicyView()
		}
	}) {
		m.notLeader(w, r)
		return
	}
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
