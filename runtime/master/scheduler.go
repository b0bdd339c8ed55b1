package master

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master/core"
)

// Request bodies are bounded: a scheduler call (an ACCEPT of 1,000 tasks
// with long commands fits) and an agent call (a re-registration with its
// tasks).
const (
	maxSchedulerCall = 16 << 20
	maxAgentCall     = 64 << 20
)

// refuse writes a JSON error with the field it is about.
func refuse(w http.ResponseWriter, code int, field, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: fmt.Sprintf(format, args...), Field: field})
}

func refused(w http.ResponseWriter, r *core.Refusal) {
	refuse(w, r.Code, r.Field, "%s", r.Message)
}

// decode reads a call's JSON body, refusing what is too long, not JSON or
// not the call's shape.
func decode(w http.ResponseWriter, r *http.Request, limit int64, what string, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLong *http.MaxBytesError
		if errors.As(err, &tooLong) {
			refuse(w, http.StatusRequestEntityTooLarge, "", "the call is longer than %d bytes", limit)
			return false
		}
		refuse(w, http.StatusBadRequest, api.JSONField(err), "the call is not valid JSON for %s: %v", what, err)
		return false
	}
	return true
}

// serveScheduler is Mesos' v1 scheduler endpoint: JSON calls (decoded as
// Mesos decodes them, see api.DecodeCall), 202 for every call but
// SUBSCRIBE (a stream) and UPDATE_FRAMEWORK (200, as Mesos answers it).
func (m *Master) serveScheduler(w http.ResponseWriter, r *http.Request) {
	c, ok := m.decodeCall(w, r)
	if !ok {
		return
	}
	if c.Type == api.CallSubscribe {
		m.subscribe(w, r, c)
		return
	}
	sid := cmp.Or(r.Header.Get(api.StreamIDHeader), r.Header.Get("Mesos-Stream-Id"))
	var ref *core.Refusal
	if !m.input(func(now time.Time) { ref = m.core.Call(now, sid, Principal(r), c) }) {
		m.notLeader(w, r)
		return
	}
	m.audited(r, "scheduler call "+c.Type, ref)
	if ref != nil {
		refused(w, ref)
		return
	}
	if c.Type == api.CallUpdateFramework {
		// 200 with no body; typed as the JSON the client speaks, so that
		// a client that checks the type of every 200 (mesos-go's) takes it.
		w.Header().Set("Content-Type", mediaJSON)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// subscribe registers a framework (or takes back one that failed over) and
// serves its event stream until it disconnects.
func (m *Master) subscribe(w http.ResponseWriter, r *http.Request, c *api.Call) {
	if c.Subscribe == nil {
		refuse(w, http.StatusBadRequest, "subscribe", "a SUBSCRIBE call needs subscribe.framework_info")
		return
	}
	if !api.IsNull(c.Subscribe.OfferConstraints) {
		refuse(w, http.StatusBadRequest, "subscribe.offer_constraints", "%s", core.NoOfferConstraints)
		return
	}
	media, ok := streamMedia(w, r)
	if !ok {
		return
	}
	info := &c.Subscribe.FrameworkInfo
	if who := Principal(r); m.opts.Credentials != nil && info.Principal != who {
		if info.Principal != "" {
			m.opts.Audit.Record(auth.Event{Principal: who, Action: "subscribe", Object: info.Principal, Detail: "framework_info.principal is not the caller's"})
			refuse(w, http.StatusForbidden, "subscribe.framework_info.principal", "framework_info.principal %.64q is not the principal the call authenticated as (%q)", info.Principal, who)
			return
		}
		info.Principal = who
	}
	m.mu.Lock()
	if m.core == nil {
		m.mu.Unlock()
		m.notLeader(w, r)
		return
	}
	sid, out := m.openStream()
	m.core.SetMasterInfo(masterInfo(r, m.core.ID()))
	if _, ref := m.core.Subscribe(m.opts.Now(), sid, c.Subscribe.FrameworkInfo, c.Subscribe.SuppressedRoles...); ref != nil {
		delete(m.streams, sid)
		m.mu.Unlock()
		m.audited(r, "subscribe", ref)
		refused(w, ref)
		return
	}
	m.flush()
	m.mu.Unlock()
	w.Header().Set(api.StreamIDHeader, sid)
	w.Header().Set("Mesos-Stream-Id", sid)
	serveStream(w, r, out, media, func() { m.gone(sid, false) })
}

func (m *Master) serveAgent(w http.ResponseWriter, r *http.Request) {
	var c api.AgentCall
	if !decode(w, r, maxAgentCall, "an agent call", &c) {
		return
	}
	if c.Type != api.AgentCallSubscribe {
		var ref *core.Refusal
		if !m.input(func(now time.Time) { ref = m.core.AgentCall(now, Principal(r), &c) }) {
			m.notLeader(w, r)
			return
		}
		m.audited(r, "agent call "+c.Type, ref)
		if ref != nil {
			refused(w, ref)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if c.Subscribe == nil {
		refuse(w, http.StatusBadRequest, "subscribe", "a SUBSCRIBE call needs subscribe")
		return
	}
	if m.opts.Credentials != nil {
		if err := checkAgentURL(r.Context(), r.RemoteAddr, c.Subscribe.URL); err != nil {
			m.opts.Audit.Record(auth.Event{Principal: Principal(r), Action: "agent subscribe", Object: c.Subscribe.Name, Detail: err.Error()})
			refuse(w, http.StatusForbidden, "subscribe.url", "%v", err)
			return
		}
	}
	m.mu.Lock()
	if m.core == nil {
		m.mu.Unlock()
		m.notLeader(w, r)
		return
	}
	sid, out := m.openStream()
	if ref := m.core.AgentSubscribe(m.opts.Now(), sid, Principal(r), c.Subscribe); ref != nil {
		delete(m.streams, sid)
		m.mu.Unlock()
		m.audited(r, "agent subscribe", ref)
		refused(w, ref)
		return
	}
	m.flush()
	m.mu.Unlock()
	serveStream(w, r, out, recordIO, func() { m.gone(sid, true) })
}

// gone tells the core an event stream ended.
func (m *Master) gone(sid string, agent bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.streams, sid)
	if m.core == nil {
		return
	}
	if agent {
		m.core.AgentGone(m.opts.Now(), sid)
	} else {
		m.core.FrameworkGone(m.opts.Now(), sid)
	}
	m.flush()
}
