package core

import (
	"encoding/json"
	"strconv"
)

// TaskList is a list of tasks whose JSON is written by hand: /state with
// 100,000 tasks is mostly this list, and encoding/json's reflection would
// take most of its time.
type TaskList []TaskState

// MarshalJSON writes the list as encoding/json would.
func (l TaskList) MarshalJSON() ([]byte, error) { return l.appendJSON(nil), nil }

func (l TaskList) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, t := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = t.appendJSON(b)
	}
	return append(b, ']')
}

func (t TaskState) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, t.Name)
	b = append(b, `,"framework_id":`...)
	b = appendString(b, t.FrameworkID)
	b = append(b, `,"agent_id":`...)
	b = appendString(b, t.AgentID)
	b = append(b, `,"role":`...)
	b = appendString(b, t.Role)
	b = append(b, `,"state":`...)
	b = appendString(b, t.State)
	if t.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, t.Reason)
	}
	if t.Message != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, t.Message)
	}
	b = append(b, `,"resources":`...)
	b = appendString(b, t.Resources)
	b = append(b, `,"updated":`...)
	b = strconv.AppendFloat(b, t.Updated, 'f', 3, 64)
	return append(b, '}')
}

// plain marks the bytes a JSON string holds as they are: printable ASCII
// but for the quote, the backslash and the HTML characters encoding/json
// escapes.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendString appends s as a JSON string; a string with anything but
// plain bytes goes through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
