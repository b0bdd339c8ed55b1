package traces

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// NativeCSVHeader is the header line of apron-csv, apron's own trace
// format, which holds what a Job holds but the log's Requested and Waited.
//
// # apron-csv
//
// A CSV file (RFC 4180 quoting; no newline inside a field) whose first line
// is this header, then one row per task:
//
//	job,submit_s,user,group,priority,task,cpus,mem_mib,disk_mib,gpus,duration_s,censored,count,after,think_s
//	j1,0,alice,q1,0,0,1,1024,0,0,31.25,false,1,,0
//	j1,0,alice,q1,0,1,1,1024,0,0,29.000000001,false,1,,0
//	j2,14.5,bob,,2,0,0.5,512,0,1,600,true,64,,0
//	j3,14.5,bob,,2,0,1,512,0,0,60,false,1,j2,120
//
// The columns:
//   - job, user, group: strings; priority: an integer.
//   - task: the task's number in its job, from 0. The rows of a job are
//     consecutive, numbered 0, 1, 2...; a job's columns job to priority are
//     the same on all its rows. Jobs come in submit order.
//   - submit_s, duration_s: seconds, 0 or more, written exactly to the
//     nanosecond ("29.000000001"); a reader takes any decimal number.
//   - cpus (cores), mem_mib, disk_mib (MiB), gpus (devices): numbers, 0 or
//     more.
//   - censored: true or false.
//   - count: how many identical tasks the row stands for, from 1 to
//     MaxTasksPerJob (Task.Count).
//   - after, think_s: a closed-loop job's predecessor and think time
//     (Job.After, Job.Think); empty and 0 for others. The same on all of a
//     job's rows. A file with the header before these two columns
//     (NativeCSVHeaderOpen, as apron wrote before closed-loop jobs) reads
//     as open-loop jobs.
//
// # apron-jsonl
//
// One JSON object per job per line, the same fields, times exact to the
// nanosecond as in apron-csv:
//
//	{"id":"j1","submit_s":0,"user":"alice","group":"q1","priority":0,"tasks":[{"cpus":1,"mem_mib":1024,"disk_mib":0,"gpus":0,"duration_s":31.25,"censored":false}]}
//	{"id":"j2","submit_s":14.5,"user":"bob","group":"","priority":2,"tasks":[{"cpus":0.5,"mem_mib":512,"disk_mib":0,"gpus":1,"duration_s":600,"censored":true,"count":64}]}
//	{"id":"j3","submit_s":14.5,"user":"bob","group":"","priority":2,"tasks":[{"cpus":1,"mem_mib":512,"disk_mib":0,"gpus":0,"duration_s":60,"censored":false}],"after":"j2","think_s":120}
//
// id (a string, or a number taken as its text), submit_s and tasks are
// required, and so is each task's duration_s; count defaults to 1, other
// fields to 0, "" and false (after and think_s are written only for a
// closed-loop job). Unknown fields are an error.
//
// In both formats a job has at least one task, and a later part file may
// repeat the apron-csv header line.
const NativeCSVHeader = NativeCSVHeaderOpen + ",after,think_s"

// NativeCSVHeaderOpen is apron-csv's header without the closed-loop
// columns, as apron wrote it before them; it still reads.
const NativeCSVHeaderOpen = "job,submit_s,user,group,priority,task,cpus,mem_mib,disk_mib,gpus,duration_s,censored,count"

var nativeColumns = strings.Split(NativeCSVHeader, ",")

const (
	ncJob = iota
	ncSubmit
	ncUser
	ncGroup
	ncPriority
	ncTask
	ncCPUs
	ncMem
	ncDisk
	ncGPUs
	ncDuration
	ncCensored
	ncCount
	ncOpenColumns // the columns of NativeCSVHeaderOpen
	ncAfter       = ncOpenColumns
	ncThink       = ncOpenColumns + 1
	ncColumns     = ncOpenColumns + 2
)

