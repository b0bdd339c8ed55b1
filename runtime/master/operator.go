package master

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master/core"
)

// Mesos' v1 operator API: POST /api/v1 with a master.proto Call in JSON,
// answered with its Response as Mesos' master answers it. The calls
// apron cannot serve are answered as Mesos answers a call it does not
// implement: 501 Not Implemented.

// maxOperatorCall bounds an operator call's body.
const maxOperatorCall = 1 << 20

// operatorCall is a master.proto Call, the fields apron reads; others
// are ignored and null is unset, as Mesos parses JSON.
type operatorCall struct {
	Type          string `json:"type"`
	UpdateWeights *struct {
		WeightInfos []core.WeightInfo `json:"weight_infos"`
	} `json:"update_weights"`
	UpdateQuota *struct {
		Force        bool               `json:"force"`
		QuotaConfigs []core.QuotaConfig `json:"quota_configs"`
	} `json:"update_quota"`
	Teardown *struct {
		FrameworkID api.ID `json:"framework_id"`
	} `json:"teardown"`
}

// unserved are the call types of master.proto apron does not serve, and
// why.
var unserved = map[string]string{
	"UNKNOWN":                     "it is no call",
	"GET_FLAGS":                   "apron's flags are the command line's, not kept by the master",
	"GET_LOGGING_LEVEL":           "apron logs with log/slog, at no glog level",
	"SET_LOGGING_LEVEL":           "apron logs with log/slog, at no glog level",
	"LIST_FILES":                  "the master serves no files; sandboxes are served by the agents and the web UI",
	"READ_FILE":                   "the master serves no files; sandboxes are served by the agents and the web UI",
	"SUBSCRIBE":                   "there is no operator event stream; poll GET_STATE",
	"RESERVE_RESOURCES":           "reservations are the policy's (POST /api/v1/policy) or the frameworks' own",
	"UNRESERVE_RESOURCES":         "reservations are the policy's (POST /api/v1/policy) or the frameworks' own",
	"CREATE_VOLUMES":              "apron has no persistent volumes",
	"DESTROY_VOLUMES":             "apron has no persistent volumes",
	"GROW_VOLUME":                 "apron has no persistent volumes",
	"SHRINK_VOLUME":               "apron has no persistent volumes",
	"GET_MAINTENANCE_STATUS":      "apron has no maintenance schedules",
	"GET_MAINTENANCE_SCHEDULE":    "apron has no maintenance schedules",
	"UPDATE_MAINTENANCE_SCHEDULE": "apron has no maintenance schedules",
	"START_MAINTENANCE":           "apron has no maintenance schedules",
	"STOP_MAINTENANCE":            "apron has no maintenance schedules",
	"DRAIN_AGENT":                 "agents cannot be drained; stop the agent and its tasks are lost",
	"DEACTIVATE_AGENT":            "agents cannot be deactivated",
	"REACTIVATE_AGENT":            "agents cannot be deactivated",
	"SET_QUOTA":                   "deprecated by Mesos; use UPDATE_QUOTA",
	"REMOVE_QUOTA":                "deprecated by Mesos; use UPDATE_QUOTA with no guarantees and limits",
	"MARK_AGENT_GONE":             "an agent is given up by the master alone, after --unreachable-timeout",
}

// served are the call types apron serves.
var served = []string{"GET_HEALTH", "GET_VERSION", "GET_METRICS", core.GetState, core.GetAgents, core.GetFrameworks, core.GetExecutors,
	core.GetOperations, core.GetTasks, core.GetRoles, core.GetWeights, "UPDATE_WEIGHTS", core.GetMaster, core.GetQuota, "UPDATE_QUOTA", "TEARDOWN"}

func (m *Master) serveOperator(w http.ResponseWriter, r *http.Request) {
	c, ok := readOperatorCall(w, r)
	if !ok {
		return
	}
	switch {
	case c.Type == "":
		refuse(w, http.StatusBadRequest, "type", "the call has no type; the types apron serves are %s", strings.Join(served, ", "))
		return
	case unserved[c.Type] != "":
		refuse(w, http.StatusNotImplemented, "type", "apron does not serve %s: %s; the types it serves are %s", c.Type, unserved[c.Type], strings.Join(served, ", "))
		return
	case !slices.Contains(served, c.Type):
		refuse(w, http.StatusBadRequest, "type", "unknown call type %q; master.proto's types apron serves are %s", c.Type, strings.Join(served, ", "))
		return
	}
	switch c.Type {
	case "GET_HEALTH":
		writeResponse(w, c.Type, map[string]bool{"healthy": true})
	case "GET_VERSION":
		writeResponse(w, c.Type, map[string]core.VersionInfo{"version_info": versionInfo()})
	case "GET_METRICS":
		if m.Allowed(w, r, auth.ViewState, "metrics", false) {
			writeResponse(w, c.Type, map[string]any{"metrics": metricList(m.mesosMetrics())})
		}
	case "UPDATE_WEIGHTS", "UPDATE_QUOTA":
		m.updatePolicy(w, r, c)
	case "TEARDOWN":
		if c.Teardown == nil {
			refuse(w, http.StatusBadRequest, "teardown", "a TEARDOWN call needs teardown.framework_id")
			return
		}
		m.teardown(w, r, c.Teardown.FrameworkID.Value)
	default:
		if !m.Allowed(w, r, auth.ViewState, "state", false) {
			return
		}
		in := m.mesosInfo(r)
		m.serveView(w, r, func(cr *core.Core, b []byte) []byte { b, _ = cr.OperatorGet(b, c.Type, in); return b })
	}
}

