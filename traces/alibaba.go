package traces

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Alibaba cluster traces v2018 and v2017 (FORMATS.md sections 3 and 4):
// headerless CSV tables. This file also holds the CSV table helpers (ali*)
// that the PAI, openb and Philly readers share.

func init() {
	Register(Format{
		Name: "alibaba2018",
		Describe: "Alibaba cluster-trace-v2018 CSV: machine_meta (machines); batch_task or batch_instance (jobs). " +
			"Memory is normalised: 100 = Options.MachineMemMiB, default 512 GiB (assumed)",
		Detect: func(head []byte) bool {
			return aliDetect(head, ali18MachineShape) || aliDetect(head, ali18TaskShape) || aliDetect(head, ali18InstanceShape)
		},
		Jobs:     ali2018Jobs,
		Machines: ali2018Machines,
	})
	Register(Format{
		Name: "alibaba2017",
		Describe: "Alibaba cluster-trace-v2017 CSV: server_event (machines); batch_task (jobs). " +
			"Memory is normalised: 1 = Options.MachineMemMiB, default 512 GiB (assumed)",
		Detect: func(head []byte) bool {
			return aliDetect(head, ali17ServerShape) || aliDetect(head, ali17TaskShape)
		},
		Jobs:     ali2017Jobs,
		Machines: ali2017Machines,
	})
}

// AlibabaMachineMemMiB is the memory assumed for the largest machine of the
// Alibaba 2017 and 2018 traces, which give memory only normalised to it
// (2018: mem_size 100; 2017: 1.0) and publish no absolute size. 512 GiB is
// what the 96-core machines of Alibaba's PAI 2020 trace have; it is an
// assumption, which Options.MachineMemMiB replaces. Machines and tasks are
// scaled alike, so only absolute figures depend on it.
const AlibabaMachineMemMiB = 512 * 1024

// AlibabaReorder is the default window, in jobs, of the Alibaba and PAI job
// readers: rows of one job are gathered while fewer than this many other
// jobs have started since, and jobs are put in submit order through a
// reorder buffer of as many jobs (Options.Reorder replaces it). The copied
// 2017 batch_task is in no time order at all: its 12,951 jobs need a window
// of all of them. Buffered jobs hold one task per row (not per instance),
// a few MB per 10,000 jobs.
const AlibabaReorder = 1 << 17

// Column names, from FORMATS.md (schema.txt and schema.csv).
var (
	ali18MachineCols  = []string{"machine_id", "time_stamp", "failure_domain_1", "failure_domain_2", "cpu_num", "mem_size", "status"}
	ali18TaskCols     = []string{"task_name", "instance_num", "job_name", "task_type", "status", "start_time", "end_time", "plan_cpu", "plan_mem"}
	ali18InstanceCols = []string{"instance_name", "task_name", "job_name", "task_type", "status", "start_time", "end_time", "machine_id", "seq_no", "total_seq_no", "cpu_avg", "cpu_max", "mem_avg", "mem_max"}
	ali17ServerCols   = []string{"timestamp", "machine_id", "event_type", "event_detail", "cpus", "mem", "disk"}
	ali17TaskCols     = []string{"task_create_time", "task_end_time", "job_id", "task_id", "number_of_instances", "status", "plan_cpu", "plan_mem"}
)

// aliStatuses are the task and instance states of Alibaba's batch tables;
// the first four are final.
var aliStatuses = []string{"Terminated", "Failed", "Cancelled", "Interrupted", "Running", "Waiting", "Ready"}

const (
	aliMaxPercent = 1e9 // CPU and GPU requests in percent of one
	aliMaxNorm    = 1e6 // normalised memory: 0..100 (2018) or 0..1 (2017) expected
	aliMaxCores   = 1e7 // machine capacities
	aliMaxMiB     = 1e12
)

func aliMemMiB(opts Options) float64 {
	if opts.MachineMemMiB > 0 {
		return opts.MachineMemMiB
	}
	return AlibabaMachineMemMiB
}