func init() {
	Register(Format{
		Name:     "apron-csv",
		Describe: "apron's own CSV: one row per task, header " + NativeCSVHeader,
		Detect:   detectNativeCSV,
		Jobs: func(in *Input, opts Options) (JobReader, error) {
			return &nativeCSVReader{in: in, opts: opts, stats: Stats{Units: "seconds, cores, MiB, GPUs (apron's own)"}}, nil
		},
	})
	Register(Format{
		Name:     "apron-jsonl",
		Describe: `apron's own JSON lines: one job per line, {"id", "submit_s", "user", "group", "priority", "tasks": [...]}`,
		Detect:   detectNativeJSONL,
		Jobs: func(in *Input, opts Options) (JobReader, error) {
			return &jsonlReader{in: in, opts: opts, stats: Stats{Units: "seconds, cores, MiB, GPUs (apron's own)"}}, nil
		},
	})
}

// checkNativeJob says why a job cannot be written in apron's formats, whose
// readers take only what the writers write.
func checkNativeJob(j *Job, last time.Duration, started bool) error {
	switch {
	case len(j.Tasks) == 0:
		return fmt.Errorf("job %q has no tasks; apron's formats hold jobs of at least one task", j.ID)
	case j.Submit < 0:
		return fmt.Errorf("job %q submitted at %v; want 0 or later", j.ID, j.Submit)
	case started && j.Submit < last:
		return fmt.Errorf("job %q submitted at %v, before the previous job at %v; want jobs in submit order", j.ID, j.Submit, last)
	case j.Think < 0:
		return fmt.Errorf("job %q: think time %v; want 0 or more", j.ID, j.Think)
	}
	for i, t := range j.Tasks {
		r := t.Resources
		for _, v := range []float64{r.CPUs, r.MemMiB, r.DiskMiB, r.GPUs} {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("job %q task %d: resources %+v; want finite numbers, 0 or more", j.ID, i, r)
			}
		}
		if t.Duration < 0 {
			return fmt.Errorf("job %q task %d: duration %v; want 0 or more", j.ID, i, t.Duration)
		}
		if t.Count < 0 || t.Count > MaxTasksPerJob {
			return fmt.Errorf("job %q task %d: count %d; want 0 (one) to %d", j.ID, i, t.Count, MaxTasksPerJob)
		}
	}
	return nil
}

// NativeWriter writes jobs in apron-csv (see NativeCSVHeader).
type NativeWriter struct {
	w       *bufio.Writer
	buf     []byte
	started bool // the header is out
	jobs    int
	last    time.Duration
}

// NewNativeWriter writes apron-csv to w; call Flush at the end.
func NewNativeWriter(w io.Writer) *NativeWriter {
	return &NativeWriter{w: bufio.NewWriterSize(w, 1<<16)}
}

// Write writes one job, one row per task. Jobs must come in submit order,
// with at least one task, and no newline in their strings.
func (w *NativeWriter) Write(j *Job) error {
	if err := checkNativeJob(j, w.last, w.jobs > 0); err != nil {
		return err
	}
	for _, s := range []string{j.ID, j.User, j.Group, j.After} {
		if strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("job %q: %q has a line break; apron-csv cannot hold one", j.ID, s)
		}
	}
	w.header()
	w.jobs++
	w.last = j.Submit
	for i, t := range j.Tasks {
		b := appendCSVString(w.buf[:0], j.ID)
		b = append(b, ',')
		b = appendSeconds(b, j.Submit)
		b = append(b, ',')
		b = appendCSVString(b, j.User)
		b = append(b, ',')
		b = appendCSVString(b, j.Group)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(j.Priority), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(i), 10)
		r := t.Resources
		for _, v := range []float64{r.CPUs, r.MemMiB, r.DiskMiB, r.GPUs} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, ',')
		b = appendSeconds(b, t.Duration)
		b = append(b, ',')
		b = strconv.AppendBool(b, t.Censored)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(t.N()), 10)
		b = append(b, ',')
		b = appendCSVString(b, j.After)
		b = append(b, ',')
		b = appendSeconds(b, j.Think)
		b = append(b, '\n')
		w.buf = b
		if _, err := w.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (w *NativeWriter) header() {
	if !w.started {
		w.started = true
		w.w.WriteString(NativeCSVHeader + "\n")
	}
}