// readOperatorCall reads a call as Mesos' master does: JSON only (the
// request's Content-Type says so), answered in JSON (its Accept allows
// it), bounded.
func readOperatorCall(w http.ResponseWriter, r *http.Request) (operatorCall, bool) {
	var c operatorCall
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		refuse(w, http.StatusBadRequest, "Content-Type", "the call has no Content-Type; want application/json")
		return c, false
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
		refuse(w, http.StatusUnsupportedMediaType, "Content-Type", "Content-Type %q: apron's operator API takes application/json (not protobuf)", ct)
		return c, false
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		refuse(w, http.StatusNotAcceptable, "Accept", "Accept %q: apron's operator API answers application/json", r.Header.Values("Accept"))
		return c, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOperatorCall))
	var tooLong *http.MaxBytesError
	switch {
	case errors.As(err, &tooLong):
		refuse(w, http.StatusRequestEntityTooLarge, "", "the call is longer than %d bytes", maxOperatorCall)
		return c, false
	case err != nil:
		refuse(w, http.StatusBadRequest, "", "reading the call: %v", err)
		return c, false
	}
	if err := json.Unmarshal(body, &c); err != nil {
		refuse(w, http.StatusBadRequest, api.JSONField(err), "the call is not valid JSON for a master.proto Call: %v", err)
		return c, false
	}
	return c, true
}

// acceptsJSON reports whether Accept headers allow a JSON answer (no
// header allows anything).
func acceptsJSON(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			switch mt {
			case "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// writeResponse writes a master.proto Response of type typ, its type
// first as Mesos writes it.
func writeResponse(w http.ResponseWriter, typ string, body any) {
	b, _ := json.Marshal(body) // the response types always marshal
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append([]byte(`{"type":"`+typ+`","`+strings.ToLower(typ)+`":`), append(b, "}\n"...)...))
}

type metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// metricList is /metrics/snapshot as GET_METRICS lists it, by name.
func metricList(snapshot map[string]float64) []metric {
	out := make([]metric, 0, len(snapshot))
	for name, v := range snapshot {
		out = append(out, metric{name, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// updatePolicy serves UPDATE_WEIGHTS and UPDATE_QUOTA: the core checks
// the change, the ACLs (update_policy on weights or quota) and queues a
// policy swap for the next allocation cycle. Audited, as any policy
// change.
func (m *Master) updatePolicy(w http.ResponseWriter, r *http.Request, c operatorCall) {
	var set func(now time.Time) *core.Refusal
	part := "weights"
	switch {
	case c.Type == "UPDATE_WEIGHTS" && c.UpdateWeights != nil:
		set = func(now time.Time) *core.Refusal {
			return m.core.UpdateWeights(now, Principal(r), c.UpdateWeights.WeightInfos)
		}
	case c.Type == "UPDATE_QUOTA" && c.UpdateQuota != nil:
		part = "quota"
		set = func(now time.Time) *core.Refusal {
			return m.core.UpdateQuota(now, Principal(r), c.UpdateQuota.QuotaConfigs, c.UpdateQuota.Force)
		}
	default:
		field := strings.ToLower(c.Type)
		refuse(w, http.StatusBadRequest, field, "a %s call needs %s", c.Type, field)
		return
	}
	var ref *core.Refusal
	if !m.input(func(now time.Time) { ref = set(now) }) {
		m.notLeader(w, r)
		return
	}
	m.opts.Audit.Record(auth.Event{Principal: Principal(r), Action: auth.UpdatePolicy, Object: part, Allowed: ref == nil || ref.Code != http.StatusForbidden,
		Detail: r.URL.Path + " " + c.Type + ": " + refusalText(ref, "queued for the next allocation cycle")})
	if ref != nil {
		refused(w, ref)
		return
	}
	w.WriteHeader(http.StatusOK)
}
