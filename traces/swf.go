package traces

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"
)

func init() {
	Register(Format{
		Name:     "swf",
		Describe: "Standard Workload Format v2.2 (Parallel Workloads Archive): one job per line of 18 numbers, '; Key: value' header; the machine is the header's MaxNodes nodes of MaxProcs/MaxNodes CPUs",
		Detect:   detectSWF,
		Jobs: func(in *Input, opts Options) (JobReader, error) {
			return NewSWFReader(in, opts), nil
		},
		Machines: swfMachines,
	})
}

// swfFields names the 18 SWF fields, in order; the ones in swfTimes may be
// fractional.
var swfFields = [swfNumFields]string{
	"job number", "submit time", "wait time", "run time", "allocated processors",
	"average CPU time", "used memory", "requested processors", "requested time",
	"requested memory", "status", "user id", "group id", "executable number",
	"queue number", "partition number", "preceding job number", "think time",
}

const (
	swfNumFields = 18
	swfJob       = 0
	swfSubmit    = 1
	swfWait      = 2
	swfRun       = 3
	swfProcs     = 4
	swfUsedMem   = 6
	swfReqProcs  = 7
	swfReqTime   = 8
	swfReqMem    = 9
	swfUser      = 11
	swfQueue     = 14
)

var swfTimes = [swfNumFields]bool{1: true, 2: true, 3: true, 5: true, 8: true, 17: true}

// MaxTasksPerJob bounds the tasks of one job a reader makes from a count in
// a trace (SWF processors, CSV tasks): a larger count is a malformed line
// rather than gigabytes of tasks.
const MaxTasksPerJob = 1 << 21

// maxSeconds is the largest time in seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// SWFReader reads the Standard Workload Format (SWF v2.2) of the Parallel
// Workloads Archive: one job per line of 18 whitespace-separated numbers
// (-1 for unknown; times may be fractional), and header lines
// "; Key: value". Stats().Header holds the header keys; an indented comment
// line continues the previous key's value and a repeated key (Note,
// Queue, Partition) adds to it, both after a newline.
//
// A job becomes a rigid job of N tasks of 1 CPU each, N being the allocated
// processors (field 5), or the requested ones (field 8) when those are
// unknown; every task runs for the job's run time (field 4). Memory is the
// used memory (field 7), or else the requested memory (field 10), in KB per
// processor, read as MiB per task. User is the user id (field 12) and
// Group the queue number (field 15) as "q<n>": the queue is what the
// scheduler shared out, where SWF's group id is a Unix group of users.
// Unknown user and queue (-1) are empty. Requested is the requested time
// (field 9) and Waited the wait time (field 3), where the log gives them
// (-1 is unknown; a requested time of 0 too). Priority is 0 and no task is
// censored: SWF logs record finished jobs. Jobs with no run time (0 means
// under half a second in SWF) or no processor count are left out and
// counted in Unusable.
type SWFReader struct {
	in      *Input
	opts    Options
	stats   Stats
	ordered Source
	lastKey string // the header key a continuation line adds to
	names   map[int64]string
	queues  map[int64]string
	row     [swfNumFields]swfValue
	alloc   jobAlloc

	// Unusable counts the well-formed jobs left out because a simulator
	// cannot run them: no run time (field 4 <= 0), no processor count
	// (fields 5 and 8 <= 0) or no submit time. Jobs read, Unusable and
	// Stats().Skipped add up to Stats().Lines.
	Unusable int64
}

// NewSWFReader reads SWF jobs from in. Jobs come out in submit order
// through a reorder buffer of opts.Reorder jobs (default 1024).
func NewSWFReader(in *Input, opts Options) *SWFReader {
	r := &SWFReader{
		in:     in,
		opts:   opts,
		names:  map[int64]string{},
		queues: map[int64]string{},
	}
	r.stats.Units = "seconds; processors as 1-CPU tasks; memory in KB per processor"
	r.stats.Header = map[string]string{}
	window := opts.Reorder
	if window <= 0 {
		window = 1024
	}
	r.ordered = Reorder(swfRaw{r}, window)
	return r
}

// Next returns the next job in submit order, io.EOF after the last.
func (r *SWFReader) Next() (*Job, error) { return r.ordered.Next() }

// Stats returns what has been read so far; Header holds the header keys
// (a repeated key such as Note has its values joined by newlines).
func (r *SWFReader) Stats() Stats {
	s := r.stats
	s.Header = maps.Clone(r.stats.Header)
	return s
}