// Flush writes what is buffered; a file of no jobs still gets its header.
func (w *NativeWriter) Flush() error {
	w.header()
	return w.w.Flush()
}

// appendCSVString quotes s when it holds a comma, a quote or edge spaces.
func appendCSVString(b []byte, s string) []byte {
	if !strings.ContainsAny(s, `,"`) && strings.TrimSpace(s) == s {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// appendSeconds writes d in seconds, exact to the nanosecond, with no
// trailing zeros: 31.25, 29.000000001, 600.
func appendSeconds(b []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = uint64(-d) // also right for math.MinInt64
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	frac := u % 1e9
	if frac == 0 {
		return b
	}
	digits := 9
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	s := strconv.FormatUint(frac, 10)
	b = append(b, '.')
	for range digits - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// parseSeconds reads a number of seconds: a decimal, exact to the
// nanosecond up to 9 places, or any float rounded to the nanosecond.
func parseSeconds(b []byte) (time.Duration, error) {
	if d, ok := parseDecimalSeconds(b); ok {
		return d, nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q: want a number of seconds", b)
	}
	ns := math.Round(f * 1e9)
	if math.Abs(ns) >= 1<<63 {
		return 0, fmt.Errorf("%q: out of range; want at most %d seconds", b, maxSeconds)
	}
	return time.Duration(ns), nil
}

// parseDecimalSeconds reads [-]digits[.digits] with at most 9 places,
// exactly; ok is false for other forms and out-of-range values.
func parseDecimalSeconds(b []byte) (time.Duration, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	whole, frac, _ := bytes.Cut(b, []byte("."))
	if len(whole) == 0 && len(frac) == 0 || len(whole) > 10 || len(frac) > 9 {
		return 0, false
	}
	var sec, ns uint64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, false
		}
		sec = sec*10 + uint64(c-'0')
	}
	for i := range 9 {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			ns += uint64(c - '0')
		}
	}
	total := sec*1e9 + ns
	if total > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -time.Duration(total), true
	}
	return time.Duration(total), true
}

// nativeCSVReader reads apron-csv.
type nativeCSVReader struct {
	in     *Input
	opts   Options
	stats  Stats
	fields [][]byte
	cur    *Job // the job whose rows are being read
	last   time.Duration
	header bool // the first header line was seen
	cols   int  // ncColumns, or ncOpenColumns under NativeCSVHeaderOpen
}

func (r *nativeCSVReader) Stats() Stats { return r.stats }

