package api

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Mesos' v1 types that the scheduler API shares with mesos.proto, in the
// JSON form of Mesos' protobuf mapping: the proto field names, enums as
// their names, bytes as base64, and null taken as unset.

// MesosVersion is the Mesos release whose APIs apron speaks, as it says
// in SUBSCRIBED's master_info, /version, GET_VERSION and /master/state
// (apron's own build is in their git fields).
const MesosVersion = "1.11.0"

// UUID is a status update's uuid: 16 raw bytes (Mesos' bytes uuid, base64
// in JSON). The string holds the bytes themselves; String shows them in
// hex.
type UUID string

// UUIDLen is the length of a uuid Mesos accepts in an acknowledgement.
const UUIDLen = 16

// MarshalJSON writes the bytes as base64, as Mesos writes bytes.
func (u UUID) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.StdEncoding.EncodeToString([]byte(u)))
}

// UnmarshalJSON reads base64; null leaves the uuid unset.
func (u *UUID) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("uuid %.40q is not base64: %w", s, err)
	}
	*u = UUID(b)
	return nil
}

// String shows the uuid in hex.
func (u UUID) String() string { return hex.EncodeToString([]byte(u)) }

// Labels are key-value pairs a framework attaches (Mesos' Labels).
type Labels struct {
	Labels []Label `json:"labels,omitempty"`
}

// Label is one label.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Get returns the value of the label named key, if there is one.
func (l *Labels) Get(key string) (string, bool) {
	if l == nil {
		return "", false
	}
	for _, x := range l.Labels {
		if x.Key == key {
			return x.Value, true
		}
	}
	return "", false
}

// TimeInfo is a point in time, in nanoseconds since the epoch.
type TimeInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

// DurationInfo is a duration in nanoseconds.
type DurationInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

// KillPolicy says how a task is killed: its grace period between SIGTERM
// and SIGKILL.
type KillPolicy struct {
	GracePeriod *DurationInfo `json:"grace_period,omitempty"`
}

// MasterInfo describes the master a framework subscribed with, as
// SUBSCRIBED carries it. IP is the IPv4 address in network byte order
// read as a little-endian number, as Mesos stores it.
type MasterInfo struct {
	ID       string   `json:"id"`
	IP       uint32   `json:"ip"`
	Port     uint32   `json:"port"`
	PID      string   `json:"pid,omitempty"` // master@host:port (the operator API's)
	Hostname string   `json:"hostname,omitempty"`
	Version  string   `json:"version,omitempty"`
	Address  *Address `json:"address,omitempty"`
}

// PackedIP is an IPv4 address as MasterInfo.IP holds it: its bytes in
// network order read as a little-endian uint32 (127.0.1.1 is 16842879);
// 0 for anything else.
func PackedIP(ip net.IP) uint32 {
	ip4 := ip.To4()
	if ip4 == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(ip4)
}

// Address is a network address.
type Address struct {
	Hostname string `json:"hostname,omitempty"`
	IP       string `json:"ip,omitempty"`
	Port     int32  `json:"port"`
}

// Value types of Mesos' Value.Type, for resources and attributes.
const (
	ValueScalar = "SCALAR"
	ValueRanges = "RANGES"
	ValueSet    = "SET"
	ValueText   = "TEXT"
)

// Range is an inclusive range of integers.
type Range struct {
	Begin uint64 `json:"begin"`
	End   uint64 `json:"end"`
}

// Ranges is a list of ranges.
type Ranges struct {
	Range []Range `json:"range,omitempty"`
}

// Set is a set of strings.
type Set struct {
	Item []string `json:"item,omitempty"`
}

// Text is a text value.
type Text struct {
	Value string `json:"value"`
}

// Attribute is an agent's attribute as offers carry it (Mesos'
// Attribute): a name and a typed value.
type Attribute struct {
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Scalar *Scalar `json:"scalar,omitempty"`
	Ranges *Ranges `json:"ranges,omitempty"`
	Set    *Set    `json:"set,omitempty"`
	Text   *Text   `json:"text,omitempty"`
}

// AttributesOf turns an agent's attributes (name: value text, as an agent
// is given them) into Mesos' Attribute objects, sorted by name. A value is
// typed as Mesos' agents type theirs: a number is SCALAR, "[a-b,c-d]" is
// RANGES, "{a,b}" is SET, anything else TEXT.
func AttributesOf(m map[string]string) []Attribute {
	if len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]Attribute, 0, len(names))
	for _, name := range names {
		out = append(out, attributeOf(name, m[name]))
	}
	return out
}

func attributeOf(name, text string) Attribute {
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return Attribute{Name: name, Type: ValueScalar, Scalar: &Scalar{Value: f}}
	}
	if r, ok := parseRanges(text); ok {
		return Attribute{Name: name, Type: ValueRanges, Ranges: r}
	}
	if inner, ok := strings.CutPrefix(text, "{"); ok && strings.HasSuffix(inner, "}") {
		var items []string
		for _, it := range strings.Split(strings.TrimSuffix(inner, "}"), ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		return Attribute{Name: name, Type: ValueSet, Set: &Set{Item: items}}
	}
	return Attribute{Name: name, Type: ValueText, Text: &Text{Value: text}}
}

// parseRanges reads "[a-b, c-d]".
func parseRanges(text string) (*Ranges, bool) {
	inner, ok := strings.CutPrefix(text, "[")
	if !ok || !strings.HasSuffix(inner, "]") {
		return nil, false
	}
	var out Ranges
	for _, part := range strings.Split(strings.TrimSuffix(inner, "]"), ",") {
		lo, hi, ok := strings.Cut(strings.TrimSpace(part), "-")
		b, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		e, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 64)
		if !ok || err1 != nil || err2 != nil || e < b {
			return nil, false
		}
		out.Range = append(out.Range, Range{Begin: b, End: e})
	}
	return &out, true
}

// String is the attribute's value as text, as an agent was given it.
func (a Attribute) String() string {
	switch {
	case a.Scalar != nil:
		return strconv.FormatFloat(a.Scalar.Value, 'f', -1, 64)
	case a.Ranges != nil:
		parts := make([]string, len(a.Ranges.Range))
		for i, r := range a.Ranges.Range {
			parts[i] = fmt.Sprintf("%d-%d", r.Begin, r.End)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case a.Set != nil:
		return "{" + strings.Join(a.Set.Item, ",") + "}"
	case a.Text != nil:
		return a.Text.Value
	}
	return ""
}

// AttributeMap is the reverse of AttributesOf: name to value text.
func AttributeMap(as []Attribute) map[string]string {
	if len(as) == 0 {
		return nil
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.Name] = a.String()
	}
	return m
}