// swfRaw is the reader in file order, before the reorder buffer.
type swfRaw struct{ r *SWFReader }

func (s swfRaw) Next() (*Job, error) { return s.r.next() }

func (r *SWFReader) next() (*Job, error) {
	for {
		line, err := r.in.Line()
		if err != nil {
			return nil, err
		}
		line = trimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] == ';' {
			r.header(line[1:])
			continue
		}
		r.lastKey = ""
		r.stats.Lines++
		j, err := r.job(line)
		if err != nil {
			if skip, err := r.stats.skip(r.opts, err); !skip {
				return nil, err
			}
			continue
		}
		if j == nil {
			r.Unusable++
			continue
		}
		return j, nil
	}
}

// header reads one comment line (without its ';'): "Key: value", or the
// continuation of the previous key's value (an indented line).
func (r *SWFReader) header(text []byte) {
	key, val, ok := swfHeaderKey(text)
	if !ok {
		text = trimSpace(text)
		if len(text) == 0 || r.lastKey == "" {
			r.lastKey = ""
			return
		}
		r.stats.Header[r.lastKey] += "\n" + string(text)
		return
	}
	if old, dup := r.stats.Header[key]; dup {
		val = old + "\n" + val
	}
	r.stats.Header[key] = val
	r.lastKey = key
}

// swfHeaderKey splits " Key: value". A key is a word at most two spaces in
// (further in is a continuation) followed by a colon that does not start a
// URL ("http://").
func swfHeaderKey(text []byte) (key, val string, ok bool) {
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	if i > 2 {
		return "", "", false
	}
	start := i
	for i < len(text) && isWordByte(text[i]) {
		i++
	}
	if i == start || i >= len(text) || text[i] != ':' || bytes.HasPrefix(text[i+1:], []byte("//")) {
		return "", "", false
	}
	return string(text[start:i]), string(trimSpace(text[i+1:])), true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// job parses one data line; a well-formed job a simulator cannot run is
// nil.
func (r *SWFReader) job(line []byte) (*Job, error) {
	if col, err := splitSWF(line, &r.row); err != nil {
		file, n := r.in.Pos()
		pe := &ParseError{File: file, Line: n, Column: col, Err: err}
		if col > 0 {
			pe.Field = swfFields[col-1]
		}
		return nil, pe
	}
	row := &r.row
	submit, run := row[swfSubmit].duration(), row[swfRun].duration()
	procs := row[swfProcs].i
	if procs <= 0 {
		procs = row[swfReqProcs].i
	}
	if procs > MaxTasksPerJob {
		file, n := r.in.Pos()
		col := swfProcs
		if row[swfProcs].i <= 0 {
			col = swfReqProcs
		}
		return nil, &ParseError{File: file, Line: n, Column: col + 1, Field: swfFields[col],
			Err: fmt.Errorf("%d processors; want at most %d", procs, MaxTasksPerJob)}
	}
	if run <= 0 || procs <= 0 || submit < 0 {
		return nil, nil
	}
	mem := row[swfUsedMem].i
	if mem <= 0 {
		mem = row[swfReqMem].i
	}
	tasks := r.alloc.tasks(1)
	tasks[0] = Task{Resources: Resources{CPUs: 1, MemMiB: float64(max(mem, 0)) / 1024}, Duration: run}
	if procs > 1 {
		tasks[0].Count = int(procs)
	}
	j := r.alloc.job()
	*j = Job{
		ID:     strconv.FormatInt(row[swfJob].i, 10),
		Submit: submit,
		User:   intern(r.names, row[swfUser].i, ""),
		Group:  intern(r.queues, row[swfQueue].i, "q"),
		Tasks:  tasks,
	}
	if req := row[swfReqTime].duration(); req > 0 {
		j.Requested = req
	}
	if row[swfWait].i >= 0 && row[swfWait].f >= 0 {
		j.Waited = r.alloc.wait(row[swfWait].duration())
	}
	return j, nil
}

// jobAlloc hands out jobs and small task slices carved from larger blocks,
// a few allocations per hundred jobs instead of two per job. A block lives
// as long as any job carved from it; task slices are capped, so appending
// to one never runs into its neighbour.
type jobAlloc struct {
	jobs  []Job
	block []Task
	waits []time.Duration
}

const (
	jobBlock  = 128
	taskBlock = 2048
)

func (a *jobAlloc) job() *Job {
	if len(a.jobs) == 0 {
		a.jobs = make([]Job, jobBlock)
	}
	j := &a.jobs[0]
	a.jobs = a.jobs[1:]
	return j
}

// wait returns a pointer to a copy of w.
func (a *jobAlloc) wait(w time.Duration) *time.Duration {
	if len(a.waits) == 0 {
		a.waits = make([]time.Duration, jobBlock)
	}
	p := &a.waits[0]
	*p, a.waits = w, a.waits[1:]
	return p
}

func (a *jobAlloc) tasks(n int) []Task {
	if len(a.block) < n {
		a.block = make([]Task, taskBlock)
	}
	t := a.block[:n:n]
	a.block = a.block[n:]
	return t
}

// intern returns prefix+n, the same string for the same n; unknown
// (negative) is empty.
func intern(names map[int64]string, n int64, prefix string) string {
	if n < 0 {
		return ""
	}
	s, ok := names[n]
	if !ok {
		s = prefix + strconv.FormatInt(n, 10)
		names[n] = s
	}
	return s
}

// swfValue is one field: an integer, or for a time field possibly a
// fraction (then f holds it and i its truncation).
type swfValue struct {
	i     int64
	f     float64
	float bool
}

// duration reads a time field in seconds.
func (v swfValue) duration() time.Duration {
	if v.float {
		return time.Duration(math.Round(v.f * float64(time.Second)))
	}
	return time.Duration(v.i) * time.Second
}

var (
	errSWFCount = errors.New("want 18 whitespace-separated numbers")
	errSWFRange = fmt.Errorf("out of range; want a time of at most %d seconds", maxSeconds)
)

// splitSWF parses the 18 fields of a data line into row. On error it
// returns the 1-based field at fault, or 0 when the count is wrong. Plain
// integers are parsed in the scan; anything else goes to parseSWFValue.
func splitSWF(line []byte, row *[swfNumFields]swfValue) (int, error) {
	n := 0
	for i := 0; ; {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		if n == swfNumFields {
			return 0, fmt.Errorf("more than 18 fields; %w", errSWFCount)
		}
		start := i
		neg := line[i] == '-'
		if neg {
			i++
		}
		var v int64
		digits := i
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			v = v*10 + int64(line[i]-'0')
			i++
		}
		digits = i - digits
		if digits > 0 && digits <= 9 && (i == len(line) || line[i] == ' ' || line[i] == '\t') {
			if neg {
				v = -v
			}
			row[n] = swfValue{i: v}
			n++
			continue
		}
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		var err error
		if row[n], err = parseSWFValue(line[start:i], swfTimes[n]); err != nil {
			return n + 1, err
		}
		n++
	}
	if n != swfNumFields {
		return 0, fmt.Errorf("%d fields; %w", n, errSWFCount)
	}
	return 0, nil
}