func (r *nativeCSVReader) Next() (*Job, error) {
	for {
		line, err := r.in.Line()
		if err == io.EOF && r.cur != nil {
			j := r.cur
			r.cur = nil
			return j, nil
		}
		if err != nil {
			return nil, err
		}
		file, n := r.in.Pos()
		if n == 1 {
			if cols := nativeHeader(line); cols > 0 {
				r.header, r.cols = true, cols
				continue
			}
		}
		if !r.header {
			return nil, &ParseError{File: file, Line: n, Err: fmt.Errorf("first line %.60q; want the apron-csv header %s", line, NativeCSVHeader)}
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		r.stats.Lines++
		done, err := r.row(line, file, n)
		if err != nil {
			if skip, err := r.stats.skip(r.opts, err); !skip {
				return nil, err
			}
			continue
		}
		if done != nil {
			return done, nil
		}
	}
}

// row reads one task row into the current job, and returns the previous
// job when the row starts a new one.
func (r *nativeCSVReader) row(line []byte, file string, n int) (*Job, error) {
	bad := func(col int, err error) error {
		return &ParseError{File: file, Line: n, Column: col + 1, Field: nativeColumns[col], Err: err}
	}
	var col int
	var err error
	if r.fields, col, err = splitCSV(line, ',', r.fields[:0]); err != nil {
		return nil, &ParseError{File: file, Line: n, Column: col, Err: err}
	}
	f := r.fields
	if len(f) != r.cols {
		return nil, &ParseError{File: file, Line: n, Err: fmt.Errorf("%d columns; want the %d of %s", len(f), r.cols, strings.Join(nativeColumns[:r.cols], ","))}
	}
	var t Task
	var submit, think time.Duration
	var after string
	if r.cols == ncColumns {
		if think, err = parseSeconds(f[ncThink]); err != nil || think < 0 {
			return nil, bad(ncThink, orNegative(err, f[ncThink], "seconds"))
		}
		after = string(f[ncAfter])
	}
	var priority, task int64
	if submit, err = parseSeconds(f[ncSubmit]); err != nil || submit < 0 {
		return nil, bad(ncSubmit, orNegative(err, f[ncSubmit], "seconds"))
	}
	if t.Duration, err = parseSeconds(f[ncDuration]); err != nil || t.Duration < 0 {
		return nil, bad(ncDuration, orNegative(err, f[ncDuration], "seconds"))
	}
	if priority, err = strconv.ParseInt(string(f[ncPriority]), 10, 0); err != nil {
		return nil, bad(ncPriority, fmt.Errorf("%q: want an integer", f[ncPriority]))
	}
	if task, err = strconv.ParseInt(string(f[ncTask]), 10, 0); err != nil || task < 0 {
		return nil, bad(ncTask, fmt.Errorf("%q: want a task number, 0 or more", f[ncTask]))
	}
	for i, v := range [...]*float64{&t.Resources.CPUs, &t.Resources.MemMiB, &t.Resources.DiskMiB, &t.Resources.GPUs} {
		if *v, err = parseQuantity(f[ncCPUs+i]); err != nil {
			return nil, bad(ncCPUs+i, err)
		}
	}
	if t.Count, err = parseCount(f[ncCount]); err != nil {
		return nil, bad(ncCount, err)
	}
	switch string(f[ncCensored]) {
	case "true":
		t.Censored = true
	case "false":
	default:
		return nil, bad(ncCensored, fmt.Errorf("%q: want true or false", f[ncCensored]))
	}
	id := string(f[ncJob])
	if j := r.cur; j != nil && id == j.ID && task != 0 {
		if task != int64(len(j.Tasks)) {
			return nil, bad(ncTask, fmt.Errorf("task %d of job %q; want task %d next", task, id, len(j.Tasks)))
		}
		for _, c := range [...]struct {
			col  int
			same bool
		}{{ncSubmit, submit == j.Submit}, {ncUser, string(f[ncUser]) == j.User}, {ncGroup, string(f[ncGroup]) == j.Group}, {ncPriority, int(priority) == j.Priority},
			{ncAfter, after == j.After}, {ncThink, think == j.Think}} {
			if !c.same {
				return nil, bad(c.col, fmt.Errorf("%q differs from task 0 of job %q; want the same on every row of a job", f[c.col], id))
			}
		}
		j.Tasks = append(j.Tasks, t)
		return nil, nil
	}
	if task != 0 {
		return nil, bad(ncTask, fmt.Errorf("task %d starts job %q; want task 0 (a job's rows are consecutive, numbered from 0)", task, id))
	}
	if r.cur != nil && submit < r.last {
		return nil, bad(ncSubmit, fmt.Errorf("job %q submitted at %v, before the previous job at %v; want jobs in submit order", id, submit, r.last))
	}
	done := r.cur
	r.last = submit
	r.cur = &Job{ID: id, Submit: submit, User: string(f[ncUser]), Group: string(f[ncGroup]), Priority: int(priority), Tasks: []Task{t}, After: after, Think: think}
	return done, nil
}

// orNegative is err, or else the complaint about a negative value.
func orNegative(err error, b []byte, what string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%q: want %s, 0 or more", b, what)
}

// parseCount reads a task count, 1 to MaxTasksPerJob, as a Task.Count:
// one is 0.
func parseCount(b []byte) (int, error) {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 1 || n > MaxTasksPerJob {
		return 0, fmt.Errorf("%q: want a whole number of tasks from 1 to %d", b, MaxTasksPerJob)
	}
	if n == 1 {
		return 0, nil
	}
	return n, nil
}

// parseQuantity reads a finite number, 0 or more.
func parseQuantity(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q: want a finite number, 0 or more", b)
	}
	return v, nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

func detectNativeCSV(head []byte) bool {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return nativeHeader(bytes.TrimSuffix(line, []byte("\r"))) > 0
}

// nativeHeader returns the columns of an apron-csv header line, or 0 if
// the line is none.
func nativeHeader(line []byte) int {
	switch string(bytes.TrimPrefix(line, utf8BOM)) {
	case NativeCSVHeader:
		return ncColumns
	case NativeCSVHeaderOpen:
		return ncOpenColumns
	}
	return 0
}

// jsonJob and jsonTask are the lines of apron-jsonl; times are
// json.Numbers, written and read exactly.
type jsonJob struct {
	ID       json.RawMessage `json:"id"`
	Submit   json.Number     `json:"submit_s"`
	User     string          `json:"user"`
	Group    string          `json:"group"`
	Priority int             `json:"priority"`
	Tasks    []jsonTask      `json:"tasks"`
	After    string          `json:"after,omitempty"`
	Think    json.Number     `json:"think_s,omitempty"`
}

type jsonTask struct {
	CPUs     float64     `json:"cpus"`
	MemMiB   float64     `json:"mem_mib"`
	DiskMiB  float64     `json:"disk_mib"`
	GPUs     float64     `json:"gpus"`
	Duration json.Number `json:"duration_s"`
	Censored bool        `json:"censored"`
	Count    json.Number `json:"count,omitempty"`
}

// JSONLWriter writes jobs in apron-jsonl (see NativeCSVHeader).
type JSONLWriter struct {
	w    *bufio.Writer
	enc  *json.Encoder
	jobs int
	last time.Duration
	line jsonJob
}

// NewJSONLWriter writes apron-jsonl to w; call Flush at the end.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &JSONLWriter{w: bw, enc: enc}
}

