package traces_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/traces"
)

func csvRes(cpus, mem, disk, gpus float64) traces.Resources {
	return traces.Resources{CPUs: cpus, MemMiB: mem, DiskMiB: disk, GPUs: gpus}
}

// csvTasks is n identical tasks, as one entry.
func csvTasks(n int, r traces.Resources, d time.Duration) []traces.Task {
	t := traces.Task{Resources: r, Duration: d}
	if n > 1 {
		t.Count = n
	}
	return []traces.Task{t}
}

func TestCSVMappingFixtures(t *testing.T) {
	type col = traces.CSVColumn
	for _, c := range []struct {
		name  string
		files []string
		m     traces.CSVMapping
		want  []*traces.Job
	}{
		{
			name:  "header names, ms, percent, GiB, end",
			files: []string{"header.csv"},
			m: traces.CSVMapping{Header: true, Comment: "#", Columns: map[string]col{
				"job": {Name: "id"}, "user": {Name: "user"}, "group": {Name: "queue"},
				"submit": {Name: "submit_ms", Unit: "ms"}, "end": {Name: "end_ms", Unit: "ms"},
				"tasks": {Name: "ntasks"}, "cpus": {Name: "cpu_pct", Scale: 0.01},
				"mem": {Name: "mem_gib", Unit: "GiB"}, "gpus": {Name: "gpu"},
			}},
			want: []*traces.Job{
				{ID: "a1", Submit: time.Second, User: "alice", Group: "q1", Tasks: csvTasks(2, csvRes(0.5, 1536, 0, 0), time.Minute)},
				{ID: "a,3", Submit: 2 * time.Second, User: "carol", Group: "q2", Tasks: csvTasks(3, csvRes(1, 2048, 0, 0.5), 0)},
				{ID: "a2", Submit: 2500 * time.Millisecond, User: "bob", Tasks: csvTasks(1, csvRes(4, 256, 0, 1), 500500*time.Microsecond)},
			},
		},
		{
			name:  "indices, tab, us, KiB, B, default ids",
			files: []string{"noheader.tsv"},
			m: traces.CSVMapping{Comma: "tab", Columns: map[string]col{
				"submit": {Index: 1, Unit: "us"}, "duration": {Index: 2, Unit: "us"}, "cpus": {Index: 3},
				"mem": {Index: 4, Unit: "KiB"}, "disk": {Index: 5, Unit: "B"}, "priority": {Index: 6},
			}},
			want: []*traces.Job{
				{ID: "1", Submit: 1_700_000_000 * time.Second, Priority: -1, Tasks: csvTasks(1, csvRes(8, 2048, 1024, 0), time.Hour)},
				{ID: "2", Submit: 1_700_000_000*time.Second + time.Microsecond, Tasks: csvTasks(1, csvRes(0.5, 1.0/1024, 1.0/(1<<20), 0), time.Microsecond)},
			},
		},
		{
			name:  "parts, repeated header, minutes by scale, ns",
			files: []string{"part1.csv", "part2.csv"},
			m: traces.CSVMapping{Header: true, Columns: map[string]col{
				"submit": {Name: "submit", Unit: "ns"}, "duration": {Name: "minutes", Scale: 60}, "priority": {Index: 3},
			}},
			want: []*traces.Job{
				{ID: "2", Priority: 1, Tasks: csvTasks(1, csvRes(1, 0, 0, 0), 90*time.Second)},
				{ID: "3", Submit: 7, Priority: 2, Tasks: csvTasks(1, csvRes(1, 0, 0, 0), 60)},
				{ID: "5", Submit: 9, Priority: 3, Tasks: csvTasks(1, csvRes(1, 0, 0, 0), 2*time.Minute)},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var paths []string
			for _, f := range c.files {
				paths = append(paths, "testdata/csv/"+f)
			}
			r, _ := tfOpen(t, "csv", traces.Options{Mapping: &c.m}, paths...)
			got, err := tfReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d jobs; want %d", len(got), len(c.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], c.want[i]) {
					t.Errorf("job %d: %+v\nwant %+v", i, got[i], c.want[i])
				}
			}
			if s := r.Stats(); s.Lines != int64(len(c.want)) {
				t.Errorf("%d lines; want %d", s.Lines, len(c.want))
			}
		})
	}
}

