package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

func init() {
	Register(Format{
		Name:     "google2019",
		Describe: "Google cluster-data 2019 (clusterdata_2019_<cell>) as exported JSON lines: collection_events and instance_events for jobs, machine_events for machines",
		Detect:   detectGoogle2019,
		Jobs: func(in *Input, opts Options) (JobReader, error) {
			return newGoogle2019Jobs(in, opts), nil
		},
		Machines: func(in *Input, opts Options) (MachineReader, error) {
			return newGoogle2019Machines(in, opts), nil
		},
	})
}

// google2019Number is a number of the export, as its text: BigQuery
// writes INT64 as a JSON string ("123") and floats as numbers; either is
// kept (null or a missing field as empty) and read with its field's name
// at hand.
type google2019Number []byte

func (n *google2019Number) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*n = nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = google2019Number(s)
	default:
		*n = append((*n)[:0:0], b...)
	}
	return nil
}

// set takes a value for the fast path (see googleMembers).
func (n *google2019Number) set(val []byte, kind byte) {
	if kind == 'n' {
		*n = nil
	} else {
		*n = val
	}
}

type google2019Resources struct {
	CPUs   google2019Number `json:"cpus"`
	Memory google2019Number `json:"memory"`
}

func (r *google2019Resources) set(key, val []byte, kind byte) bool {
	switch string(key) {
	case "cpus":
		r.CPUs.set(val, kind)
	case "memory":
		r.Memory.set(val, kind)
	default:
		return googlePlainKey(key)
	}
	return true
}

// google2019SetResources sets a Resources field for the fast path, in buf
// when it is nil, as encoding/json would.
func google2019SetResources(p **google2019Resources, buf *google2019Resources, val []byte, kind byte) bool {
	switch kind {
	case 'n':
		*p = nil
		return true
	case '{':
		if *p == nil {
			*buf = google2019Resources{}
			*p = buf
		}
		return googleMembers(val, (*p).set)
	}
	return false
}

// google2019Event is a line of instance_events or of collection_events
// (which has no instance_index), with only the fields the reader uses.
type google2019Event struct {
	Time            google2019Number     `json:"time"`
	Type            google2019Number     `json:"type"`
	CollectionID    google2019Number     `json:"collection_id"`
	SchedulingClass google2019Number     `json:"scheduling_class"`
	CollectionType  google2019Number     `json:"collection_type"`
	Priority        google2019Number     `json:"priority"`
	InstanceIndex   google2019Number     `json:"instance_index"`
	ResourceRequest *google2019Resources `json:"resource_request"`
	User            string               `json:"user"`
	MachineID       google2019Number     `json:"machine_id"`
	res             google2019Resources  // where the fast path puts ResourceRequest
}

// set takes one member of a line for the fast path.
func (l *google2019Event) set(key, val []byte, kind byte) bool {
	switch string(key) {
	case "time":
		l.Time.set(val, kind)
	case "type":
		l.Type.set(val, kind)
	case "collection_id":
		l.CollectionID.set(val, kind)
	case "scheduling_class":
		l.SchedulingClass.set(val, kind)
	case "collection_type":
		l.CollectionType.set(val, kind)
	case "priority":
		l.Priority.set(val, kind)
	case "instance_index":
		l.InstanceIndex.set(val, kind)
	case "machine_id":
		l.MachineID.set(val, kind)
	case "resource_request":
		return google2019SetResources(&l.ResourceRequest, &l.res, val, kind)
	case "user":
		switch kind {
		case '"':
			l.User = string(val)
		case 'n': // null leaves a string as it is
		default:
			return false
		}
	default:
		return googlePlainKey(key)
	}
	return true
}

// The proto field numbers of the fields, the Column of a ParseError.
var google2019Columns = map[string]int{
	"time": 1, "type": 2, "collection_id": 3, "scheduling_class": 4,
	"collection_type": 6, "priority": 7, "instance_index": 9, "user": 9,
	"resource_request": 12,
}

var google2019MachineColumns = map[string]int{
	"time": 1, "machine_id": 2, "type": 3, "switch_id": 4, "capacity": 5, "platform_id": 6,
}

