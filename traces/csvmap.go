package traces

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The generic CSV reader ("csv") reads a CSV table no reader knows through
// a CSVMapping (Options.Mapping), one job per row:
//
//   - job: the job's id; default (unmapped or empty) the row's line number,
//     counted across the part files.
//   - submit (required): the submit time, taken as time since the trace
//     start (absolute times are not rebased).
//   - duration or end (one of them, required): each task's run time, or
//     the end time, duration = end - submit.
//   - tasks: how many identical tasks the job has; default 1.
//   - cpus (default 1), mem, disk, gpus (default 0): each task's resources.
//   - user, group: strings; priority: an integer.
//
// Units: times in s (default), ms, us or ns; mem and disk in B, KiB, MiB
// (default) or GiB; then Scale multiplies the value (cpus 0.01 for a
// percentage of a core). An empty cell takes the field's default; an empty
// required cell is an error. Comma is one character (default ",", "tab" for
// a tab) and fields may be quoted as in RFC 4180, with no line break inside
// a field. Blank lines and lines starting with Comment
// are skipped; with Header, a later part file's first line equal to the
// header is skipped too. Jobs come out in submit order through a reorder
// buffer of Options.Reorder jobs (default 1024).
func init() {
	Register(Format{
		Name:     "csv",
		Describe: "any CSV table, read through a column mapping (Options.Mapping)",
		Jobs:     newCSVMapReader,
	})
}

// csvKind is what a mapped field holds.
type csvKind int

const (
	csvString csvKind = iota
	csvTime
	csvSize
	csvNumber
	csvInteger
)

// csvFields lists the fields a mapping may name, in the order errors list
// them.
var csvFields = []struct {
	name string
	kind csvKind
}{
	{"job", csvString}, {"submit", csvTime}, {"duration", csvTime}, {"end", csvTime},
	{"tasks", csvInteger}, {"cpus", csvNumber}, {"mem", csvSize}, {"disk", csvSize},
	{"gpus", csvNumber}, {"user", csvString}, {"group", csvString}, {"priority", csvInteger},
}

const (
	cmJob = iota
	cmSubmit
	cmDuration
	cmEnd
	cmTasks
	cmCPUs
	cmMem
	cmDisk
	cmGPUs
	cmUser
	cmGroup
	cmPriority
	cmCount
)

// Units per kind: nanoseconds per time unit, MiB per size unit.
var (
	timeUnits = map[string]float64{"": 1e9, "s": 1e9, "ms": 1e6, "us": 1e3, "µs": 1e3, "ns": 1}
	sizeUnits = map[string]float64{"": 1, "B": 1.0 / (1 << 20), "KiB": 1.0 / 1024, "MiB": 1, "GiB": 1024}
)

// csvCol is one field's column, resolved: col is 0-based, -1 when unmapped;
// factor converts to nanoseconds (times) or MiB (sizes), scale included.
type csvCol struct {
	col    int
	factor float64
	unit   string
	scale  float64
}

type csvMapReader struct {
	in      *Input
	opts    Options
	stats   Stats
	comma   byte
	comment []byte
	cols    [cmCount]csvCol
	header  []byte // the header line, to skip in later part files
	fields  [][]byte
	lines   int64 // physical lines across part files, for default job ids
	ordered Source
}