// Write writes one job as a line. Jobs must come in submit order, with at
// least one task.
func (w *JSONLWriter) Write(j *Job) error {
	if err := checkNativeJob(j, w.last, w.jobs > 0); err != nil {
		return err
	}
	w.jobs++
	w.last = j.Submit
	id, err := json.Marshal(j.ID)
	if err != nil {
		return err
	}
	l := &w.line
	*l = jsonJob{ID: id, Submit: json.Number(appendSeconds(nil, j.Submit)), User: j.User, Group: j.Group, Priority: j.Priority, Tasks: l.Tasks[:0], After: j.After}
	if j.Think != 0 {
		l.Think = json.Number(appendSeconds(nil, j.Think))
	}
	for _, t := range j.Tasks {
		r := t.Resources
		l.Tasks = append(l.Tasks, jsonTask{CPUs: r.CPUs, MemMiB: r.MemMiB, DiskMiB: r.DiskMiB, GPUs: r.GPUs,
			Duration: json.Number(appendSeconds(nil, t.Duration)), Censored: t.Censored})
		if t.N() > 1 {
			l.Tasks[len(l.Tasks)-1].Count = json.Number(strconv.Itoa(t.N()))
		}
	}
	return w.enc.Encode(l)
}

// Flush writes what is buffered.
func (w *JSONLWriter) Flush() error { return w.w.Flush() }

// jsonlReader reads apron-jsonl.
type jsonlReader struct {
	in    *Input
	opts  Options
	stats Stats
	last  time.Duration
	jobs  int
}

func (r *jsonlReader) Stats() Stats { return r.stats }