// google2019Jobs reads the jobs of a cell of the Google 2019 trace from the
// JSON lines of instance_events, with the same semantics as the 2011
// reader (see google2011Jobs): an attempt runs from SCHEDULE (3) to EVICT,
// FAIL, FINISH, KILL or LOST (4-8); QUEUE, ENABLE and the UPDATEs change
// only the request; an instance submitted again after it ended is a new
// job "<collection>-<index>-r<n>"; tasks running at the end, or at time 0
// (before the trace), are Censored; events at 2^63-1 are ignored. Times are
// µs since the start of the trace (no offset, unlike 2011). CPUs (NCUs) and
// memory are fractions of the largest machine, scaled by
// Options.MachineCPUs and MachineMemMiB (defaults GoogleDefaultCPUs and
// GoogleDefaultMemMiB); there is no disk.
//
// Instance events carry no user: lines of collection_events in the same
// input (put their parts first) give each collection's user, kept for the
// whole read (one small entry per collection). Instances of alloc sets
// (collection_type 1) are reservations, not work, and are left out; tasks
// running inside allocs are read as ordinary tasks. Group is
// "class<scheduling_class>", Priority the priority (0-450).
//
// Memory is bounded like the 2011 reader's (tasks in flight, the
// Options.Reorder window of finished jobs, the jobs ended in the last
// hour), plus one map entry per collection of the collection_events given.
//
// Integers may be JSON strings (as BigQuery exports them) or numbers. The
// plain JSON of the export (no escapes) is read by a small scanner; any
// other line goes to encoding/json, with the same result.
type google2019Jobs struct {
	in    *Input
	opts  Options
	stats Stats
	eng   *borg
	scale [3]float64
	users map[int64]string
	line  google2019Event
	ev    borgEvent
}

func newGoogle2019Jobs(in *Input, opts Options) *google2019Jobs {
	r := &google2019Jobs{in: in, opts: opts, eng: newBorg(0, opts.Reorder), users: map[int64]string{}}
	r.scale = googleScale(opts, 0)
	r.stats.Units = fmt.Sprintf("µs since the trace start; CPUs (NCUs) and memory as fractions of a machine of %g cores, %g MiB",
		r.scale[0], r.scale[1])
	return r
}

func (r *google2019Jobs) Stats() Stats { return r.stats }

func (r *google2019Jobs) Next() (*Job, error) {
	return r.eng.next(r.in, &r.stats, r.opts, func(line []byte) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return errBlank
		}
		r.stats.Lines++
		ok, err := r.parse(line)
		if err == nil && ok {
			if err = r.eng.event(&r.ev); err != nil {
				err = google2019Error(r.in, 1, "time", err)
			}
		}
		return err
	})
}

func google2019Error(in *Input, col int, field string, err error) *ParseError {
	file, line := in.Pos()
	return &ParseError{File: file, Line: line, Column: col, Field: field, Err: err}
}

// google2019Unmarshal decodes one JSON line into v; a wrong type names
// its field by columns.
func google2019Unmarshal(in *Input, line []byte, v any, columns map[string]int) error {
	err := json.Unmarshal(line, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		top, _, _ := strings.Cut(te.Field, ".")
		return google2019Error(in, columns[top], te.Field, fmt.Errorf("%s; want %s", te.Value, google2019Want(te.Field)))
	}
	return google2019Error(in, 0, "", fmt.Errorf("not a JSON object of the trace: %v", err))
}

func google2019Want(field string) string {
	switch field {
	case "user", "platform_id", "switch_id":
		return "a string"
	case "resource_request", "capacity":
		return `an object {"cpus": n, "memory": n}`
	}
	return "a number (or a string of one)"
}

