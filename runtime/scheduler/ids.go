package scheduler

import (
	"strconv"
	"strings"

	"github.com/apronlab/apron/internal/sorted"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/sim/framework"
)

// taskIDs maps a framework's task ids (the simulator's are "job/index") to
// ids the master accepts (letters, digits, '-', '_', '.': they name
// sandboxes) and back.
//
// A task launched again after it ended (a lost task run again) gets a new
// wire id: Mesos wants task ids unique, and an agent may still hold the
// first run's last update.
type taskIDs struct {
	toWire map[framework.TaskID]string
	toFw   map[string]framework.TaskID
	runs   map[framework.TaskID]int // launches of each id so far
}

func newTaskIDs() taskIDs {
	return taskIDs{toWire: map[framework.TaskID]string{}, toFw: map[string]framework.TaskID{}, runs: map[framework.TaskID]int{}}
}

func (m taskIDs) wire(id framework.TaskID) string {
	if w, ok := m.toWire[id]; ok {
		return w
	}
	base := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, string(id))
	if n := m.runs[id]; n > 0 {
		base += ".r" + strconv.Itoa(n+1)
	}
	m.runs[id]++
	w := base
	for n := 2; ; n++ {
		if _, taken := m.toFw[w]; !taken {
			break
		}
		w = base + "-" + strconv.Itoa(n)
	}
	m.toWire[id], m.toFw[w] = w, id
	return w
}

func (m taskIDs) framework(w string) framework.TaskID {
	if id, ok := m.toFw[w]; ok {
		return id
	}
	return framework.TaskID(w)
}

// forget drops a task that ended, so its ids may be used again.
func (m taskIDs) forget(w string) {
	delete(m.toWire, m.toFw[w])
	delete(m.toFw, w)
}

// known reports whether w is a task the framework launched and has not
// seen end.
func (m taskIDs) known(w string) bool {
	_, ok := m.toFw[w]
	return ok
}

// live lists the tasks launched and not seen to end, sorted.
func (m taskIDs) live() []string { return sorted.Keys(m.toFw) }

// seenUpdates remembers the last update delivered of each task, so that
// an update sent again is delivered once. A task's updates come in order
// (an agent sends the next only once the last is acknowledged), so the
// last uuid and state tell a repeat. Ended tasks are remembered up to a
// bound, oldest forgotten first.
type seenUpdates struct {
	last  map[string]seenUpdate
	ended []string // ended tasks, oldest first
}

type seenUpdate struct {
	uuid  api.UUID
	state string
}

const keepEnded = 100000

func newSeenUpdates() seenUpdates { return seenUpdates{last: map[string]seenUpdate{}} }

// fresh reports whether s tells the framework something new, and
// remembers it.
func (m *seenUpdates) fresh(s api.TaskStatus) bool {
	id := s.TaskID.Value
	prev, ok := m.last[id]
	switch {
	case ok && s.UUID != "" && s.UUID == prev.uuid:
		return false // the same update, sent again
	case ok && s.UUID == "" && s.State == prev.state:
		return false // a reconciliation answer that tells nothing new
	case ok && framework.State(prev.state).Terminal():
		return false // it ended; nothing after counts
	}
	m.last[id] = seenUpdate{s.UUID, s.State}
	if framework.State(s.State).Terminal() {
		m.ended = append(m.ended, id)
		if len(m.ended) > keepEnded {
			delete(m.last, m.ended[0])
			m.ended = m.ended[1:]
		}
	}
	return true
}
