package master

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// fw is a subscribed framework.
type fw struct {
	id           string
	info         api.FrameworkInfo
	roles        []string
	streamID     string
	out          *outbox // nil while disconnected
	registered   time.Time
	disconnected time.Time
	tasks        map[string]*task // not yet terminal
	launched     []*task          // in launch order, with some that ended
	done         []*task          // terminal, the last Options.Retain
	pending      []api.Event      // updates queued while disconnected
	suppressed   map[string]bool
	removed      time.Time // torn down, for the completed frameworks
	why          string
}

// keepGone is how many torn-down frameworks the master remembers, with
// their finished tasks, for /state and the web UI.
const keepGone = 100

// allFws is every framework the master remembers: the subscribed ones by
// id, then the torn-down ones, oldest first.
func (m *Master) allFws() []*fw {
	out := make([]*fw, 0, len(m.fws)+len(m.gone))
	for _, id := range sorted.Keys(m.fws) {
		out = append(out, m.fws[id])
	}
	return append(out, m.gone...)
}

// lookupFw finds a subscribed or torn-down framework.
func (m *Master) lookupFw(id string) *fw {
	if f := m.fws[id]; f != nil {
		return f
	}
	for _, f := range m.gone {
		if f.id == id {
			return f
		}
	}
	return nil
}

func (f *fw) send(e api.Event) {
	if f.out != nil {
		f.out.send(e)
		return
	}
	if e.Type == api.EventUpdate {
		f.pending = append(f.pending, e)
	}
}

// refuse writes a JSON error with the field it is about.
func refuse(w http.ResponseWriter, code int, field, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: fmt.Sprintf(format, args...), Field: field})
}