func (r *jsonlReader) Next() (*Job, error) {
	for {
		line, err := r.in.Line()
		if err != nil {
			return nil, err
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		r.stats.Lines++
		j, field, err := r.job(line)
		if err != nil {
			file, n := r.in.Pos()
			err = &ParseError{File: file, Line: n, Field: field, Err: err}
			if skip, err := r.stats.skip(r.opts, err); !skip {
				return nil, err
			}
			continue
		}
		r.jobs++
		r.last = j.Submit
		return j, nil
	}
}

// job decodes one line; on error field names the key at fault, when known.
func (r *jsonlReader) job(line []byte) (*Job, string, error) {
	var v jsonJob
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, te.Field, fmt.Errorf("%s is a JSON %s; want %s", te.Field, te.Value, te.Type)
		}
		return nil, "", fmt.Errorf("want one JSON object per line: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errors.New("more after the job's object; want one JSON object per line")
	}
	j := &Job{User: v.User, Group: v.Group, Priority: v.Priority, After: v.After}
	var err error
	if v.Think != "" {
		if j.Think, err = parseSeconds([]byte(v.Think)); err != nil || j.Think < 0 {
			return nil, "think_s", orNegative(err, []byte(v.Think), "seconds")
		}
	}
	switch {
	case len(v.ID) == 0:
		return nil, "id", errors.New("no id; want the job's id")
	case v.ID[0] == '"':
		if err := json.Unmarshal(v.ID, &j.ID); err != nil {
			return nil, "id", fmt.Errorf("%s: want a string or a number", v.ID)
		}
	case v.ID[0] == '-' || v.ID[0] >= '0' && v.ID[0] <= '9':
		j.ID = string(v.ID)
	default:
		return nil, "id", fmt.Errorf("%s: want a string or a number", v.ID)
	}
	if v.Submit == "" {
		return nil, "submit_s", errors.New("no submit_s; want the submit time in seconds")
	}
	if j.Submit, err = parseSeconds([]byte(v.Submit)); err != nil || j.Submit < 0 {
		return nil, "submit_s", orNegative(err, []byte(v.Submit), "seconds")
	}
	if r.jobs > 0 && j.Submit < r.last {
		return nil, "submit_s", fmt.Errorf("job %q submitted at %v, before the previous job at %v; want jobs in submit order", j.ID, j.Submit, r.last)
	}
	if len(v.Tasks) == 0 {
		return nil, "tasks", fmt.Errorf("job %q has no tasks; want at least one", j.ID)
	}
	j.Tasks = make([]Task, len(v.Tasks))
	for i, t := range v.Tasks {
		field := fmt.Sprintf("tasks[%d].", i)
		if t.Duration == "" {
			return nil, field + "duration_s", errors.New("no duration_s; want the task's run time in seconds")
		}
		d, err := parseSeconds([]byte(t.Duration))
		if err != nil || d < 0 {
			return nil, field + "duration_s", orNegative(err, []byte(t.Duration), "seconds")
		}
		for _, q := range []struct {
			name string
			v    float64
		}{{"cpus", t.CPUs}, {"mem_mib", t.MemMiB}, {"disk_mib", t.DiskMiB}, {"gpus", t.GPUs}} {
			if q.v < 0 {
				return nil, field + q.name, fmt.Errorf("%v; want 0 or more", q.v)
			}
		}
		count := 0
		if t.Count != "" {
			if count, err = parseCount([]byte(t.Count)); err != nil {
				return nil, field + "count", err
			}
		}
		j.Tasks[i] = Task{Resources: Resources{CPUs: t.CPUs, MemMiB: t.MemMiB, DiskMiB: t.DiskMiB, GPUs: t.GPUs}, Duration: d, Censored: t.Censored, Count: count}
	}
	return j, "", nil
}

// detectNativeJSONL: the first line is an object whose top-level keys
// include id and submit_s (the head may end inside it).
func detectNativeJSONL(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	id, submit := false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		id = id || tok == "id"
		submit = submit || tok == "submit_s"
		if id && submit {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}