// aliDuration is a task's duration and whether it is censored, from its
// status and times. A task in a final state with a known end is observed;
// a running one is censored at its last known time; one not yet started
// (Waiting, Ready) is censored with no duration.
func aliDuration(status string, start, end time.Duration, endKnown bool) (time.Duration, bool) {
	final := slices.Index(aliStatuses, status) < 4
	switch {
	case final && endKnown && end >= start:
		return end - start, false
	case status == "Running" && endKnown && end > start:
		return end - start, true
	}
	return 0, true
}

// ali2018Jobs reads batch_task or batch_instance rows as jobs named by
// job_name. From batch_task, a row is instance_num tasks of plan_cpu/100
// cores and plan_mem/100 of the machine memory, each lasting end_time -
// start_time. From batch_instance, which has no requests, a row is one task
// sized by its peak usage (cpu_max/100 cores, mem_max/100 of the memory)
// for its own start and end. The trace has no submit time: a job is
// submitted at its earliest start (0 if earlier), and all its tasks with it
// (the model has no per-task start, so a DAG's later stages come early).
// The start of a row not yet started (Waiting or Ready at time 0, as the
// trace gives them) does not count.
func ali2018Jobs(in *Input, opts Options) (JobReader, error) {
	if aliDetect(in.Head(64<<10), ali18MachineShape) {
		return nil, aliMachineTableError(in, "machine_meta")
	}
	mem := aliMemMiB(opts)
	t := &aliTable{in: in, opts: opts, schemas: [][]string{ali18TaskCols, ali18InstanceCols}}
	t.stats.Units = fmt.Sprintf("seconds; CPUs plan_cpu/100 cores; memory plan_mem/100 x %g MiB", mem)
	parse := func(r *aliRow, jr *aliJobRow) bool {
		if r.schema == 1 { // batch_instance
			r.id(0, "an instance name")
			jr.job = r.id(2, "a job name")
			status := r.word(4, aliStatuses...)
			start, end := r.secs(5), r.secs(6)
			cpu := r.opt(11, 0, aliMaxPercent, "the peak CPU in percent of a core")
			m := r.opt(13, 0, aliMaxNorm, "the peak memory normalised to 100")
			jr.start, jr.started, jr.n = start, aliStarted(status, start), 1
			jr.task = Task{Resources: Resources{CPUs: cpu / 100, MemMiB: m / 100 * mem}}
			jr.task.Duration, jr.task.Censored = aliDuration(status, start, end, end != 0)
			return true
		}
		r.id(0, "a task name")
		jr.job = r.id(2, "a job name")
		jr.n, jr.nCol = r.count(1, MaxTasksPerJob, "an instance count"), 1
		status := r.word(4, aliStatuses...)
		start, end := r.secs(5), r.secs(6)
		cpu := r.opt(7, 0, aliMaxPercent, "a CPU request in percent of a core")
		m := r.opt(8, 0, aliMaxNorm, "a memory request normalised to 100")
		jr.start, jr.started = start, aliStarted(status, start)
		jr.task = Task{Resources: Resources{CPUs: cpu / 100, MemMiB: m / 100 * mem}}
		jr.task.Duration, jr.task.Censored = aliDuration(status, start, end, end != 0)
		return true
	}
	return aliNewJobs(t, parse, nil), nil
}

// ali2017Jobs reads batch_task (a header line, as in the copied sample, is
// skipped) as jobs named by job_id: a row is number_of_instances tasks of
// plan_cpu/100 cores (the sample shows 50, 100, 40: hundredths, though the
// schema says "number of cpus") and plan_mem times the machine memory
// (normalised to 1). The second column is the last state change
// (trace_201708.md): a final task lasts from creation to it; a Running one
// is censored there. Empty requests (Waiting tasks) are 0. A job is
// submitted at its earliest task creation, 0 if that is before the trace.
func ali2017Jobs(in *Input, opts Options) (JobReader, error) {
	if aliDetect(in.Head(64<<10), ali17ServerShape) {
		return nil, aliMachineTableError(in, "server_event")
	}
	mem := aliMemMiB(opts)
	t := &aliTable{in: in, opts: opts, schemas: [][]string{ali17TaskCols}}
	t.stats.Units = fmt.Sprintf("seconds; CPUs plan_cpu/100 cores; memory plan_mem x %g MiB", mem)
	parse := func(r *aliRow, jr *aliJobRow) bool {
		start, end := r.secs(0), r.secs(1)
		jr.job = r.id(2, "a job id")
		r.id(3, "a task id")
		jr.n, jr.nCol = r.count(4, MaxTasksPerJob, "an instance count"), 4
		status := r.word(5, aliStatuses...)
		cpu := r.opt(6, 0, aliMaxPercent, "a CPU request in percent of a core")
		m := r.opt(7, 0, aliMaxNorm, "a memory request normalised to 1")
		jr.start, jr.started = start, true // create times are known, even of Waiting tasks
		jr.task = Task{Resources: Resources{CPUs: cpu / 100, MemMiB: m * mem}}
		jr.task.Duration, jr.task.Censored = aliDuration(status, start, end, end != 0)
		return true
	}
	return aliNewJobs(t, parse, nil), nil
}