func newCSVMapReader(in *Input, opts Options) (JobReader, error) {
	m := opts.Mapping
	if m == nil {
		return nil, errors.New(`format "csv" needs a column mapping (Options.Mapping, the "mapping" key of a trace): none given`)
	}
	r := &csvMapReader{in: in, opts: opts, comma: ',', comment: []byte(m.Comment)}
	switch m.Comma {
	case "", ",":
	case "tab", `\t`, "\t":
		r.comma = '\t'
	default:
		if len(m.Comma) != 1 || m.Comma == `"` || m.Comma == "\n" || m.Comma == "\r" {
			return nil, fmt.Errorf("CSV mapping comma %q: want one character (or \"tab\"), not a quote or a line break", m.Comma)
		}
		r.comma = m.Comma[0]
	}
	for i := range r.cols {
		r.cols[i] = csvCol{col: -1}
	}
	for key, c := range m.Columns {
		i := slices.IndexFunc(csvFields, func(f struct {
			name string
			kind csvKind
		}) bool {
			return f.name == key
		})
		if i < 0 {
			return nil, fmt.Errorf("CSV mapping: unknown field %q; known fields: %s", key, csvFieldNames())
		}
		col, err := resolveUnit(key, csvFields[i].kind, c)
		if err != nil {
			return nil, err
		}
		switch {
		case c.Name != "" && c.Index != 0:
			return nil, fmt.Errorf("CSV mapping %s: name %q and index %d; want one of them", key, c.Name, c.Index)
		case c.Name != "" && !m.Header:
			return nil, fmt.Errorf("CSV mapping %s: column name %q but no header; set header: true or give an index", key, c.Name)
		case c.Name == "" && c.Index <= 0:
			return nil, fmt.Errorf("CSV mapping %s: index %d; want a header name or a column number from 1", key, c.Index)
		}
		col.col = c.Index - 1
		r.cols[i] = col
	}
	_, duration := m.Columns["duration"]
	_, end := m.Columns["end"]
	if _, ok := m.Columns["submit"]; !ok {
		return nil, fmt.Errorf("CSV mapping: no submit column; submit is required (fields: %s)", csvFieldNames())
	}
	if duration == end {
		return nil, errors.New("CSV mapping: want a duration or an end column, exactly one")
	}
	var units []string
	for i, c := range r.cols {
		if c.col != -1 && (c.unit != "" || c.scale != 1) {
			units = append(units, fmt.Sprintf("%s in %s x %g", csvFields[i].name, c.unit, c.scale))
		}
	}
	r.stats.Units = "seconds, cores, MiB (as mapped)"
	if len(units) > 0 {
		r.stats.Units = strings.Join(units, ", ")
	}
	if m.Header {
		if err := r.readHeader(m); err != nil {
			return nil, err
		}
	}
	window := opts.Reorder
	if window <= 0 {
		window = 1024
	}
	r.ordered = Reorder(csvMapRaw{r}, window)
	return r, nil
}

