package scheduler

import (
	"strconv"
	"strings"

	"github.com/apronlab/apron/sim/framework"
)

// taskIDs maps a framework's task ids (the simulator's are "job/index") to
// ids the master accepts (letters, digits, '-', '_', '.': they name
// sandboxes) and back.
type taskIDs struct {
	toWire map[framework.TaskID]string
	toFw   map[string]framework.TaskID
}

func newTaskIDs() taskIDs {
	return taskIDs{toWire: map[framework.TaskID]string{}, toFw: map[string]framework.TaskID{}}
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
