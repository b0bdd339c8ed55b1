package auth

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Audit records every operator action: who did what, when, and whether
// it was allowed, as one JSON line each.
type Audit struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// Event is one line of the audit log.
type Event struct {
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Object    string    `json:"object,omitempty"`
	Allowed   bool      `json:"allowed"`
	Rule      string    `json:"rule,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// NewAudit writes the audit log to w.
func NewAudit(w io.Writer) *Audit { return &Audit{w: w, now: time.Now} }

// OpenAudit appends the audit log to a file, made readable by its owner
// only.
func OpenAudit(path string) (*Audit, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return NewAudit(f), nil
}

// Record writes one event; a nil Audit records nothing.
func (a *Audit) Record(e Event) {
	if a == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = a.now().UTC()
	}
	data, _ := json.Marshal(e) // plain data: always marshals
	a.mu.Lock()
	defer a.mu.Unlock()
	_, _ = a.w.Write(append(data, '\n'))
}