// A bad mapping is an error at open that names what is wrong and what is
// allowed.
func TestCSVMappingErrors(t *testing.T) {
	type col = traces.CSVColumn
	base := func(extra map[string]col) *traces.CSVMapping {
		m := &traces.CSVMapping{Header: true, Columns: map[string]col{"submit": {Index: 1}, "duration": {Index: 2}}}
		for k, v := range extra {
			m.Columns[k] = v
		}
		return m
	}
	for _, c := range []struct {
		name string
		m    *traces.CSVMapping
		msg  string
	}{
		{"nil", nil, `needs a column mapping (Options.Mapping, the "mapping" key`},
		{"unknown field", base(map[string]col{"cpu": {Index: 3}}), `unknown field "cpu"; known fields: job, submit, duration, end, tasks, cpus, mem, disk, gpus, user, group, priority`},
		{"not in header", base(map[string]col{"user": {Name: "owner"}}), `column "owner" is not in the header; header columns: a, b, c`},
		{"name and index", base(map[string]col{"user": {Name: "a", Index: 1}}), "want one of them"},
		{"no column", base(map[string]col{"user": {}}), "want a header name or a column number from 1"},
		{"name without header", &traces.CSVMapping{Columns: map[string]col{"submit": {Name: "a"}, "duration": {Index: 2}}}, "no header"},
		{"time unit", base(map[string]col{"end": {Index: 3, Unit: "min"}}), `unit "min"; want one of s, ms, us, ns`},
		{"size unit", base(map[string]col{"mem": {Index: 3, Unit: "MB"}}), `unit "MB"; want one of B, KiB, MiB, GiB`},
		{"unit on cpus", base(map[string]col{"cpus": {Index: 3, Unit: "ms"}}), "only times (submit, duration, end) and sizes (mem, disk) take units"},
		{"scale on tasks", base(map[string]col{"tasks": {Index: 3, Scale: 2}}), "only quantities"},
		{"negative scale", base(map[string]col{"cpus": {Index: 3, Scale: -1}}), "want a positive number"},
		{"no submit", &traces.CSVMapping{Columns: map[string]col{"duration": {Index: 2}}}, "no submit column"},
		{"duration and end", base(map[string]col{"end": {Index: 3}}), "a duration or an end column, exactly one"},
		{"no duration", &traces.CSVMapping{Columns: map[string]col{"submit": {Index: 1}}}, "a duration or an end column"},
		{"comma", &traces.CSVMapping{Comma: ";;", Columns: map[string]col{"submit": {Index: 1}, "duration": {Index: 2}}}, "want one character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := traces.Open(tfWriteTemp(t, "in.csv", []byte("a,b,c\n1,2,3\n")))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			f, _ := traces.Lookup("csv")
			_, err = f.Jobs(in, traces.Options{Mapping: c.m})
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %v; want one saying %q", err, c.msg)
			}
		})
	}
}

func TestCSVMappingRowErrors(t *testing.T) {
	m := &traces.CSVMapping{Header: true, Columns: map[string]traces.CSVColumn{
		"submit": {Name: "s"}, "end": {Name: "e"}, "tasks": {Name: "n"}, "mem": {Name: "m", Unit: "GiB"},
	}}
	for _, c := range []struct {
		row    string
		column int
		field  string
		msg    string
	}{
		{"5,4,1,1", 2, "end", "before the submit time"},
		{"5,6,1", 4, "mem", "the row has 3 columns; want column 4 for mem"},
		{"x,6,1,1", 1, "submit", `"x": want a number (of s)`},
		{",6,1,1", 1, "submit", "empty; want a time in s"},
		{"-1,6,1,1", 1, "submit", "want a time of 0 or more"},
		{"1e300,1e300,1,1", 1, "submit", "out of range"},
		{"5,6,0,1", 3, "tasks", "want a whole number of tasks from 1 to"},
		{"5,6,99999999,1", 3, "tasks", "want a whole number of tasks"},
		{"5,6,1,-2", 4, "mem", "0 or more"},
		{"5,6,1,1e308", 4, "mem", "out of range once converted"},
		{`5,6,"1,1`, 3, "", "does not close"},
		{`5,6,"1"x,1`, 3, "", "after the closing quote"},
	} {
		_, _, err := tfReadString(t, "csv", traces.Options{Mapping: m}, "s,e,n,m\n0,1,1,1\n"+c.row+"\n")
		var pe *traces.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v; want a *ParseError", c.row, err)
			continue
		}
		if pe.Line != 3 || pe.Column != c.column || pe.Field != c.field || !strings.Contains(pe.Error(), c.msg) {
			t.Errorf("%q: %v (line %d column %d field %q); want line 3 column %d field %q saying %q",
				c.row, err, pe.Line, pe.Column, pe.Field, c.column, c.field, c.msg)
		}
	}
}

func TestCSVQuoting(t *testing.T) {
	m := &traces.CSVMapping{Comma: ";", Columns: map[string]traces.CSVColumn{
		"job": {Index: 1}, "user": {Index: 2}, "submit": {Index: 3}, "duration": {Index: 4},
	}}
	jobs, _, err := tfReadString(t, "csv", traces.Options{Mapping: m}, `"a;""b""" ; "it's ""x"" ;"  ;1;2`+"\n"+`c"d;;2;3`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].ID != `a;"b"` || jobs[0].User != `it's "x" ;` || jobs[1].ID != `c"d` || jobs[1].User != "" {
		t.Errorf("jobs %+v %+v; want ids a;\"b\" and c\"d", jobs[0], jobs[1])
	}
}

func FuzzCSVMapping(f *testing.F) {
	for _, s := range []string{
		"id,user,queue,submit_ms,end_ms,ntasks,cpu_pct,mem_gib,gpu\na1,alice,q1,1000,61000,2,50,1.5,0\n",
		"# c\nid,user,queue,submit_ms,end_ms,ntasks,cpu_pct,mem_gib,gpu\n\"a,3\",carol,q2,2000,2000,3,100,2,0.5\n,,,5,5,,,,\n",
		"user,id\n1,2\n",
		"",
	} {
		f.Add([]byte(s))
	}
	m := &traces.CSVMapping{Header: true, Comment: "#", Columns: map[string]traces.CSVColumn{
		"job": {Name: "id"}, "user": {Name: "user"}, "group": {Index: 3},
		"submit": {Name: "submit_ms", Unit: "ms"}, "end": {Name: "end_ms", Unit: "ms"},
		"tasks": {Name: "ntasks"}, "cpus": {Name: "cpu_pct", Scale: 0.01},
		"mem": {Name: "mem_gib", Unit: "GiB"}, "gpus": {Name: "gpu"},
	}}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tfFuzzRead(t, dir, "csv", traces.Options{Mapping: m, Reorder: 8}, data) // a small window bounds the memory of huge jobs
	})
}