// aliStarted reports whether a row's start time is one: Alibaba gives
// instances and tasks not yet started (Waiting, Ready) the time 0.
func aliStarted(status string, start time.Duration) bool {
	return start != 0 || status != "Waiting" && status != "Ready"
}

// ErrMachineTable is what the Alibaba, PAI and openb readers' Jobs return
// (wrapped, naming the file) for a table of machines: such a format has
// both, and its files say which they hold.
var ErrMachineTable = errors.New("a table of machines, not jobs; read it for its machines")

func aliMachineTableError(in *Input, table string) error {
	file, _ := in.Pos()
	return fmt.Errorf("%s: this is a %s table: %w", file, table, ErrMachineTable)
}

// ali2018Machines reads machine_meta. Its rows are grouped by machine, not
// by time, so the table (about 17,600 rows) is read whole and its events
// come out in time order. A machine is in service while its status is
// USING: it is added when it enters that status, removed when it leaves it
// and updated when its capacity or failure domains change meanwhile (other
// rows make no event). IMPORT_INSTALLING machines are not yet in service.
// Capacity: cpu_num cores; memory mem_size/100 of the machine memory.
func ali2018Machines(in *Input, opts Options) (MachineReader, error) {
	mem := aliMemMiB(opts)
	t := &aliTable{in: in, opts: opts, schemas: [][]string{ali18MachineCols}}
	t.stats.Units = fmt.Sprintf("seconds; CPUs cpu_num cores; memory mem_size/100 x %g MiB", mem)
	step := func(r *aliRow, was aliMachineState) aliMachineState {
		id := r.id(0, "a machine id")
		at := r.secs(1)
		fd1, fd2 := r.f[2], r.f[3]
		cpus := r.num(4, 0, aliMaxCores, "a number of cores")
		m := r.num(5, 0, aliMaxNorm, "a memory size normalised to 100")
		status := r.f[6]
		if status == "" {
			r.fail(6, "empty; want a machine status such as USING or IMPORT_INSTALLING")
		}
		return aliMachineState{id: id, at: at, up: status == "USING", m: Machine{
			ID:         id,
			Capacity:   Resources{CPUs: cpus, MemMiB: m / 100 * mem},
			Attributes: map[string]string{"failure_domain_1": fd1, "failure_domain_2": fd2},
		}}
	}
	return &aliEventReader{t: t, step: step}, nil
}

// ali2017Machines reads server_event, in time order (the table is read
// whole; it has about 1,350 rows). add adds a machine (or updates a present
// one) of cpus cores and mem times the machine memory; harderror removes
// it; softerror, after which no new work should be placed but that has no
// recovery event, is an update that sets the attributes error,
// error_detail and error_at (the row's time) and keeps the capacity.
// Errors of absent machines make no event. Disk (normalised, and asked for
// by no task) is left out.
func ali2017Machines(in *Input, opts Options) (MachineReader, error) {
	mem := aliMemMiB(opts)
	t := &aliTable{in: in, opts: opts, schemas: [][]string{ali17ServerCols}}
	t.stats.Units = fmt.Sprintf("seconds; CPUs cores; memory mem x %g MiB", mem)
	step := func(r *aliRow, was aliMachineState) aliMachineState {
		at := r.secs(0)
		id := r.id(1, "a machine id")
		kind := r.word(2, "add", "softerror", "harderror")
		cpus := r.opt(4, 0, aliMaxCores, "a number of cores")
		m := r.opt(5, 0, aliMaxNorm, "a memory size normalised to 1")
		r.opt(6, 0, aliMaxNorm, "a disk size normalised to 1")
		now := was
		now.id, now.at = id, at
		switch {
		case kind == "add":
			now.up = true
			now.m = Machine{ID: id, Capacity: Resources{CPUs: cpus, MemMiB: m * mem}, Attributes: was.m.Attributes}
		case kind == "softerror" && was.up:
			now.m.Attributes = maps.Clone(was.m.Attributes)
			if now.m.Attributes == nil {
				now.m.Attributes = map[string]string{}
			}
			now.m.Attributes["error"], now.m.Attributes["error_detail"], now.m.Attributes["error_at"] = kind, r.f[3], r.f[0]
		case kind == "harderror":
			now.up = false
		}
		return now
	}
	return &aliEventReader{t: t, step: step}, nil
}