// parse reads one line into r.ev; false for a line that is no task event
// (a collection event, an alloc instance).
func (r *google2019Jobs) parse(line []byte) (bool, error) {
	l := &r.line
	*l = google2019Event{}
	if !googleMembers(line, l.set) {
		*l = google2019Event{}
		if err := google2019Unmarshal(r.in, line, l, google2019Columns); err != nil {
			return false, err
		}
	}
	bad := func(field string, err error) error {
		return google2019Error(r.in, google2019Columns[field], field, err)
	}
	num := func(field string, n google2019Number, def int64) (int64, error) {
		if len(n) == 0 {
			return def, nil
		}
		v, err := googleInt(n)
		if err != nil {
			return 0, bad(field, err)
		}
		return v, nil
	}
	if len(l.CollectionID) == 0 {
		if len(l.MachineID) > 0 && len(l.InstanceIndex) == 0 {
			return false, bad("collection_id", errors.New("missing: a machine_events line? read it for machines"))
		}
		return false, bad("collection_id", errors.New("missing; want instance_events or collection_events lines"))
	}
	cid, err := num("collection_id", l.CollectionID, 0)
	if err != nil {
		return false, err
	}
	if len(l.InstanceIndex) == 0 { // a collection event: its user
		if l.User != "" {
			if _, ok := r.users[cid]; !ok {
				r.users[cid] = googleIntern(r.eng.strs, []byte(l.User))
			}
		}
		return false, nil
	}
	ev := &r.ev
	ev.job = cid
	if ev.index, err = num("instance_index", l.InstanceIndex, 0); err != nil {
		return false, err
	}
	if len(l.Time) == 0 {
		return false, bad("time", errors.New("missing; want µs since the trace start"))
	}
	if ev.at, err = googleTime(l.Time); err != nil {
		return false, bad("time", err)
	}
	typ, err := num("type", l.Type, -1)
	if err != nil {
		return false, err
	}
	switch {
	case typ == 0:
		ev.kind = borgSubmit
	case typ == 3:
		ev.kind = borgSchedule
	case typ >= 4 && typ <= 8:
		ev.kind = borgEnd
	case typ == 1 || typ == 2 || typ == 9 || typ == 10:
		ev.kind = borgUpdate
	default:
		return false, bad("type", fmt.Errorf("%q; want 0 (SUBMIT) to 10 (UPDATE_RUNNING)", string(l.Type)))
	}
	class, err := num("scheduling_class", l.SchedulingClass, -1)
	if err != nil {
		return false, err
	}
	ev.class = int(min(max(class, -1), 1<<20))
	prio, err := num("priority", l.Priority, 0)
	if err != nil {
		return false, err
	}
	ev.prio = int(min(max(prio, -1<<31), 1<<31-1))
	ctype, err := num("collection_type", l.CollectionType, 0)
	if err != nil {
		return false, err
	}
	ev.has, ev.req = 0, [3]float64{}
	if rr := l.ResourceRequest; rr != nil {
		for i, n := range []google2019Number{rr.CPUs, rr.Memory} {
			v, ok, err := googleRequest(n)
			if err != nil {
				return false, bad("resource_request", err)
			}
			if ok {
				ev.req[i] = v * r.scale[i]
				ev.has |= 1 << i
			}
		}
	}
	ev.user = nil
	if u, ok := r.users[cid]; ok && (ev.kind == borgSubmit || ev.kind == borgSchedule) {
		ev.user = []byte(u)
	}
	return ctype != 1, nil
}

// google2019Machine is a line of machine_events.
type google2019Machine struct {
	Time       google2019Number     `json:"time"`
	MachineID  google2019Number     `json:"machine_id"`
	Type       google2019Number     `json:"type"`
	SwitchID   string               `json:"switch_id"`
	Capacity   *google2019Resources `json:"capacity"`
	PlatformID string               `json:"platform_id"`
}

// google2019Machines reads machine_events: ADD (1), REMOVE (2), UPDATE (3),
// capacities scaled like the requests; the platform and switch are the
// attributes "platform" and "switch". Events after the trace are left out.
type google2019Machines struct {
	in    *Input
	opts  Options
	stats Stats
	scale [3]float64
	strs  map[string]string
}

func newGoogle2019Machines(in *Input, opts Options) *google2019Machines {
	r := &google2019Machines{in: in, opts: opts, scale: googleScale(opts, 0), strs: map[string]string{}}
	r.stats.Units = fmt.Sprintf("µs since the trace start; CPUs (NCUs) and memory as fractions of a machine of %g cores, %g MiB",
		r.scale[0], r.scale[1])
	return r
}

func (r *google2019Machines) Stats() Stats { return r.stats }

func (r *google2019Machines) NextMachine() (*MachineEvent, error) {
	for {
		line, err := r.in.Line()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		r.stats.Lines++
		ev, err := r.parse(line)
		if err != nil {
			if skip, err := r.stats.skip(r.opts, err); !skip {
				return nil, err
			}
			continue
		}
		if ev != nil {
			return ev, nil
		}
	}
}

