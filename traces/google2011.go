package traces

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

func init() {
	Register(Format{
		Name:     "google2011",
		Describe: "Google cluster-data 2011 (clusterdata-2011-2): task_events for jobs (13 columns), machine_events for machines (6 columns), CSV without header",
		Detect:   detectGoogle2011,
		Jobs: func(in *Input, opts Options) (JobReader, error) {
			return newGoogle2011Jobs(in, opts), nil
		},
		Machines: func(in *Input, opts Options) (MachineReader, error) {
			return newGoogle2011Machines(in, opts), nil
		},
	})
}

// Machine size assumed by the Google readers, whose resources are fractions
// of the largest machine of the trace (Options.MachineCPUs and
// MachineMemMiB override the first two). The 2011 trace has no disk
// capacity for machines: every machine is taken to have
// GoogleDefaultDiskMiB, and disk requests are fractions of it.
const (
	GoogleDefaultCPUs    = 32
	GoogleDefaultMemMiB  = 65536
	GoogleDefaultDiskMiB = 1 << 20 // 1 TiB
)

// google2011Epoch is where the 2011 trace's observation window starts, in
// µs of the trace's clock: its time 0 is 600 s earlier.
const google2011Epoch = 600_000_000

var google2011TaskFields = [13]string{
	"time", "missing info", "job ID", "task index", "machine ID", "event type",
	"user", "scheduling class", "priority", "CPU request", "memory request",
	"disk space request", "different machines restriction",
}

var google2011MachineFields = [6]string{"time", "machine ID", "event type", "platform ID", "CPUs", "memory"}

// google2011Jobs reads the jobs of the Google 2011 trace from task_events
// (all its part files, in order, as one Input).
//
// A task attempt runs from its SCHEDULE to its FINISH, FAIL, KILL, EVICT or
// LOST; the request (CPU × MachineCPUs, memory × MachineMemMiB, disk ×
// GoogleDefaultDiskMiB) is the one of its SUBMIT or UPDATE_PENDING events,
// UPDATE_RUNNING only filling in what was left empty. Missing events are
// patched: a second SCHEDULE of a running task keeps the first, a SCHEDULE
// without SUBMIT submits too, and a SUBMIT of a running task ends that run
// there. A task SUBMITted again
// after it ended is a new job of that one task, "<job>-<index>-r<n>" for
// its n-th resubmission. A job is emitted once all the tasks its SUBMITs
// named have ended; a task first submitted after that makes a new job
// "<job>-b<n>". Submit is the first SUBMIT of the job, less the 600 s the
// trace clock runs before the window; User is the user hash, Group
// "class<N>" from the scheduling class and Priority the priority (0-11).
//
// Censoring: tasks still running at the end of the input end at the last
// time seen; tasks running at time 0 (before the window) started at the
// window's start; both are Censored (Duration is a lower bound). Tasks still
// pending at the end are Censored with Duration 0. Tasks that end without
// ever being scheduled never ran and are left out, as is a job left with no
// task. Events at time 2^63-1 (after the trace) are ignored.
//
// Order and memory: jobs end out of submit order, so finished jobs wait in a
// buffer until no earlier job is still running. The buffer holds at most
// Options.Reorder finished jobs (default 100000); when it is full, the
// earliest job still running is emitted Censored as it stands (its tasks
// still running are cut at the current time, those pending at 0; their
// later events are ignored). Output is thus always in submit order, and
// memory is bounded by the tasks in flight plus that window (plus the jobs
// that ended in the last hour of trace time, remembered to recognise
// resubmissions) — not by the length of the trace. A task submitted again
// more than an hour after its job ended is read as a new job, whose ID may
// repeat an earlier one. Events must be in time order, as the trace's part
// files are: a job submitted before one already emitted is a ParseError.
type google2011Jobs struct {
	in    *Input
	opts  Options
	stats Stats
	eng   *borg
	scale [3]float64
	ev    borgEvent
}

func newGoogle2011Jobs(in *Input, opts Options) *google2011Jobs {
	r := &google2011Jobs{in: in, opts: opts, eng: newBorg(google2011Epoch, opts.Reorder)}
	r.scale = googleScale(opts, GoogleDefaultDiskMiB)
	r.stats.Units = fmt.Sprintf("µs since 600 s before the window; CPU, memory and disk as fractions of a machine of %g cores, %g MiB, %g MiB",
		r.scale[0], r.scale[1], r.scale[2])
	return r
}