// aliMachineState is a machine as of one row of a machine event table.
type aliMachineState struct {
	id  string
	at  time.Duration
	up  bool // in service
	m   Machine
	row int // the row's index in file order
}

// aliEventReader reads a machine event table whole, orders its rows by
// time (stably) and turns each machine's changes into events. step reads a
// row into the state of its machine after it, given the state before.
type aliEventReader struct {
	t      *aliTable
	step   func(r *aliRow, was aliMachineState) aliMachineState
	events []*MachineEvent
	err    error
	loaded bool
}

func (a *aliEventReader) NextMachine() (*MachineEvent, error) {
	if !a.loaded {
		a.loaded, a.err = true, a.load()
	}
	if a.err != nil {
		return nil, a.err
	}
	if len(a.events) == 0 {
		return nil, io.EOF
	}
	e := a.events[0]
	a.events = a.events[1:]
	return e, nil
}

func (a *aliEventReader) Stats() Stats { return a.t.stats }

func (a *aliEventReader) load() error {
	var rows []aliRow
	var order []aliMachineState
	for {
		err := a.t.next(func(r *aliRow) {
			s := a.step(r, aliMachineState{}) // validates the row
			if r.err == nil {
				s.row = len(rows)
				order = append(order, s)
				rows = append(rows, *r)
				rows[s.row].f = slices.Clone(r.f)
			}
		})
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	slices.SortStableFunc(order, func(x, y aliMachineState) int { return cmp.Compare(x.at, y.at) })
	cur := map[string]aliMachineState{}
	for _, o := range order {
		was := cur[o.id]
		now := a.step(&rows[o.row], was)
		cur[o.id] = now
		if kind, ok := aliChange(was, now); ok {
			m := now.m
			if kind == MachineRemove {
				m = was.m
			}
			a.events = append(a.events, &MachineEvent{At: max(0, now.at), Kind: kind, Machine: m})
		}
	}
	return nil
}

// aliChange is the event between two states of a machine, if any.
func aliChange(was, now aliMachineState) (MachineEventKind, bool) {
	switch {
	case !was.up && now.up:
		return MachineAdd, true
	case was.up && !now.up:
		return MachineRemove, true
	case was.up && now.up && (was.m.Capacity != now.m.Capacity || !maps.Equal(was.m.Attributes, now.m.Attributes)):
		return MachineUpdate, true
	}
	return 0, false
}

// aliTable reads a comma-separated table line by line: it splits lines
// (fields trimmed of spaces), skips blank lines and headers, counts lines,
// and makes a malformed line a *ParseError, or skips it with
// Options.SkipBad. A table has one schema per column count; or, if named,
// line 1 of every file is a header that says where the schema's columns
// stand (more columns are allowed).
type aliTable struct {
	in      *Input
	opts    Options
	stats   Stats
	schemas [][]string
	named   bool
	pos     []int // named: where each column of schemas[0] stands
	width   int   // named: the header's column count
	row     aliRow
}

// next reads lines until parse accepts one (leaves r.err nil); io.EOF at
// the end.
func (t *aliTable) next(parse func(r *aliRow)) error {
	for {
		line, err := t.in.Line()
		if err != nil {
			return err
		}
		file, n := t.in.Pos()
		text := strings.TrimSpace(strings.TrimPrefix(string(line), "\ufeff"))
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		for i, f := range fields {
			fields[i] = strings.TrimSpace(f)
		}
		if n == 1 && t.named {
			if err := t.header(file, fields); err != nil {
				return err
			}
			continue
		}
		if n == 1 && aliIsHeader(fields) {
			continue
		}
		t.stats.Lines++
		r := &t.row
		*r = aliRow{file: file, line: n}
		t.fill(r, fields)
		if r.err == nil {
			parse(r)
		}
		if r.err == nil {
			return nil
		}
		if skip, err := t.stats.skip(t.opts, r.err); !skip {
			return err
		}
	}
}

// header reads a named table's header line.
func (t *aliTable) header(file string, fields []string) error {
	want := t.schemas[0]
	t.pos, t.width = make([]int, len(want)), len(fields)
	for i, name := range want {
		t.pos[i] = slices.Index(fields, name)
		if t.pos[i] < 0 {
			return &ParseError{File: file, Line: 1, Err: fmt.Errorf("header %q has no column %s; want a header naming the columns %s",
				strings.Join(fields, ","), name, strings.Join(want, ","))}
		}
	}
	return nil
}

// fill splits a line into r's columns by the table's schema.
func (t *aliTable) fill(r *aliRow, fields []string) {
	if t.named {
		if t.pos == nil {
			r.err = &ParseError{File: r.file, Line: r.line, Err: fmt.Errorf("no header; want line 1 to name the columns %s", strings.Join(t.schemas[0], ","))}
			return
		}
		if len(fields) != t.width {
			r.err = &ParseError{File: r.file, Line: r.line, Err: fmt.Errorf("%d columns; want %d, as the header says", len(fields), t.width)}
			return
		}
		r.names, r.pos, r.f = t.schemas[0], t.pos, make([]string, len(t.pos))
		for i, p := range t.pos {
			r.f[i] = fields[p]
		}
		return
	}
	var want []string
	for i, s := range t.schemas {
		if len(s) == len(fields) {
			r.schema, r.names, r.f = i, s, fields
			return
		}
		want = append(want, fmt.Sprintf("%d (%s)", len(s), strings.Join(s, ",")))
	}
	r.err = &ParseError{File: r.file, Line: r.line, Err: fmt.Errorf("%d columns; want %s", len(fields), strings.Join(want, " or "))}
}

// aliIsHeader reports whether a first line names columns: no field of it
// is a number, as some field of every data row is.
func aliIsHeader(fields []string) bool {
	return !slices.ContainsFunc(fields, aliIsNum)
}

// aliRow is one line of a table, split. Its readers note the first problem
// in err and return zero values after it, so that a row is read straight
// through and checked once.
type aliRow struct {
	file   string
	line   int
	schema int // which of the table's schemas
	names  []string
	f      []string
	pos    []int // where column i stands in the file, when not at i
	err    error
}

func (r *aliRow) fail(i int, format string, a ...any) {
	if r.err != nil {
		return
	}
	col := i + 1
	if r.pos != nil {
		col = r.pos[i] + 1
	}
	r.err = &ParseError{File: r.file, Line: r.line, Column: col, Field: r.names[i], Err: fmt.Errorf(format, a...)}
}

// id reads a name that may not be empty.
func (r *aliRow) id(i int, what string) string {
	if r.f[i] == "" {
		r.fail(i, "empty; want %s", what)
	}
	return r.f[i]
}

// num reads a finite number from lo to hi; what says what it is.
func (r *aliRow) num(i int, lo, hi float64, what string) float64 {
	s := r.f[i]
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case r.err != nil:
	case s == "":
		r.fail(i, "empty; want %s", what)
	case err != nil || v != v:
		r.fail(i, "%q is not a number; want %s", s, what)
	case v < lo || v > hi:
		r.fail(i, "%s is out of range; want %s from %s to %s", s, what, aliFmt(lo), aliFmt(hi))
	default:
		return v
	}
	return 0
}