// parseSWFValue parses an integer, or for a time field also a decimal
// fraction within the range of a time.Duration.
func parseSWFValue(b []byte, time bool) (swfValue, error) {
	if v, ok := parseInt(b); ok {
		if time && (v > maxSeconds || v < -maxSeconds) {
			return swfValue{}, fmt.Errorf("%q: %w", b, errSWFRange)
		}
		return swfValue{i: v}, nil
	}
	if !time {
		return swfValue{}, fmt.Errorf("%q: want an integer", b)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return swfValue{}, fmt.Errorf("%q: want a number of seconds", b)
	}
	if math.Abs(f) > float64(maxSeconds) {
		return swfValue{}, fmt.Errorf("%q: %w", b, errSWFRange)
	}
	return swfValue{i: int64(f), f: f, float: true}, nil
}

// parseInt parses an optionally signed decimal integer with no
// allocation; ok is false for anything else, overflow included.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return parseIntSlow(b, neg)
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseIntSlow handles the digit strings too long for the fast path.
func parseIntSlow(b []byte, neg bool) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	s := string(b)
	if neg {
		s = "-" + s
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// detectSWF: a "; Version:" or "; Computer:" header line, or a first data
// line of 18 numbers.
func detectSWF(head []byte) bool {
	var row [swfNumFields]swfValue
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = trimSpace(line)
		switch {
		case len(line) == 0:
			continue
		case line[0] == ';':
			if key, _, ok := swfHeaderKey(line[1:]); ok && (key == "Version" || key == "Computer") {
				return true
			}
			continue
		}
		_, err := splitSWF(line, &row)
		return err == nil
	}
	return false
}