func (m *Master) serveScheduler(w http.ResponseWriter, r *http.Request) {
	var c api.Call
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		refuse(w, http.StatusBadRequest, jsonField(err), "the call is not valid JSON for a scheduler call: %v", err)
		return
	}
	if c.Type == api.CallSubscribe {
		m.subscribe(w, r, &c)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f, code, field, err := m.caller(r, &c)
	if err != nil {
		refuse(w, code, field, "%v", err)
		return
	}
	if field, err := m.dispatch(f, &c); err != nil {
		refuse(w, http.StatusBadRequest, field, "%v", err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// caller finds the framework a call is from and checks its stream id.
func (m *Master) caller(r *http.Request, c *api.Call) (*fw, int, string, error) {
	if c.FrameworkID == nil || c.FrameworkID.Value == "" {
		return nil, http.StatusBadRequest, "framework_id", fmt.Errorf("framework_id is required for a %s call", c.Type)
	}
	f := m.fws[c.FrameworkID.Value]
	if f == nil {
		return nil, http.StatusNotFound, "framework_id", fmt.Errorf("framework %q is not subscribed (it never was, or it was torn down)", c.FrameworkID.Value)
	}
	sid := cmp.Or(r.Header.Get(api.StreamIDHeader), r.Header.Get("Mesos-Stream-Id"))
	if f.out == nil || sid != f.streamID {
		return nil, http.StatusForbidden, api.StreamIDHeader, fmt.Errorf("the %s header %q is not framework %s's current subscription", api.StreamIDHeader, sid, f.id)
	}
	return f, 0, "", nil
}

// dispatch runs one call of a subscribed framework; an error names the
// field that was wrong.
func (m *Master) dispatch(f *fw, c *api.Call) (string, error) {
	switch c.Type {
	case api.CallTeardown:
		m.teardown(f, "torn down by the framework")
	case api.CallAccept:
		if c.Accept == nil {
			return "accept", fmt.Errorf("an ACCEPT call needs an accept object")
		}
		return m.accept(f, c.Accept)
	case api.CallDecline:
		if c.Decline == nil {
			return "decline", fmt.Errorf("a DECLINE call needs a decline object")
		}
		refuse := refuseOf(c.Decline.Filters)
		for _, id := range c.Decline.OfferIDs {
			if oid, ok := m.parseOfferID(id.Value); ok && m.ownsOffer(f, oid) {
				_ = m.alloc.Decline(oid, refuse, m.opts.Now())
				m.stats.declined++
			}
		}
	case api.CallRevive, api.CallSuppress:
		return m.reviveOrSuppress(f, c)
	case api.CallKill:
		if c.Kill == nil || c.Kill.TaskID.Value == "" {
			return "kill.task_id", fmt.Errorf("a KILL call needs kill.task_id")
		}
		m.killTask(f, c.Kill.TaskID.Value)
	case api.CallAcknowledge:
		if c.Acknowledge == nil || c.Acknowledge.UUID == "" {
			return "acknowledge.uuid", fmt.Errorf("an ACKNOWLEDGE call needs acknowledge.agent_id, task_id and uuid")
		}
		m.acknowledge(f, c.Acknowledge)
	case api.CallReconcile:
		m.reconcile(f, c.Reconcile)
	default:
		return "type", fmt.Errorf("unknown call type %q; known: SUBSCRIBE, TEARDOWN, ACCEPT, DECLINE, REVIVE, SUPPRESS, KILL, ACKNOWLEDGE, RECONCILE", c.Type)
	}
	return "", nil
}

func refuseOf(f *api.Filters) time.Duration {
	if f == nil || f.RefuseSeconds == nil {
		return 0
	}
	if *f.RefuseSeconds <= 0 {
		return -1 // no filter
	}
	return time.Duration(*f.RefuseSeconds * float64(time.Second))
}

func (m *Master) ownsOffer(f *fw, id allocator.OfferID) bool {
	o, ok := m.alloc.Offer(id)
	return ok && string(o.Framework) == f.id
}

func (m *Master) reviveOrSuppress(f *fw, c *api.Call) (string, error) {
	var roles []string
	if c.Revive != nil {
		roles = c.Revive.Roles
	}
	if c.Suppress != nil {
		roles = c.Suppress.Roles
	}
	for i, r := range roles {
		if !slices.Contains(f.roles, r) {
			return fmt.Sprintf("roles[%d]", i), fmt.Errorf("framework %s is not subscribed to role %q; its roles: %v", f.id, r, f.roles)
		}
	}
	if len(roles) == 0 {
		roles = f.roles
	}
	if c.Type == api.CallSuppress {
		_ = m.alloc.Suppress(allocator.FrameworkID(f.id), roles...)
	} else {
		_ = m.alloc.Revive(allocator.FrameworkID(f.id), roles...)
		m.soon()
	}
	for _, r := range roles {
		f.suppressed[r] = c.Type == api.CallSuppress
	}
	return "", nil
}

// subscribe registers a framework (or takes back one that failed over) and
// serves its event stream until it disconnects.
func (m *Master) subscribe(w http.ResponseWriter, r *http.Request, c *api.Call) {
	if c.Subscribe == nil {
		refuse(w, http.StatusBadRequest, "subscribe", "a SUBSCRIBE call needs subscribe.framework_info")
		return
	}
	info := c.Subscribe.FrameworkInfo
	if len(info.Roles) == 0 {
		info.Roles = []string{"*"}
	}
	for i, role := range info.Roles {
		if err := allocator.ValidateRole(role); err != nil && role != "*" {
			refuse(w, http.StatusBadRequest, fmt.Sprintf("subscribe.framework_info.roles[%d]", i), "%v", err)
			return
		}
	}
	m.mu.Lock()
	f, code, field, err := m.register(info)
	if err != nil {
		m.mu.Unlock()
		refuse(w, code, field, "%v", err)
		return
	}
	out := newOutbox()
	if f.out != nil {
		f.out.send(api.Event{Type: api.EventError, Error: &api.Error{Message: "framework resubscribed on another connection"}})
		f.out.close()
	}
	f.out, f.streamID, f.disconnected = out, streamID(), time.Time{}
	out.send(api.Event{Type: api.EventSubscribed, Subscribed: &api.Subscribed{FrameworkID: api.ID{Value: f.id}, HeartbeatIntervalSeconds: m.opts.Heartbeat.Seconds()}})
	for _, e := range f.pending {
		out.send(e)
	}
	f.pending = nil
	w.Header().Set(api.StreamIDHeader, f.streamID)
	w.Header().Set("Mesos-Stream-Id", f.streamID)
	m.mu.Unlock()
	m.soon()
	serveStream(w, r, out, func() { m.disconnected(f, out) })
}

// register adds a framework, or revives the one a resubscription names.
func (m *Master) register(info api.FrameworkInfo) (*fw, int, string, error) {
	roles := make([]string, len(info.Roles))
	for i, r := range info.Roles {
		roles[i] = wireRole(r)
	}
	if info.ID != nil && info.ID.Value != "" {
		f := m.fws[info.ID.Value]
		if f == nil {
			return nil, http.StatusNotFound, "subscribe.framework_info.id", fmt.Errorf("framework %q is not known: it was torn down or its failover timeout passed; subscribe without an id", info.ID.Value)
		}
		f.info.FailoverTimeout = info.FailoverTimeout
		_ = m.alloc.Revive(allocator.FrameworkID(f.id))
		clear(f.suppressed)
		return f, 0, "", nil
	}
	m.nextFw++
	id := fmt.Sprintf("%s-%04d", m.start.UTC().Format("20060102-150405"), m.nextFw)
	if err := m.alloc.AddFramework(allocator.FrameworkID(id), roles...); err != nil {
		return nil, http.StatusBadRequest, "subscribe.framework_info.roles", err
	}
	info.ID = &api.ID{Value: id}
	f := &fw{id: id, info: info, roles: roles, registered: m.opts.Now(), tasks: map[string]*task{}, suppressed: map[string]bool{}}
	m.fws[id] = f
	m.opts.Log.Info("framework subscribed", "id", id, "name", info.Name, "roles", roles)
	return f, 0, "", nil
}

// wireRole maps Mesos' "*" (the default role) to the allocator's name for it.
func wireRole(r string) string {
	if r == "*" {
		return "default"
	}
	return r
}

func streamID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// disconnected runs when a framework's stream ends: its offers are
// rescinded and it gets no more until it resubscribes, within its failover
// timeout, or it is torn down.
func (m *Master) disconnected(f *fw, out *outbox) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.out != out || m.fws[f.id] != f {
		return // resubscribed on another stream, or torn down
	}
	f.out, f.disconnected = nil, m.opts.Now()
	_ = m.alloc.Suppress(allocator.FrameworkID(f.id))
	m.rescindAll(f)
	m.opts.Log.Info("framework disconnected", "id", f.id, "failover_timeout_s", f.info.FailoverTimeout)
	if f.info.FailoverTimeout <= 0 {
		m.teardown(f, "disconnected with no failover timeout")
	}
}

func (m *Master) rescindAll(f *fw) {
	for _, o := range m.alloc.Offers() {
		if string(o.Framework) == f.id {
			_ = m.alloc.Rescind(o.ID)
		}
	}
}

// teardown removes a framework: its tasks are killed and its resources
// freed.
func (m *Master) teardown(f *fw, why string) {
	for _, id := range sorted.Keys(f.tasks) {
		t := f.tasks[id]
		if ag := m.agents[t.agent]; ag != nil && ag.out != nil {
			ag.out.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: f.id, TaskID: id}})
		}
		m.setState(t, api.TaskStatus{TaskID: api.ID{Value: id}, State: "TASK_KILLED", Reason: "REASON_FRAMEWORK_REMOVED", Message: why, Source: "SOURCE_MASTER"})
	}
	_ = m.alloc.RemoveFramework(allocator.FrameworkID(f.id))
	if f.out != nil {
		f.out.close()
	}
	delete(m.fws, f.id)
	f.removed, f.why = m.opts.Now(), why
	m.gone = append(m.gone, f)
	if len(m.gone) > keepGone {
		for _, t := range m.gone[0].done {
			m.fragBytes -= len(t.frag)
		}
		m.gone = append(m.gone[:0], m.gone[1:]...)
	}
	m.opts.Log.Info("framework removed", "id", f.id, "why", why)
}

// failovers tears down frameworks disconnected past their failover timeout.
func (m *Master) failovers(now time.Time) {
	for _, id := range sorted.Keys(m.fws) {
		f := m.fws[id]
		if f.out == nil && now.Sub(f.disconnected).Seconds() > f.info.FailoverTimeout {
			m.teardown(f, "failover timeout passed")
		}
	}
}

// jsonField names the field a decoding error is about, if it says.
func jsonField(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return ute.Field
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(name, `"`)
	}
	return ""
}