func aliFmt(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// opt reads a number that may be empty, for 0.
func (r *aliRow) opt(i int, lo, hi float64, what string) float64 {
	if r.f[i] == "" {
		return 0
	}
	return r.num(i, lo, hi, what)
}

// count reads a whole number from 0 to hi ("3" or "3.0").
func (r *aliRow) count(i, hi int, what string) int {
	v := r.num(i, 0, float64(hi), what)
	if v != math.Trunc(v) {
		r.fail(i, "%s is not a whole number; want %s", r.f[i], what)
	}
	return int(v)
}

// aliMaxSeconds bounds times, so that differences of two of them stay
// within a time.Duration (about 292 years).
const aliMaxSeconds = 4e9

// secs reads a time in seconds.
func (r *aliRow) secs(i int) time.Duration {
	return aliSeconds(r.num(i, -aliMaxSeconds, aliMaxSeconds, "a time in seconds"))
}

// optSecs reads a time in seconds that may be empty (known false).
func (r *aliRow) optSecs(i int) (t time.Duration, known bool) {
	if r.f[i] == "" {
		return 0, false
	}
	return r.secs(i), true
}

func aliSeconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// word reads one of the allowed words, in any case, as spelled in allowed.
func (r *aliRow) word(i int, allowed ...string) string {
	for _, w := range allowed {
		if strings.EqualFold(r.f[i], w) {
			return w
		}
	}
	r.fail(i, "%q; want one of %s", r.f[i], strings.Join(allowed, ", "))
	return ""
}

// aliJobRow is what one row of a job table adds to its job: n copies of
// task, started at start if started.
type aliJobRow struct {
	job     string
	start   time.Duration
	started bool
	task    Task
	n       int
	nCol    int // the column of n, for errors
}

// aliNoStart is the submit time of a job none of whose rows has started.
const aliNoStart = time.Duration(math.MaxInt64)

// aliJobs assembles jobs from rows that each add tasks to a named job.
// Rows of a job must lie near one another: a job is complete once window
// other jobs have started after it; a row of a job already handed out
// starts a new job of the same name. Jobs come out in order of their
// first row, submitted at their earliest start (0 if negative or if none
// started); finish, if set, completes them. parse reads a row into jr, or
// reports false for a row that adds no tasks.
//
// A job holds one task per row, whose Count is the row's instances:
// Alibaba's rows stand for up to tens of thousands of them.
type aliJobs struct {
	t      *aliTable
	parse  func(r *aliRow, jr *aliJobRow) bool
	finish func(j *Job)
	window int
	open   map[string]*Job
	queue  []*Job
	total  map[*Job]int // instances of an open job
	eof    bool
}

// aliNewJobs returns the jobs of t in submit order, through a reorder
// buffer.
func aliNewJobs(t *aliTable, parse func(r *aliRow, jr *aliJobRow) bool, finish func(j *Job)) JobReader {
	window := t.opts.Reorder
	if window <= 0 {
		window = AlibabaReorder
	}
	a := &aliJobs{t: t, parse: parse, finish: finish, window: window,
		open: map[string]*Job{}, total: map[*Job]int{}}
	return aliJobReader{Source: Reorder(a, window), stats: &t.stats}
}

func (a *aliJobs) Next() (*Job, error) {
	for !a.eof && len(a.open) <= a.window {
		var jr aliJobRow
		var ok bool
		err := a.t.next(func(r *aliRow) {
			jr = aliJobRow{}
			ok = a.parse(r, &jr)
			if j := a.open[jr.job]; ok && j != nil && jr.n > MaxTasksPerJob-a.total[j] {
				r.fail(jr.nCol, "%d more tasks would make job %s larger than %d tasks; want fewer", jr.n, jr.job, MaxTasksPerJob)
			}
		})
		if err == io.EOF {
			a.eof = true
			break
		}
		if err != nil {
			return nil, err
		}
		if ok {
			a.add(jr)
		}
	}
	if len(a.queue) == 0 {
		return nil, io.EOF
	}
	j := a.queue[0]
	a.queue[0], a.queue = nil, a.queue[1:]
	delete(a.open, j.ID)
	delete(a.total, j)
	if j.Submit == aliNoStart {
		j.Submit = 0
	}
	j.Submit = max(0, j.Submit)
	if a.finish != nil {
		a.finish(j)
	}
	return j, nil
}

func (a *aliJobs) add(jr aliJobRow) {
	j := a.open[jr.job]
	if j == nil {
		j = &Job{ID: jr.job, Submit: aliNoStart}
		a.open[jr.job] = j
		a.queue = append(a.queue, j)
	}
	if jr.started {
		j.Submit = min(j.Submit, jr.start)
	}
	if jr.n > 1 {
		jr.task.Count = jr.n
	}
	j.Tasks = append(j.Tasks, jr.task)
	a.total[j] += jr.n
}

// aliJobReader is a job stream with the stats of its table.
type aliJobReader struct {
	Source
	stats *Stats
}

func (r aliJobReader) Stats() Stats { return *r.stats }

// aliMachineList reads a static machine list: every row a machine added at
// time 0, by parse. A machine listed twice is a malformed line.
func aliMachineList(t *aliTable, parse func(r *aliRow) Machine) MachineReader {
	return &aliListReader{t: t, parse: parse, seen: map[string]int{}}
}

type aliListReader struct {
	t     *aliTable
	parse func(r *aliRow) Machine
	seen  map[string]int // machine id: line
}

func (l *aliListReader) NextMachine() (*MachineEvent, error) {
	var m Machine
	err := l.t.next(func(r *aliRow) {
		m = l.parse(r)
		if line, dup := l.seen[m.ID]; dup && r.err == nil {
			r.fail(0, "machine %s listed again (first at line %d); want each machine once", m.ID, line)
		}
		if r.err == nil {
			l.seen[m.ID] = r.line
		}
	})
	if err != nil {
		return nil, err
	}
	return &MachineEvent{At: 0, Kind: MachineAdd, Machine: m}, nil
}

func (l *aliListReader) Stats() Stats { return l.t.stats }

// aliDetect reports whether the complete lines at the start of head (at
// most 20, a header line skipped) are rows of the shape.
func aliDetect(head []byte, shape func(f []string) bool) bool {
	lines := strings.Split(string(head), "\n")
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut short
	}
	rows := 0
	for n, line := range lines {
		line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if line == "" {
			continue
		}
		fields := strings.Split(line, ",")
		for i, f := range fields {
			fields[i] = strings.TrimSpace(f)
		}
		if n == 0 && aliIsHeader(fields) {
			continue
		}
		if !shape(fields) {
			return false
		}
		if rows++; rows == 20 {
			break
		}
	}
	return rows > 0
}