// googleScale returns the size of the largest machine: CPUs, memory and
// disk in MiB.
func googleScale(opts Options, disk float64) [3]float64 {
	s := [3]float64{opts.MachineCPUs, opts.MachineMemMiB, disk}
	if s[0] <= 0 {
		s[0] = GoogleDefaultCPUs
	}
	if s[1] <= 0 {
		s[1] = GoogleDefaultMemMiB
	}
	return s
}

func (r *google2011Jobs) Stats() Stats { return r.stats }

func (r *google2011Jobs) Next() (*Job, error) {
	return r.eng.next(r.in, &r.stats, r.opts, func(line []byte) error {
		if len(line) == 0 {
			return errBlank
		}
		r.stats.Lines++
		err := r.parse(line)
		if err == nil {
			if err = r.eng.event(&r.ev); err != nil {
				err = r.error(1, err)
			}
		}
		return err
	})
}

// errBlank says a line held nothing to read; next passes over it.
var errBlank = errors.New("blank line")

// next hands out the next finished job of a task-event reader, reading
// lines through handle (which parses one and feeds the engine) until one
// is; malformed lines stop it or, with SkipBad, are counted and passed.
func (b *borg) next(in *Input, stats *Stats, opts Options, handle func(line []byte) error) (*Job, error) {
	for {
		if j := b.pop(); j != nil {
			return j, nil
		}
		if b.eof {
			return nil, io.EOF
		}
		line, err := in.Line()
		if err == io.EOF {
			b.eof = true
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := handle(line); err != nil && err != errBlank {
			if skip, err := stats.skip(opts, err); !skip {
				return nil, err
			}
		}
	}
}

func (r *google2011Jobs) error(col int, err error) *ParseError {
	file, line := r.in.Pos()
	e := &ParseError{File: file, Line: line, Column: col, Err: err}
	if col > 0 {
		e.Field = google2011TaskFields[col-1]
	}
	return e
}

// parse reads one task_events line into r.ev.
func (r *google2011Jobs) parse(line []byte) error {
	var f [13][]byte
	if n := googleSplit(line, f[:]); n != len(f) {
		hint := ""
		if n == len(google2011MachineFields) {
			hint = " (6 fields is machine_events: read it for machines)"
		}
		return r.error(0, fmt.Errorf("%d comma-separated fields; want the 13 of task_events%s", n, hint))
	}
	ev := &r.ev
	var err error
	if ev.at, err = googleTime(f[0]); err != nil {
		return r.error(1, err)
	}
	for _, c := range [...]int{2, 5} { // missing info, machine ID: checked, unused
		if _, err := googleOptInt(f[c-1], 0); err != nil {
			return r.error(c, err)
		}
	}
	if ev.job, err = googleInt(f[2]); err != nil {
		return r.error(3, err)
	}
	if ev.index, err = googleInt(f[3]); err != nil {
		return r.error(4, err)
	}
	typ, err := googleInt(f[5])
	if err != nil {
		return r.error(6, err)
	}
	switch {
	case typ == 0:
		ev.kind = borgSubmit
	case typ == 1:
		ev.kind = borgSchedule
	case typ >= 2 && typ <= 6:
		ev.kind = borgEnd
	case typ == 7 || typ == 8:
		ev.kind = borgUpdate
	default:
		return r.error(6, fmt.Errorf("%d; want 0 (SUBMIT) to 8 (UPDATE_RUNNING)", typ))
	}
	ev.user = f[6]
	class, err := googleOptInt(f[7], -1)
	if err != nil {
		return r.error(8, err)
	}
	ev.class = int(class)
	prio, err := googleInt(f[8])
	if err != nil {
		return r.error(9, err)
	}
	ev.prio = int(min(max(prio, math.MinInt32), math.MaxInt32))
	ev.has = 0
	for i := range 3 {
		v, ok, err := googleRequest(f[9+i])
		if err != nil {
			return r.error(10+i, err)
		}
		if ok {
			ev.req[i] = v * r.scale[i]
			ev.has |= 1 << i
		}
	}
	if b := f[12]; len(b) > 0 && !(len(b) == 1 && (b[0] == '0' || b[0] == '1')) {
		return r.error(13, fmt.Errorf("%q; want 0, 1 or empty", b))
	}
	return nil
}

// google2011Machines reads machine_events: ADD (0), REMOVE (1) and UPDATE
// (2) of machines whose CPUs and memory, fractions of the largest machine,
// are scaled like the tasks' requests. Disk capacity is GoogleDefaultDiskMiB
// for every machine; the platform hash is the attribute "platform". Times
// before the window are at 0; events after the trace are left out.
type google2011Machines struct {
	in    *Input
	opts  Options
	stats Stats
	scale [3]float64
	strs  map[string]string
}

func newGoogle2011Machines(in *Input, opts Options) *google2011Machines {
	r := &google2011Machines{in: in, opts: opts, scale: googleScale(opts, GoogleDefaultDiskMiB), strs: map[string]string{}}
	r.stats.Units = fmt.Sprintf("µs since 600 s before the window; CPUs and memory as fractions of a machine of %g cores, %g MiB; disk %g MiB",
		r.scale[0], r.scale[1], r.scale[2])
	return r
}

func (r *google2011Machines) Stats() Stats { return r.stats }

func (r *google2011Machines) NextMachine() (*MachineEvent, error) {
	for {
		line, err := r.in.Line()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
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

func (r *google2011Machines) error(col int, err error) *ParseError {
	file, line := r.in.Pos()
	e := &ParseError{File: file, Line: line, Column: col, Err: err}
	if col > 0 {
		e.Field = google2011MachineFields[col-1]
	}
	return e
}

// parse reads one machine_events line; an event after the trace is nil.
func (r *google2011Machines) parse(line []byte) (*MachineEvent, error) {
	var f [6][]byte
	if n := googleSplit(line, f[:]); n != len(f) {
		return nil, r.error(0, fmt.Errorf("%d comma-separated fields; want the 6 of machine_events", n))
	}
	at, err := googleTime(f[0])
	if err != nil {
		return nil, r.error(1, err)
	}
	id, err := googleInt(f[1])
	if err != nil {
		return nil, r.error(2, err)
	}
	typ, err := googleInt(f[2])
	if err != nil {
		return nil, r.error(3, err)
	}
	if typ < 0 || typ > 2 {
		return nil, r.error(3, fmt.Errorf("%d; want 0 (ADD), 1 (REMOVE) or 2 (UPDATE)", typ))
	}
	ev := &MachineEvent{At: borgDur(max(at, google2011Epoch) - google2011Epoch), Kind: MachineEventKind(typ)}
	ev.Machine.ID = strconv.FormatInt(id, 10)
	for i, p := range []*float64{&ev.Machine.Capacity.CPUs, &ev.Machine.Capacity.MemMiB} {
		v, _, err := googleRequest(f[4+i])
		if err != nil {
			return nil, r.error(5+i, err)
		}
		*p = v * r.scale[i]
	}
	ev.Machine.Capacity.DiskMiB = r.scale[2]
	if len(f[3]) > 0 {
		ev.Machine.Attributes = map[string]string{"platform": googleIntern(r.strs, f[3])}
	}
	if at == borgAfterTrace {
		return nil, nil
	}
	return ev, nil
}

// detectGoogle2011 recognises task_events (13 fields, event type 0-8) and
// machine_events (6 fields, event type 0-2, a hash or nothing for the
// platform, numbers for the capacities) by their first lines.
func detectGoogle2011(head []byte) bool {
	lines := googleHeadLines(head, 8)
	if len(lines) == 0 {
		return false
	}
	for _, want := range []int{13, 6} {
		ok := true
		for _, l := range lines {
			if !google2011Like(l, want) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func google2011Like(line []byte, want int) bool {
	var f [13][]byte
	if googleSplit(line, f[:]) != want {
		return false
	}
	isInt := func(b []byte) bool { _, err := googleInt(b); return err == nil }
	optInt := func(b []byte) bool { return len(b) == 0 || isInt(b) }
	optNum := func(b []byte) bool { _, _, err := googleRequest(b); return err == nil }
	inRange := func(b []byte, hi int64) bool { v, err := googleInt(b); return err == nil && v >= 0 && v <= hi }
	if want == 6 {
		return isInt(f[0]) && isInt(f[1]) && inRange(f[2], 2) && !isInt(f[3]) && optNum(f[4]) && optNum(f[5]) &&
			(len(f[3]) == 0 || len(f[3]) >= 16)
	}
	return isInt(f[0]) && optInt(f[1]) && isInt(f[2]) && isInt(f[3]) && optInt(f[4]) && inRange(f[5], 8) &&
		!isInt(f[6]) && optInt(f[7]) && isInt(f[8]) && optNum(f[9]) && optNum(f[10]) && optNum(f[11]) && optInt(f[12])
}

// googleHeadLines returns up to n non-empty lines of head; a last line cut
// off by the end of head counts only when it is the first.
func googleHeadLines(head []byte, n int) [][]byte {
	var lines [][]byte
	for len(head) > 0 && len(lines) < n {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			if len(lines) == 0 {
				lines = append(lines, bytes.TrimRight(head, "\r"))
			}
			break
		}
		if l := bytes.TrimRight(head[:i], "\r"); len(l) > 0 {
			lines = append(lines, l)
		}
		head = head[i+1:]
	}
	return lines
}

// googleSplit cuts a CSV line without quotes at its commas into f and
// returns how many fields the line has (which may be more than len(f)).
func googleSplit(line []byte, f [][]byte) int {
	n, start := 0, 0
	for i, c := range line {
		if c == ',' {
			if n < len(f) {
				f[n] = line[start:i]
			}
			n++
			start = i + 1
		}
	}
	if n < len(f) {
		f[n] = line[start:]
	}
	return n + 1
}

// googleTime reads a time in µs: 0 (before the trace) up to what a
// time.Duration holds, or 2^63-1 (after the trace).
func googleTime(b []byte) (int64, error) {
	t, err := googleInt(b)
	switch {
	case err != nil:
		return 0, err
	case t == borgAfterTrace:
	case t < 0 || t > borgMaxTime:
		return 0, fmt.Errorf("%d; want µs from 0 to %d, or %d for after the trace", t, int64(borgMaxTime), int64(borgAfterTrace))
	}
	return t, nil
}

// googleInt reads a decimal int64, without allocating.
func googleInt(b []byte) (int64, error) {
	s := b
	neg := len(s) > 0 && s[0] == '-'
	if neg || len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 {
		if len(b) == 0 {
			return 0, fmt.Errorf("empty; want an integer")
		}
		return 0, fmt.Errorf("%q; want an integer", b)
	}
	var n int64
	for _, c := range s {
		d := int64(c) - '0'
		if d < 0 || d > 9 {
			return 0, fmt.Errorf("%q; want an integer", b)
		}
		if n > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("%q; want an integer of 64 bits", b)
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, nil
}

// googleOptInt reads an optional integer: empty is def.
func googleOptInt(b []byte, def int64) (int64, error) {
	if len(b) == 0 {
		return def, nil
	}
	return googleInt(b)
}

// googleRequest reads an optional, normalised resource amount: empty is
// (0, false); otherwise a finite number of 0 or more.
func googleRequest(b []byte) (float64, bool, error) {
	if len(b) == 0 {
		return 0, false, nil
	}
	v, ok := googleFloat(b)
	if !ok || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false, fmt.Errorf("%q; want a number of 0 or more, or nothing", b)
	}
	return v, true, nil
}

var googlePow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// googleFloat reads a decimal number like 0.07446 or 2.861e-06 exactly
// rounded and without allocating when its mantissa has at most 15 digits
// and its exponent is small (Clinger's fast path); anything else goes to
// strconv.
func googleFloat(b []byte) (float64, bool) {
	i, neg := 0, false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64
	digits, exp := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		mant = mant*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			mant = mant*10 + uint64(b[i]-'0')
			digits++
			exp--
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := i < len(b) && b[i] == '-'
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			i++
		}
		e, start := 0, i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9' && e < 1000; i++ {
			e = e*10 + int(b[i]-'0')
		}
		if i == start {
			digits = 0 // no exponent digits: let strconv say no
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) || digits == 0 || digits > 15 || exp < -22 || exp > 22 {
		v, err := strconv.ParseFloat(string(b), 64)
		return v, err == nil
	}
	v := float64(mant)
	if exp < 0 {
		v /= googlePow10[-exp]
	} else {
		v *= googlePow10[exp]
	}
	if neg {
		v = -v
	}
	return v, true
}

// googleIntern returns b as a string, one copy per distinct value.
func googleIntern(strs map[string]string, b []byte) string {
	if s, ok := strs[string(b)]; ok {
		return s
	}
	s := string(b)
	strs[s] = s
	return s
}

// The Google traces of 2011 and 2019 (Borg) describe tasks by their
// events; borg turns a time-ordered stream of such events into jobs in
// submit order. The format readers parse lines into a borgEvent.

const (
	borgAfterTrace  = math.MaxInt64        // a time after the end of the trace
	borgMaxTime     = math.MaxInt64 / 1000 // the largest time in µs a time.Duration holds
	borgTombstone   = 3600 * 1_000_000     // µs a closed job is remembered, to number resubmissions
	borgDefaultKeep = 100_000              // finished jobs held for submit order, by default
	borgIndexed     = 16                   // a closed job of more tasks gets a map of them
)

type borgKind uint8

const (
	borgSubmit borgKind = iota
	borgSchedule
	borgEnd    // FINISH, FAIL, KILL, EVICT, LOST
	borgUpdate // a new request, no change of state
)

type borgEvent struct {
	at    int64 // µs of the trace clock; borgAfterTrace for after the trace
	job   int64
	index int64
	kind  borgKind
	user  []byte // valid for the call
	class int    // scheduling class; -1 unknown
	prio  int
	req   [3]float64 // CPUs, memory, disk in apron's units
	has   uint8      // bit i: req[i] is given
}

type borgKey struct{ job, index int64 }

// borgTask is a task across its attempts. It is in borg.tasks while it
// runs or its home job is open; after, only its home job knows it.
type borgTask struct {
	key    borgKey
	home   *borgJob // the job it was first submitted in
	job    *borgJob // the job of the current or last attempt
	slot   int32    // in job's tasks
	resubs int32
	live   bool  // submitted and not ended
	before bool  // scheduled before the window: start unknown
	sched  int64 // µs; -1 while pending
	req    [3]float64
	has    uint8
}

func (t *borgTask) request(ev *borgEvent) {
	for i := range t.req {
		if ev.has&(1<<i) != 0 && (t.sched < 0 || t.has&(1<<i) == 0) {
			t.req[i] = ev.req[i]
			t.has |= 1 << i
		}
	}
}

// borgJob is a job being read: a batch of a trace job (its tasks first
// submitted together) or one resubmitted task.
type borgJob struct {
	out      Job // what it will be; its ID is made when it goes
	tasks    []*borgTask
	byIndex  map[int64]*borgTask // tasks of a large closed batch
	prev     *borgJob            // the batch before, if closed within the hour
	id       int64               // trace job ID of a batch; -1 for a resubmission
	resub    borgKey             // of a resubmission: its task
	batch    int
	submit   int64 // µs
	open     int   // attempts in it not ended
	live     int   // of a batch: its tasks running or pending, in whatever job
	closed   bool  // no task joins any more: all ended, or emitted
	closedAt int64
}

type borg struct {
	epoch    int64 // µs of the trace clock where the window starts
	keep     int   // finished jobs held at most
	now      int64 // the latest time seen, µs
	lastOut  int64 // submit of the last job emitted, µs
	eof      bool  // no more events: every job may go
	seq      int64
	ready    int // closed jobs in pending
	pending  borgHeap
	tasks    borgTasks
	jobs     map[int64]*borgJob // batches by job ID: the latest
	expiry   []int64            // job IDs of closed batches, by time
	expiryAt []int64
	expHead  int
	strs     map[string]string
}

func newBorg(epoch int64, keep int) *borg {
	if keep <= 0 {
		keep = borgDefaultKeep
	}
	return &borg{epoch: epoch, keep: keep, now: epoch, lastOut: epoch,
		tasks: borgTasks{map[uint64]*borgTask{}, map[borgKey]*borgTask{}},
		jobs:  map[int64]*borgJob{}, strs: map[string]string{}}
}

// borgTasks is a map of tasks by key; keys that pack into 64 bits (every
// real one) take the faster map.
type borgTasks struct {
	packed map[uint64]*borgTask
	other  map[borgKey]*borgTask
}

func borgPack(k borgKey) (uint64, bool) {
	if uint64(k.job) < 1<<44 && uint64(k.index) < 1<<20 {
		return uint64(k.job)<<20 | uint64(k.index), true
	}
	return 0, false
}

func (m borgTasks) get(k borgKey) *borgTask {
	if p, ok := borgPack(k); ok {
		return m.packed[p]
	}
	return m.other[k]
}

func (m borgTasks) set(k borgKey, t *borgTask) {
	if p, ok := borgPack(k); ok {
		m.packed[p] = t
	} else {
		m.other[k] = t
	}
}

// remove removes t, if it is what k maps to.
func (m borgTasks) remove(k borgKey, t *borgTask) {
	if p, ok := borgPack(k); ok {
		if m.packed[p] == t {
			delete(m.packed, p)
		}
	} else if m.other[k] == t {
		delete(m.other, k)
	}
}

func borgDur(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// event applies one event. The only error is a job submitted before one
// already emitted: events out of time order.
func (b *borg) event(ev *borgEvent) error {
	if ev.at == borgAfterTrace {
		return nil
	}
	at := max(ev.at, b.epoch)
	if at > b.now {
		b.now = at
		b.expire()
	}
	k := borgKey{ev.job, ev.index}
	t := b.tasks.get(k)
	switch ev.kind {
	case borgSubmit:
		_, err := b.submit(t, k, ev, at)
		return err
	case borgSchedule:
		if t == nil || !t.live {
			var err error
			if t, err = b.submit(t, k, ev, at); err != nil {
				return err
			}
		}
		if t.sched < 0 { // a second SCHEDULE without an end between keeps the first
			t.sched, t.before = at, ev.at <= 0 || ev.at < b.epoch
			t.request(ev)
		}
	case borgEnd:
		if t != nil && t.live {
			b.end(t, at)
		}
	case borgUpdate:
		if t != nil && t.live {
			t.request(ev)
		}
	}
	return nil
}

// submit starts an attempt of task k: a new task of its job, or a new job
// of its own when the task ran before.
func (b *borg) submit(t *borgTask, k borgKey, ev *borgEvent, at int64) (*borgTask, error) {
	var head *borgJob // the latest batch of the job, when t is new
	if t == nil {
		head = b.jobs[k.job]
		t = head.find(k.index)
	}
	if t != nil && t.live && t.sched < 0 {
		t.request(ev)
		return t, nil
	}
	if at < b.lastOut {
		return nil, fmt.Errorf("job %d task %d submitted at %d µs, before a job already emitted (%d µs): events out of time order",
			k.job, k.index, at, b.lastOut)
	}
	if t != nil && t.live {
		b.end(t, at) // submitted again while running: its end is missing
	}
	var j *borgJob
	if t != nil {
		t.resubs++
		j = b.newJob(ev, at)
		j.resub, j.batch = k, int(t.resubs)
	} else {
		j = head
		if j == nil || j.closed {
			batch := 1
			if j != nil {
				batch = j.batch + 1
				j.prev = nil // one batch back is enough
			}
			prev := j
			j = b.newJob(ev, at)
			j.id, j.batch, j.prev = k.job, batch, prev
			j.tasks, j.out.Tasks = make([]*borgTask, 0, 4), make([]Task, 0, 4)
			b.jobs[k.job] = j
		}
		t = &borgTask{key: k, home: j}
	}
	b.tasks.set(k, t)
	t.job, t.slot, t.live, t.sched, t.before = j, int32(len(j.tasks)), true, -1, false
	t.home.live++
	j.tasks = append(j.tasks, t)
	j.out.Tasks = append(j.out.Tasks, Task{})
	j.open++
	t.request(ev)
	return t, nil
}

// find returns the task of that index of this batch or the one before,
// when they are closed (the tasks of an open batch are in borg.tasks).
func (j *borgJob) find(index int64) *borgTask {
	for ; j != nil; j = j.prev {
		if !j.closed {
			continue
		}
		if j.byIndex != nil {
			if t := j.byIndex[index]; t != nil {
				return t
			}
			continue
		}
		for _, t := range j.tasks {
			if t.key.index == index {
				return t
			}
		}
	}
	return nil
}

func (b *borg) newJob(ev *borgEvent, at int64) *borgJob {
	b.seq++
	group := ""
	if ev.class >= 0 {
		var buf [32]byte
		group = googleIntern(b.strs, strconv.AppendInt(append(buf[:0], "class"...), int64(ev.class), 10))
	}
	j := &borgJob{submit: at, id: -1, out: Job{
		Submit:   borgDur(at - b.epoch),
		User:     googleIntern(b.strs, ev.user),
		Group:    group,
		Priority: ev.prio,
	}}
	heap.Push(&b.pending, borgEntry{at, b.seq, j})
	return j
}

// end ends the current attempt of t at time at.
func (b *borg) end(t *borgTask, at int64) {
	t.live = false
	t.home.live--
	j := t.job
	j.open--
	if j.closed {
		b.forget(t)
		return
	}
	if t.sched < 0 {
		j.out.Tasks[t.slot].Duration = -1 // never ran: left out
	} else {
		j.out.Tasks[t.slot] = b.task(t, at, false)
	}
	if j.open == 0 {
		b.close(j)
		b.ready++
	} else {
		b.forget(t)
	}
}

// forget takes an ended task out of b.tasks once its home batch is closed.
func (b *borg) forget(t *borgTask) {
	if !t.live && t.home.closed {
		b.tasks.remove(t.key, t)
	}
}

func (b *borg) task(t *borgTask, at int64, censored bool) Task {
	d := int64(0)
	if t.sched >= 0 {
		d = max(at-t.sched, 0)
	}
	return Task{
		Resources: Resources{CPUs: t.req[0], MemMiB: t.req[1], DiskMiB: t.req[2]},
		Duration:  borgDur(d),
		Censored:  censored || t.before,
	}
}

func (b *borg) close(j *borgJob) {
	j.closed, j.closedAt = true, b.now
	for _, t := range j.tasks {
		b.forget(t)
	}
	if j.id >= 0 { // a batch, still the latest of its job
		if len(j.tasks) > borgIndexed {
			j.byIndex = make(map[int64]*borgTask, len(j.tasks))
			for _, t := range j.tasks {
				j.byIndex[t.key.index] = t
			}
		}
		b.expiry = append(b.expiry, j.id)
		b.expiryAt = append(b.expiryAt, b.now)
	}
}

// expire forgets the batches closed more than borgTombstone ago whose
// tasks have all ended.
func (b *borg) expire() {
	for b.expHead < len(b.expiry) && b.expiryAt[b.expHead] < b.now-borgTombstone {
		id, at := b.expiry[b.expHead], b.expiryAt[b.expHead]
		b.expHead++
		j := b.jobs[id]
		switch {
		case j == nil || j.closedAt != at:
		case j.live > 0:
			j.closedAt = b.now
			b.expiry = append(b.expiry, id)
			b.expiryAt = append(b.expiryAt, b.now)
		default:
			delete(b.jobs, id)
		}
	}
	if b.expHead > 1024 && b.expHead*2 > len(b.expiry) {
		n := copy(b.expiry, b.expiry[b.expHead:])
		copy(b.expiryAt, b.expiryAt[b.expHead:])
		b.expiry, b.expiryAt, b.expHead = b.expiry[:n], b.expiryAt[:n], 0
	}
}

// pop returns the next job in submit order, or nil until one may go: the
// earliest job goes when it has ended, or when keep ended jobs wait behind
// it (or the events are over), cut off as it stands.
func (b *borg) pop() *Job {
	for len(b.pending) > 0 {
		j := b.pending[0].j
		if j.closed {
			b.ready--
		} else {
			if b.ready < b.keep && !b.eof {
				return nil
			}
			for _, t := range j.tasks {
				if t.live && t.job == j {
					j.out.Tasks[t.slot] = b.task(t, b.now, true)
				}
			}
			b.close(j)
		}
		heap.Pop(&b.pending)
		out := j.out
		j.out = Job{}
		if j.id < 0 {
			j.tasks = nil // a resubmission: its task is its home's
		}
		out.Tasks = slices.DeleteFunc(out.Tasks, func(t Task) bool { return t.Duration < 0 })
		if len(out.Tasks) == 0 {
			continue
		}
		switch {
		case j.id < 0:
			out.ID = fmt.Sprintf("%d-%d-r%d", j.resub.job, j.resub.index, j.batch)
		case j.batch > 1:
			out.ID = fmt.Sprintf("%d-b%d", j.id, j.batch)
		default:
			out.ID = strconv.FormatInt(j.id, 10)
		}
		b.lastOut = max(b.lastOut, j.submit)
		return &out
	}
	return nil
}

// borgHeap orders jobs by submit time, then by arrival.
type borgHeap []borgEntry

type borgEntry struct {
	submit, seq int64
	j           *borgJob
}

func (h borgHeap) Len() int { return len(h) }
func (h borgHeap) Less(a, b int) bool {
	if h[a].submit != h[b].submit {
		return h[a].submit < h[b].submit
	}
	return h[a].seq < h[b].seq
}
func (h borgHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *borgHeap) Push(x any)   { *h = append(*h, x.(borgEntry)) }
func (h *borgHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = borgEntry{}
	*h = old[:len(old)-1]
	return x
}
