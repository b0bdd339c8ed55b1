package chaos

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/master"
)

// What an entry of the history records.
const (
	WhatCall       = "call"        // a framework's call and the master's answer (Code 0: no answer, Err says why)
	WhatSubscribe  = "subscribe"   // a SUBSCRIBE and its answer
	WhatEvent      = "event"       // an event a framework received
	WhatClosed     = "closed"      // a framework's stream ended
	WhatFaultBegin = "fault-begin" // a fault was injected
	WhatFaultEnd   = "fault-end"   // its end: the agent or master is back, the framework resumed
	WhatSnapshot   = "snapshot"    // the leading master's /state
	WhatView       = "view"        // what a master said of the masters (GET /api/v1/masters) after a leader's pause
	WhatPhase      = "phase"       // Note names it: recovery, quiescent, final-reconcile, done
)

// Entry is one thing the suite did or saw, at T since the run began.
type Entry struct {
	T        time.Duration `json:"t"`
	Who      string        `json:"who"` // a framework's name, "fault" or "tester"
	What     string        `json:"what"`
	Call     *api.Call     `json:"call,omitempty"`
	Code     int           `json:"code,omitempty"`
	Err      string        `json:"err,omitempty"`
	Event    *api.Event    `json:"event,omitempty"`
	Fault    *Fault        `json:"fault,omitempty"`
	Snapshot *Snapshot     `json:"snapshot,omitempty"`
	View     *View         `json:"view,omitempty"`
	// Master is the id (1-based) of the master that answered a SUBSCRIBE
	// or a call, or that a master fault was done to.
	Master int    `json:"master,omitempty"`
	Note   string `json:"note,omitempty"`
}

// View is what one master said of the masters.
type View struct {
	Master int    `json:"master"` // who answered
	Leader int    `json:"leader"` // whom it takes for the leader; 0: none
	Term   uint64 `json:"term"`
}

// Snapshot is the part of the master's /state the checker reads.
type Snapshot struct {
	Master               int    // the id of the master that answered (the leader); 0: unknown
	Term                 uint64 // its raft term
	Total, Used, Offered master.Amounts
	Agents               []SnapAgent
	Tasks                []SnapTask
}

// SnapAgent is one agent of a snapshot.
type SnapAgent struct {
	ID                   string
	State                string
	Connected            bool
	Total, Used, Offered master.Amounts
}

// SnapTask is one task of a snapshot.
type SnapTask struct {
	ID, Framework, Agent, State, Resources string
}

// snapshotOf reduces a /state.
func snapshotOf(st master.State) *Snapshot {
	s := &Snapshot{Total: st.Resources.Total, Used: st.Resources.Used, Offered: st.Resources.Offered}
	if st.Cluster != nil {
		s.Master, s.Term = int(st.Cluster.Self), st.Cluster.Term
	}
	for _, a := range st.Agents {
		s.Agents = append(s.Agents, SnapAgent{ID: a.ID, State: a.State, Connected: a.Connected,
			Total: a.Resources.Total, Used: a.Resources.Used, Offered: a.Resources.Offered})
	}
	for _, t := range st.Tasks {
		s.Tasks = append(s.Tasks, SnapTask{ID: t.ID, Framework: t.FrameworkID, Agent: t.AgentID, State: t.State, Resources: t.Resources})
	}
	return s
}

// History records entries from every goroutine of a run, in order.
type History struct {
	mu      sync.Mutex
	start   time.Time
	entries []Entry
}

// NewHistory starts a history at start.
func NewHistory(start time.Time) *History { return &History{start: start} }

// Add records e at the present moment.
func (h *History) Add(e Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.T = time.Since(h.start)
	h.entries = append(h.entries, e)
}

// AddAt records e at t since the history began: a call at the moment it
// was sent, recorded once answered.
func (h *History) AddAt(e Entry, t time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.T = t
	h.entries = append(h.entries, e)
}

// Since is the time since the history began.
func (h *History) Since() time.Duration { return time.Since(h.start) }