func aliIsNum(s string) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v == v && !math.IsInf(v, 0)
}

func aliIsNumOrEmpty(s string) bool { return s == "" || aliIsNum(s) }

// aliIsWord: letters, digits and underscores, starting with a letter.
func aliIsWord(s string) bool {
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c == '_' || c >= '0' && c <= '9')) {
			return false
		}
	}
	return s != ""
}

// aliAll reports whether every one of the columns cols passes is.
func aliAll(f []string, is func(string) bool, cols ...int) bool {
	for _, c := range cols {
		if !is(f[c]) {
			return false
		}
	}
	return true
}

// Shapes of the tables' rows, for detection.
func ali18MachineShape(f []string) bool {
	return len(f) == 7 && aliAll(f, aliIsNum, 1, 4, 5) && aliIsWord(f[6]) && strings.ToUpper(f[6]) == f[6] && !aliIsNum(f[0])
}

func ali18TaskShape(f []string) bool {
	return len(f) == 9 && aliAll(f, aliIsNum, 1, 5, 6) && aliAll(f, aliIsNumOrEmpty, 7, 8) && slices.Contains(aliStatuses, f[4])
}

func ali18InstanceShape(f []string) bool {
	return len(f) == 14 && aliAll(f, aliIsNum, 5, 6) && aliAll(f, aliIsNumOrEmpty, 10, 11, 12, 13) && slices.Contains(aliStatuses, f[4])
}

func ali17ServerShape(f []string) bool {
	return len(f) == 7 && aliAll(f, aliIsNum, 0, 1) && aliAll(f, aliIsNumOrEmpty, 4, 5, 6) && slices.Contains([]string{"add", "softerror", "harderror"}, f[2])
}

func ali17TaskShape(f []string) bool {
	return len(f) == 8 && aliAll(f, aliIsNum, 0, 1, 2, 3, 4) && aliAll(f, aliIsNumOrEmpty, 6, 7) && slices.Contains(aliStatuses, f[5])
}