func csvFieldNames() string {
	var names []string
	for _, f := range csvFields {
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}

// resolveUnit checks a column's unit and scale against its field's kind.
func resolveUnit(key string, kind csvKind, c CSVColumn) (csvCol, error) {
	col := csvCol{factor: 1, unit: c.Unit, scale: c.Scale}
	if col.scale == 0 {
		col.scale = 1
	}
	if !(col.scale > 0) || math.IsInf(col.scale, 0) {
		return col, fmt.Errorf("CSV mapping %s: scale %v; want a positive number (0 means 1)", key, c.Scale)
	}
	units := map[csvKind]map[string]float64{csvTime: timeUnits, csvSize: sizeUnits}[kind]
	switch {
	case units != nil:
		f, ok := units[c.Unit]
		if !ok {
			allowed := "s, ms, us, ns"
			if kind == csvSize {
				allowed = "B, KiB, MiB, GiB"
			}
			return col, fmt.Errorf("CSV mapping %s: unit %q; want one of %s", key, c.Unit, allowed)
		}
		col.factor = f * col.scale
	case c.Unit != "":
		return col, fmt.Errorf("CSV mapping %s: unit %q; only times (submit, duration, end) and sizes (mem, disk) take units", key, c.Unit)
	case col.scale != 1 && kind != csvNumber:
		return col, fmt.Errorf("CSV mapping %s: scale %v; only quantities (submit, duration, end, cpus, mem, disk, gpus) take a scale", key, c.Scale)
	default:
		col.factor = col.scale
	}
	return col, nil
}

// readHeader reads the header line and finds the named columns. An empty
// file has no header and no jobs.
func (r *csvMapReader) readHeader(m *CSVMapping) error {
	line, err := r.dataLine()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	r.header = append([]byte(nil), line...)
	file, n := r.in.Pos()
	names, col, err := splitCSV(bytes.TrimPrefix(line, utf8BOM), r.comma, nil)
	if err != nil {
		return &ParseError{File: file, Line: n, Column: col, Err: err}
	}
	var all []string
	for _, b := range names {
		all = append(all, string(trimSpace(b)))
	}
	for i, f := range csvFields {
		name := m.Columns[f.name].Name
		if name == "" {
			continue
		}
		at := slices.Index(all, name)
		if at < 0 {
			return &ParseError{File: file, Line: n, Field: f.name,
				Err: fmt.Errorf("column %q is not in the header; header columns: %s", name, strings.Join(all, ", "))}
		}
		if slices.Index(all[at+1:], name) >= 0 {
			return &ParseError{File: file, Line: n, Column: at + 1, Field: f.name,
				Err: fmt.Errorf("column %q appears more than once in the header; map it by index", name)}
		}
		r.cols[i].col = at
	}
	return nil
}

// dataLine returns the next line that is not blank, a comment or a
// repeated header.
func (r *csvMapReader) dataLine() ([]byte, error) {
	for {
		line, err := r.in.Line()
		if err != nil {
			return nil, err
		}
		r.lines++
		t := trimSpace(line)
		if len(t) == 0 || len(r.comment) > 0 && bytes.HasPrefix(t, r.comment) {
			continue
		}
		if _, n := r.in.Pos(); n == 1 && r.header != nil && bytes.Equal(line, r.header) {
			continue
		}
		return line, nil
	}
}

func (r *csvMapReader) Next() (*Job, error) { return r.ordered.Next() }
func (r *csvMapReader) Stats() Stats        { return r.stats }

type csvMapRaw struct{ r *csvMapReader }

func (s csvMapRaw) Next() (*Job, error) {
	r := s.r
	for {
		line, err := r.dataLine()
		if err != nil {
			return nil, err
		}
		r.stats.Lines++
		j, err := r.job(line)
		if err != nil {
			if skip, err := r.stats.skip(r.opts, err); !skip {
				return nil, err
			}
			continue
		}
		return j, nil
	}
}

// job reads one row.
func (r *csvMapReader) job(line []byte) (*Job, error) {
	file, n := r.in.Pos()
	var col int
	var err error
	if r.fields, col, err = splitCSV(line, r.comma, r.fields[:0]); err != nil {
		return nil, &ParseError{File: file, Line: n, Column: col, Err: err}
	}
	var cells [cmCount][]byte
	for i, c := range r.cols {
		if c.col < 0 {
			continue
		}
		if c.col >= len(r.fields) {
			return nil, &ParseError{File: file, Line: n, Column: c.col + 1, Field: csvFields[i].name,
				Err: fmt.Errorf("the row has %d columns; want column %d for %s", len(r.fields), c.col+1, csvFields[i].name)}
		}
		cells[i] = trimSpace(r.fields[c.col])
	}
	bad := func(i int, err error) error {
		return &ParseError{File: file, Line: n, Column: r.cols[i].col + 1, Field: csvFields[i].name, Err: err}
	}
	j := &Job{ID: string(cells[cmJob]), User: string(cells[cmUser]), Group: string(cells[cmGroup])}
	if j.ID == "" {
		j.ID = strconv.FormatInt(r.lines, 10)
	}
	if j.Submit, err = r.time(cmSubmit, cells[cmSubmit]); err != nil {
		return nil, bad(cmSubmit, err)
	}
	var task Task
	if r.cols[cmEnd].col >= 0 {
		end, err := r.time(cmEnd, cells[cmEnd])
		if err != nil {
			return nil, bad(cmEnd, err)
		}
		if end < j.Submit {
			return nil, bad(cmEnd, fmt.Errorf("%q: ends at %v, before the submit time %v; want an end at or after the submit", cells[cmEnd], end, j.Submit))
		}
		task.Duration = end - j.Submit
	} else if task.Duration, err = r.time(cmDuration, cells[cmDuration]); err != nil {
		return nil, bad(cmDuration, err)
	}
	task.Resources.CPUs = 1
	for i, v := range [...]*float64{&task.Resources.CPUs, &task.Resources.MemMiB, &task.Resources.DiskMiB, &task.Resources.GPUs} {
		f := cmCPUs + i
		if len(cells[f]) == 0 {
			continue
		}
		q, err := parseQuantity(cells[f])
		if err != nil {
			return nil, bad(f, err)
		}
		if *v = q * r.cols[f].factor; math.IsInf(*v, 0) {
			return nil, bad(f, fmt.Errorf("%q: out of range once converted", cells[f]))
		}
	}
	tasks := int64(1)
	if len(cells[cmTasks]) > 0 {
		if tasks, err = strconv.ParseInt(string(cells[cmTasks]), 10, 64); err != nil || tasks < 1 || tasks > MaxTasksPerJob {
			return nil, bad(cmTasks, fmt.Errorf("%q: want a whole number of tasks from 1 to %d", cells[cmTasks], MaxTasksPerJob))
		}
	}
	if len(cells[cmPriority]) > 0 {
		p, err := strconv.ParseInt(string(cells[cmPriority]), 10, 32)
		if err != nil {
			return nil, bad(cmPriority, fmt.Errorf("%q: want an integer", cells[cmPriority]))
		}
		j.Priority = int(p)
	}
	if tasks > 1 {
		task.Count = int(tasks)
	}
	j.Tasks = []Task{task}
	return j, nil
}

// time reads a time cell in its column's unit and scale, 0 or more.
func (r *csvMapReader) time(field int, b []byte) (time.Duration, error) {
	c := r.cols[field]
	if len(b) == 0 {
		return 0, fmt.Errorf("empty; want a time in %s", unitName(c.unit, "s"))
	}
	if v, ok := parseInt(b); ok && v >= 0 && c.factor == math.Trunc(c.factor) && c.factor >= 1 && c.factor <= 1e18 {
		if v > math.MaxInt64/int64(c.factor) {
			return 0, fmt.Errorf("%q: out of range; want at most %d seconds", b, maxSeconds)
		}
		return time.Duration(v * int64(c.factor)), nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q: want a number (of %s)", b, unitName(c.unit, "s"))
	}
	if f < 0 {
		return 0, fmt.Errorf("%q: want a time of 0 or more", b)
	}
	ns := math.Round(f * c.factor)
	if ns >= 1<<63 {
		return 0, fmt.Errorf("%q: out of range; want at most %d seconds", b, maxSeconds)
	}
	return time.Duration(ns), nil
}

func unitName(unit, def string) string {
	if unit == "" {
		return def
	}
	return unit
}

// splitCSV splits one CSV line into fields appended to dst: RFC 4180
// quoting, a quoted field may have spaces before its quote, and a quote
// inside an unquoted field is kept as it is. On error col is the 1-based
// field at fault. Fields alias line unless they held a doubled quote.
func splitCSV(line []byte, comma byte, dst [][]byte) (fields [][]byte, col int, err error) {
	for i := 0; ; {
		j := i
		for j < len(line) && line[j] == ' ' && comma != ' ' {
			j++
		}
		if j == len(line) || line[j] != '"' {
			k := bytes.IndexByte(line[i:], comma)
			if k < 0 {
				return append(dst, line[i:]), 0, nil
			}
			dst = append(dst, line[i:i+k])
			i += k + 1
			continue
		}
		field, end, ok := unquote(line, j+1)
		if !ok {
			return dst, len(dst) + 1, fmt.Errorf("field %d: a quote opens and does not close; want a closing quote before the end of the line", len(dst)+1)
		}
		for end < len(line) && line[end] == ' ' && comma != ' ' {
			end++
		}
		dst = append(dst, field)
		if end == len(line) {
			return dst, 0, nil
		}
		if line[end] != comma {
			return dst, len(dst), fmt.Errorf("field %d: %q after the closing quote; want a comma or the end of the line", len(dst), line[end])
		}
		i = end + 1
	}
}

// unquote reads a quoted field from just past its opening quote: the
// field, where its closing quote ends, and whether it closes.
func unquote(line []byte, start int) (field []byte, end int, ok bool) {
	var buf []byte
	seg := start
	for j := start; ; {
		k := bytes.IndexByte(line[j:], '"')
		if k < 0 {
			return nil, 0, false
		}
		j += k
		if j+1 < len(line) && line[j+1] == '"' {
			buf = append(buf, line[seg:j+1]...)
			j += 2
			seg = j
			continue
		}
		if buf == nil {
			return line[seg:j], j + 1, true
		}
		return append(buf, line[seg:j]...), j + 1, true
	}
}