// Entries returns a copy of the entries so far, in time order.
func (h *History) Entries() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]Entry(nil), h.entries...)
	slices.SortStableFunc(out, func(a, b Entry) int { return cmp.Compare(a.T, b.T) })
	return out
}

// WriteJSONL writes entries one JSON object a line.
func WriteJSONL(path string, entries []Entry) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range entries {
		if err := enc.Encode(&entries[i]); err != nil {
			f.Close()
			return fmt.Errorf("%s: entry %d: %w", path, i, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// String is an entry as one line for a person.
func (e Entry) String() string {
	s := fmt.Sprintf("%8.3fs %-6s %-11s", e.T.Seconds(), e.Who, e.What)
	switch {
	case e.Call != nil:
		s += " " + callString(e.Call)
		if e.Code != 0 {
			s += fmt.Sprintf(" -> %d", e.Code)
		}
	case e.Event != nil:
		s += " " + eventString(e.Event)
	case e.Fault != nil:
		s += " " + string(e.Fault.Kind)
	case e.Snapshot != nil:
		s += fmt.Sprintf(" m%d term %d: used=%v offered=%v tasks=%d", e.Snapshot.Master, e.Snapshot.Term, e.Snapshot.Used, e.Snapshot.Offered, len(e.Snapshot.Tasks))
	case e.View != nil:
		s += fmt.Sprintf(" m%d says m%d leads, term %d", e.View.Master, e.View.Leader, e.View.Term)
	}
	if e.Master != 0 && e.Snapshot == nil && e.View == nil {
		s += fmt.Sprintf(" (m%d)", e.Master)
	}
	if e.Err != "" {
		s += " err=" + e.Err
	}
	if e.Note != "" {
		s += " " + e.Note
	}
	return s
}

func callString(c *api.Call) string {
	switch {
	case c.Accept != nil:
		var ids, tasks []string
		for _, o := range c.Accept.OfferIDs {
			ids = append(ids, o.Value)
		}
		for _, op := range c.Accept.Operations {
			if op.Launch != nil {
				for _, ti := range op.Launch.TaskInfos {
					tasks = append(tasks, ti.TaskID.Value)
				}
			}
		}
		return fmt.Sprintf("ACCEPT offers=%s tasks=%s", strings.Join(ids, ","), strings.Join(tasks, ","))
	case c.Kill != nil:
		return "KILL " + c.Kill.TaskID.Value
	case c.Acknowledge != nil:
		return fmt.Sprintf("ACKNOWLEDGE %s uuid=%s", c.Acknowledge.TaskID.Value, short(c.Acknowledge.UUID))
	case c.Reconcile != nil:
		var ids []string
		for _, t := range c.Reconcile.Tasks {
			ids = append(ids, t.TaskID.Value)
		}
		return "RECONCILE " + strings.Join(ids, ",")
	case c.Subscribe != nil && c.Subscribe.FrameworkInfo.ID != nil:
		return "SUBSCRIBE id=" + c.Subscribe.FrameworkInfo.ID.Value
	}
	return c.Type
}

func eventString(e *api.Event) string {
	switch {
	case e.Update != nil:
		s := e.Update.Status
		agent := ""
		if s.AgentID != nil {
			agent = s.AgentID.Value
		}
		return fmt.Sprintf("UPDATE %s %s reason=%s source=%s agent=%s uuid=%s msg=%q", s.TaskID.Value, s.State, s.Reason, s.Source, agent, short(s.UUID), s.Message)
	case e.Offers != nil:
		var ids []string
		for _, o := range e.Offers.Offers {
			ids = append(ids, o.ID.Value+"@"+o.AgentID.Value)
		}
		return "OFFERS " + strings.Join(ids, ",")
	case e.Rescind != nil:
		return "RESCIND " + e.Rescind.OfferID.Value
	case e.Subscribed != nil:
		return "SUBSCRIBED " + e.Subscribed.FrameworkID.Value
	case e.Error != nil:
		return "ERROR " + e.Error.Message
	}
	return e.Type
}

func short(uuid api.UUID) string { s := uuid.String(); return s[:min(len(s), 8)] }