func (r *google2019Machines) parse(line []byte) (*MachineEvent, error) {
	var m google2019Machine
	if err := google2019Unmarshal(r.in, line, &m, google2019MachineColumns); err != nil {
		return nil, err
	}
	bad := func(field string, err error) error {
		return google2019Error(r.in, google2019MachineColumns[field], field, err)
	}
	if len(m.Time) == 0 {
		return nil, bad("time", errors.New("missing; want µs since the trace start"))
	}
	at, err := googleTime(m.Time)
	if err != nil {
		return nil, bad("time", err)
	}
	id, err := googleInt(m.MachineID)
	if err != nil {
		return nil, bad("machine_id", err)
	}
	typ, err := googleInt(m.Type)
	if err != nil || typ < 1 || typ > 3 {
		return nil, bad("type", fmt.Errorf("%q; want 1 (ADD), 2 (REMOVE) or 3 (UPDATE)", string(m.Type)))
	}
	ev := &MachineEvent{At: borgDur(at), Kind: MachineEventKind(typ - 1)}
	ev.Machine.ID = strconv.FormatInt(id, 10)
	if c := m.Capacity; c != nil {
		for i, p := range []*float64{&ev.Machine.Capacity.CPUs, &ev.Machine.Capacity.MemMiB} {
			v, _, err := googleRequest([]google2019Number{c.CPUs, c.Memory}[i])
			if err != nil {
				return nil, bad("capacity", err)
			}
			*p = v * r.scale[i]
		}
	}
	for k, v := range map[string]string{"platform": m.PlatformID, "switch": m.SwitchID} {
		if v != "" {
			if ev.Machine.Attributes == nil {
				ev.Machine.Attributes = map[string]string{}
			}
			ev.Machine.Attributes[k] = googleIntern(r.strs, []byte(v))
		}
	}
	if at == borgAfterTrace {
		return nil, nil
	}
	return ev, nil
}

// detectGoogle2019 recognises a JSON line of collection_events or
// instance_events (collection_id, time, type; not instance_usage, which has
// start_time) or of machine_events (machine_id, time, type; not
// machine_attributes, which has name).
func detectGoogle2019(head []byte) bool {
	lines := googleHeadLines(head, 1)
	if len(lines) == 0 || !bytes.HasPrefix(bytes.TrimSpace(lines[0]), []byte("{")) {
		return false
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(lines[0], &keys) != nil {
		return false
	}
	has := func(k string) bool { _, ok := keys[k]; return ok }
	if !has("time") || !has("type") || has("start_time") {
		return false
	}
	return has("collection_id") || has("machine_id") && !has("name") && !has("instance_index")
}

// googleMembers calls set with the key and value of each member of the
// JSON object that is b: a string without its quotes (kind '"'), an object
// or array whole ('{', '['), null ('n') or another literal as is ('0'). It
// reads only the plain JSON that BigQuery writes — no escapes, valid UTF-8
// — and reports false for anything else, or when set does, leaving that
// line to encoding/json.
func googleMembers(b []byte, set func(key, val []byte, kind byte) bool) bool {
	i := googleSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = googleSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return googleSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := googleString(b, i)
		if !ok {
			return false
		}
		i = googleSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		val, kind, j, ok := googleValue(b, googleSpace(b, i+1))
		if !ok || !set(key, val, kind) {
			return false
		}
		i = googleSpace(b, j)
		switch {
		case i < len(b) && b[i] == ',':
			i = googleSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return googleSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

func googleSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// googleString reads a plain string at b[i]: its content and its end.
func googleString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	n := bytes.IndexByte(b[i+1:], '"')
	if n < 0 {
		return nil, 0, false
	}
	s := b[i+1 : i+1+n]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, 0, false
		}
	}
	return s, i + 2 + n, utf8.Valid(s)
}

// googleValue reads the value at b[i]: see googleMembers.
func googleValue(b []byte, i int) (val []byte, kind byte, end int, ok bool) {
	if i >= len(b) {
		return nil, 0, 0, false
	}
	switch c := b[i]; c {
	case '"':
		s, end, ok := googleString(b, i)
		return s, '"', end, ok
	case '{', '[':
		end := googleNested(b, i)
		if end < 0 || !json.Valid(b[i:end]) {
			return nil, 0, 0, false
		}
		return b[i:end], c, end, true
	}
	end = i
	for end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] >= 'a' && b[end] <= 'z' || b[end] == '-' || b[end] == '+' || b[end] == '.' || b[end] == 'E') {
		end++
	}
	switch val = b[i:end]; {
	case string(val) == "null":
		return val, 'n', end, true
	case string(val) == "true" || string(val) == "false" || googleNumber(val):
		return val, '0', end, true
	}
	return nil, 0, 0, false
}

// googleNested returns the end of the object or array at b[i], or -1.
func googleNested(b []byte, i int) int {
	depth, in := 0, false
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case in:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// googleNumber reports whether b is a JSON number.
func googleNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// googlePlainKey reports whether an unknown key is surely no field:
// encoding/json also matches keys case-insensitively, so a key with
// capitals or beyond ASCII goes to it.
func googlePlainKey(key []byte) bool {
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
