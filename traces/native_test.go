package traces_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/traces"
)

// nativeWriter is what both apron writers do.
type nativeWriter interface {
	Write(*traces.Job) error
	Flush() error
}

var nativeFormats = []struct {
	name      string
	newWriter func(*bytes.Buffer) nativeWriter
}{
	{"apron-csv", func(b *bytes.Buffer) nativeWriter { return traces.NewNativeWriter(b) }},
	{"apron-jsonl", func(b *bytes.Buffer) nativeWriter { return traces.NewJSONLWriter(b) }},
}

// nativeOddJobs are the corners: quoting, exact times, fractions, extremes.
func nativeOddJobs() []*traces.Job {
	task := func(d time.Duration, cpus, mem, disk, gpus float64, censored bool) traces.Task {
		return traces.Task{Resources: traces.Resources{CPUs: cpus, MemMiB: mem, DiskMiB: disk, GPUs: gpus}, Duration: d, Censored: censored}
	}
	return []*traces.Job{
		{ID: "", Submit: 0, Tasks: []traces.Task{task(0, 0, 0, 0, 0, false)}},
		{ID: `a,"b"`, Submit: 1, User: " spaced ", Group: "<q&1>", Priority: -3,
			Tasks: []traces.Task{task(time.Nanosecond, 0.1, 1e-9, 1e300, 0.25, true), task(999999999, 1.0/3, 123456.789, 0, 8, false)}},
		{ID: "ünï", Submit: 1234567*time.Second + 123456789, User: "u\"", Group: "g,",
			Tasks: []traces.Task{task(time.Duration(math.MaxInt64), math.MaxFloat64, math.SmallestNonzeroFloat64, 1, 1, true)}},
		{ID: "next", Submit: 1234567*time.Second + 123456789, After: "ünï", Think: 2*time.Minute + 1, Tasks: []traces.Task{task(time.Second, 1, 1, 0, 0, false)}},
		{ID: "odd", Submit: 1234567*time.Second + 123456789, After: `a,"b"`, Tasks: []traces.Task{task(time.Second, 1, 1, 0, 0, false)}},
		{ID: "last", Submit: time.Duration(math.MaxInt64), Priority: math.MaxInt32, Tasks: []traces.Task{task(90*time.Minute, 64, 2, 3, 0, false), {Duration: time.Second, Count: 4096}}},
	}
}

func nativeGenerated(t *testing.T) []*traces.Job {
	t.Helper()
	var jobs []*traces.Job
	small := traces.GoogleScale(3)
	small.Jobs, small.MaxTasks = 200, 50
	for _, g := range []traces.Generator{traces.FacebookHadoop(1), small} {
		src, err := g.Source()
		if err != nil {
			t.Fatal(err)
		}
		got, err := tfReadAll(src)
		if err != nil {
			t.Fatal(err)
		}
		var last time.Duration
		if len(jobs) > 0 {
			last = jobs[len(jobs)-1].Submit
		}
		for _, j := range got {
			j.Submit += last // one stream, in submit order
		}
		jobs = append(jobs, got...)
	}
	return jobs
}

// Writing then reading gives back the same jobs, to the nanosecond and the
// last bit of every resource.
func TestNativeRoundTrip(t *testing.T) {
	for _, f := range nativeFormats {
		for name, jobs := range map[string][]*traces.Job{"odd": nativeOddJobs(), "facebook+google": nil, "empty": {}} {
			t.Run(f.name+"/"+name, func(t *testing.T) {
				if jobs == nil {
					jobs = nativeGenerated(t)
				}
				var buf bytes.Buffer
				w := f.newWriter(&buf)
				for _, j := range jobs {
					if err := w.Write(j); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				in, err := traces.Open(tfWriteTemp(t, "out", buf.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				if g, err := traces.Detect(in); (err != nil || g.Name != f.name) && buf.Len() > 0 {
					t.Errorf("detected %q, %v; want %s", g.Name, err, f.name)
				}
				r, _ := tfOpen(t, f.name, traces.Options{}, tfWriteTemp(t, "out", buf.Bytes()))
				got, err := tfReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(jobs) {
					t.Fatalf("read %d jobs; wrote %d", len(got), len(jobs))
				}
				for i := range jobs {
					if !reflect.DeepEqual(got[i], jobs[i]) {
						t.Fatalf("job %d read back as\n%+v\nwrote\n%+v", i, got[i], jobs[i])
					}
				}
			})
		}
	}
}

// The documented examples read as documented.
func TestNativeExamples(t *testing.T) {
	open := []*traces.Job{
		{ID: "j1", User: "alice", Group: "q1", Tasks: []traces.Task{
			{Resources: traces.Resources{CPUs: 1, MemMiB: 1024}, Duration: 31250 * time.Millisecond},
			{Resources: traces.Resources{CPUs: 1, MemMiB: 1024}, Duration: 29*time.Second + 1}}},
		{ID: "j2", Submit: 14500 * time.Millisecond, User: "bob", Priority: 2, Tasks: []traces.Task{
			{Resources: traces.Resources{CPUs: 0.5, MemMiB: 512, GPUs: 1}, Duration: 600 * time.Second, Censored: true, Count: 64}}},
	}
	closed := append(slices.Clone(open), &traces.Job{ID: "j3", Submit: 14500 * time.Millisecond, User: "bob", Priority: 2, After: "j2", Think: 2 * time.Minute,
		Tasks: []traces.Task{{Resources: traces.Resources{CPUs: 1, MemMiB: 512}, Duration: time.Minute}}})
	for _, c := range []struct {
		name, format, text string
		want               []*traces.Job
		lines              int64
	}{
		{"apron-csv", "apron-csv", traces.NativeCSVHeader + "\r\n" + `j1,0,alice,q1,0,0,1,1024,0,0,31.25,false,1,,0
j1,0,alice,q1,0,1,1,1024,0,0,29.000000001,false,1,,0

j2,14.5,bob,,2,0,0.5,512,0,1,6e2,true,64,,0
j3,14.5,bob,,2,0,1,512,0,0,60,false,1,j2,120
`, closed, 4},
		{"apron-csv without the closed-loop columns", "apron-csv", traces.NativeCSVHeaderOpen + "\r\n" + `j1,0,alice,q1,0,0,1,1024,0,0,31.25,false,1
j1,0,alice,q1,0,1,1,1024,0,0,29.000000001,false,1

j2,14.5,bob,,2,0,0.5,512,0,1,6e2,true,64
`, open, 3},
		{"apron-jsonl", "apron-jsonl", `{"id":"j1","submit_s":0,"user":"alice","group":"q1","priority":0,"tasks":[{"cpus":1,"mem_mib":1024,"disk_mib":0,"gpus":0,"duration_s":31.25,"censored":false},{"cpus":1,"mem_mib":1024,"duration_s":29.000000001}]}

{"submit_s":14.5, "id":"j2","user":"bob","priority":2,"tasks":[{"cpus":0.5,"mem_mib":512,"gpus":1,"duration_s":600,"censored":true,"count":64}]}
{"id":"j3","submit_s":14.5,"user":"bob","group":"","priority":2,"tasks":[{"cpus":1,"mem_mib":512,"disk_mib":0,"gpus":0,"duration_s":60,"censored":false}],"after":"j2","think_s":120}
`, closed, 3},
	} {
		got, r, err := tfReadString(t, c.format, traces.Options{}, c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: read %+v; want %+v", c.name, got, c.want)
		}
		if r.Stats().Lines != c.lines {
			t.Errorf("%s: %d lines; want %d", c.name, r.Stats().Lines, c.lines)
		}
	}
}

func TestNativeWriterRefuses(t *testing.T) {
	one := []traces.Task{{Duration: time.Second}}
	for _, c := range []struct {
		name string
		jobs []*traces.Job
		msg  string
	}{
		{"no tasks", []*traces.Job{{ID: "a"}}, "no tasks"},
		{"out of order", []*traces.Job{{ID: "a", Submit: 2, Tasks: one}, {ID: "b", Submit: 1, Tasks: one}}, "submit order"},
		{"negative submit", []*traces.Job{{ID: "a", Submit: -1, Tasks: one}}, "want 0 or later"},
		{"negative duration", []*traces.Job{{ID: "a", Tasks: []traces.Task{{Duration: -1}}}}, "want 0 or more"},
		{"NaN", []*traces.Job{{ID: "a", Tasks: []traces.Task{{Resources: traces.Resources{MemMiB: math.NaN()}}}}}, "finite"},
		{"infinite", []*traces.Job{{ID: "a", Tasks: []traces.Task{{Resources: traces.Resources{GPUs: math.Inf(1)}}}}}, "finite"},
		{"negative think time", []*traces.Job{{ID: "a", After: "b", Think: -1, Tasks: one}}, "think time"},
	} {
		for _, f := range nativeFormats {
			var buf bytes.Buffer
			w := f.newWriter(&buf)
			var err error
			for _, j := range c.jobs {
				if err = w.Write(j); err != nil {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%s, %s: error %v; want one saying %q", f.name, c.name, err, c.msg)
			}
		}
	}
	err := traces.NewNativeWriter(&bytes.Buffer{}).Write(&traces.Job{ID: "a\nb", Tasks: one})
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("apron-csv, newline in an id: error %v; want one about the line break", err)
	}
}

func TestNativeParseErrors(t *testing.T) {
	const h = traces.NativeCSVHeaderOpen + "\n"
	const hc = traces.NativeCSVHeader + "\n"
	const row = "j,1,u,g,0,0,1,1,0,0,5,false,1\n"
	for _, c := range []struct {
		format, text string
		line, column int
		field, msg   string
	}{
		{"apron-csv", "job,submit\n", 1, 0, "", "want the apron-csv header"},
		{"apron-csv", h + "j,1,u,g,0,0,1,1,0,0,5\n", 2, 0, "", "11 columns; want the 13"},
		{"apron-csv", h + "j,x,u,g,0,0,1,1,0,0,5,false,1\n", 2, 2, "submit_s", `"x": want a number of seconds`},
		{"apron-csv", h + "j,-1,u,g,0,0,1,1,0,0,5,false,1\n", 2, 2, "submit_s", "0 or more"},
		{"apron-csv", h + "j,1,u,g,0.5,0,1,1,0,0,5,false,1\n", 2, 5, "priority", "want an integer"},
		{"apron-csv", h + "j,1,u,g,0,0,-1,1,0,0,5,false,1\n", 2, 7, "cpus", "0 or more"},
		{"apron-csv", h + "j,1,u,g,0,0,1,1,0,NaN,5,false,1\n", 2, 10, "gpus", "finite"},
		{"apron-csv", h + "j,1,u,g,0,0,1,1,0,0,5,yes,1\n", 2, 12, "censored", "want true or false"},
		{"apron-csv", h + row + "j,1,u,g,0,2,1,1,0,0,5,false,1\n", 3, 6, "task", "want task 1 next"},
		{"apron-csv", h + "j,1,u,g,0,1,1,1,0,0,5,false,1\n", 2, 6, "task", "want task 0"},
		{"apron-csv", h + row + "j,1,v,g,0,1,1,1,0,0,5,false,1\n", 3, 3, "user", "same on every row"},
		{"apron-csv", h + row + "k,0.5,u,g,0,0,1,1,0,0,5,false,1\n", 3, 2, "submit_s", "submit order"},
		{"apron-csv", h + `"j,1,u,g,0,0,1,1,0,0,5,false` + "\n", 2, 1, "", "does not close"},
		{"apron-csv", hc + row, 2, 0, "", "13 columns; want the 15"},
		{"apron-csv", hc + "j,1,u,g,0,0,1,1,0,0,5,false,1,i,-1\n", 2, 15, "think_s", "0 or more"},
		{"apron-csv", hc + "j,1,u,g,0,0,1,1,0,0,5,false,1,i,x\n", 2, 15, "think_s", "want a number of seconds"},
		{"apron-csv", hc + "j,1,u,g,0,0,1,1,0,0,5,false,1,i,3\nj,1,u,g,0,1,1,1,0,0,5,false,1,k,3\n", 3, 14, "after", "same on every row"},
		{"apron-csv", hc + "j,1,u,g,0,0,1,1,0,0,5,false,1,i,3\nj,1,u,g,0,1,1,1,0,0,5,false,1,i,4\n", 3, 15, "think_s", "same on every row"},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[{"duration_s":1}],"after":"b","think_s":-2}` + "\n", 1, 0, "think_s", "want seconds, 0 or more"},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[{"duration_s":1}]} x` + "\n", 1, 0, "", "one JSON object per line"},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[{"duration_s":1}],"cpu":2}` + "\n", 1, 0, "", `unknown field "cpu"`},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[{"duration_s":1,"cpus":"2"}]}` + "\n", 1, 0, "tasks.cpus", "is a JSON string; want float64"},
		{"apron-jsonl", `{"submit_s":1,"tasks":[{"duration_s":1}]}` + "\n", 1, 0, "id", "no id"},
		{"apron-jsonl", `{"id":true,"submit_s":1,"tasks":[{"duration_s":1}]}` + "\n", 1, 0, "id", "want a string or a number"},
		{"apron-jsonl", `{"id":"a","tasks":[{"duration_s":1}]}` + "\n", 1, 0, "submit_s", "no submit_s"},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[]}` + "\n", 1, 0, "tasks", "no tasks"},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[{"duration_s":1},{"cpus":1}]}` + "\n", 1, 0, "tasks[1].duration_s", "no duration_s"},
		{"apron-jsonl", `{"id":"a","submit_s":1,"tasks":[{"duration_s":1,"mem_mib":-1}]}` + "\n", 1, 0, "tasks[0].mem_mib", "want 0 or more"},
		{"apron-jsonl", `{"id":"a","submit_s":2,"tasks":[{"duration_s":1}]}` + "\n" + `{"id":"b","submit_s":1,"tasks":[{"duration_s":1}]}` + "\n", 2, 0, "submit_s", "submit order"},
		{"apron-jsonl", `{"id":"a","submit_s":1e300,"tasks":[{"duration_s":1}]}` + "\n", 1, 0, "submit_s", "out of range"},
	} {
		_, _, err := tfReadString(t, c.format, traces.Options{}, c.text)
		var pe *traces.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s %q: error %v; want a *ParseError", c.format, c.text, err)
			continue
		}
		if pe.Line != c.line || pe.Column != c.column || pe.Field != c.field || !strings.Contains(pe.Error(), c.msg) {
			t.Errorf("%s %q:\n%v (line %d column %d field %q)\nwant line %d column %d field %q saying %q",
				c.format, c.text, err, pe.Line, pe.Column, pe.Field, c.line, c.column, c.field, c.msg)
		}
	}
}

// With SkipBad, a bad row is counted and reading goes on.
func TestNativeSkipBad(t *testing.T) {
	text := traces.NativeCSVHeaderOpen + "\na,1,u,g,0,0,1,1,0,0,5,false,1\nb,2,u,g,0,0,1,1,0,0,oops,false,1\nc,3,u,g,0,0,1,1,0,0,5,false,1\n"
	jobs, r, err := tfReadString(t, "apron-csv", traces.Options{SkipBad: true}, text)
	if s := r.Stats(); err != nil || len(jobs) != 2 || s.Skipped != 1 || s.Lines != 3 || s.FirstBad == nil {
		t.Errorf("%d jobs, %+v, %v; want jobs a and c, 1 of 3 lines skipped", len(jobs), s, err)
	}
}

func TestNativeDetect(t *testing.T) {
	for _, c := range []struct {
		head, want string
	}{
		{traces.NativeCSVHeader + "\n", "apron-csv"},
		{"\xef\xbb\xbf" + traces.NativeCSVHeader + "\r\nj,0", "apron-csv"},
		{traces.NativeCSVHeader + ",extra\n", ""},
		{traces.NativeCSVHeaderOpen + "\n", "apron-csv"},
		{traces.NativeCSVHeaderOpen + ",after\n", ""},
		{`{"id":"j1","submit_s":0,"tasks":[{"duration_s":1}]}` + "\n", "apron-jsonl"},
		{` {"user":"x","submit_s":0,"tasks":[],"id":3`, "apron-jsonl"},
		{`{"id":"j1","tasks":[{"duration_s":1}]}`, ""},
		{`[1,2]`, ""},
	} {
		for _, name := range []string{"apron-csv", "apron-jsonl"} {
			f, err := traces.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Detect([]byte(c.head)); got != (name == c.want) {
				t.Errorf("%s Detect(%q) = %v; want %v", name, c.head, got, name == c.want)
			}
		}
	}
}

// Several part files read as one table: later parts may repeat the header.
func TestNativeParts(t *testing.T) {
	h := traces.NativeCSVHeaderOpen + "\n"
	a := tfWriteTemp(t, "a", []byte(h+"a,1,u,g,0,0,1,1,0,0,5,false,1\n"))
	b := tfWriteTemp(t, "b", []byte(h+"a,1,u,g,0,1,1,1,0,0,5,false,1\nb,2,u,g,0,0,1,1,0,0,5,false,1\n"))
	r, _ := tfOpen(t, "apron-csv", traces.Options{}, a, b)
	jobs, err := tfReadAll(r)
	if err != nil || len(jobs) != 2 || len(jobs[0].Tasks) != 2 {
		t.Fatalf("%d jobs, %v; want job a of 2 tasks across the parts, then b", len(jobs), err)
	}
}

func FuzzNativeCSV(f *testing.F) {
	h := traces.NativeCSVHeader + "\n"
	for _, s := range []string{
		h + "j1,0,alice,q1,0,0,1,1024,0,0,31.25,false,1,,0\nj1,0,alice,q1,0,1,1,1024,0,0,29.000000001,false,1,,0\n",
		h + `"a,""b""",1.5,u,"g",-2,0,0.5,1e3,0,1,600,true,3,,0` + "\n",
		h + "j,-0.5,u,g,0,0,1,1,0,0,.5,false,1,,0\r\n\r\nk,1,,,1,0,0,0,0,0,0,true,2097153,j,1\n",
		h,
		traces.NativeCSVHeaderOpen + "\nj1,0,alice,q1,0,0,1,1024,0,0,31.25,false,1\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tfFuzzRead(t, dir, "apron-csv", traces.Options{}, data)
	})
}

func FuzzNativeJSONL(f *testing.F) {
	for _, s := range []string{
		`{"id":"j1","submit_s":0,"user":"alice","group":"q1","priority":0,"tasks":[{"cpus":1,"mem_mib":1024,"disk_mib":0,"gpus":0,"duration_s":31.25,"censored":false}]}` + "\n",
		`{"id":7,"submit_s":1.000000001,"tasks":[{"duration_s":1e3},{"duration_s":"x"}]}` + "\n" + `{"id":"b","submit_s":0,"tasks":null}`,
		`{"id":"b","submit_s":2,"tasks":[{"duration_s":1}],"after":"a","think_s":120}` + "\n",
		"\n\n{}\n[]\nnull\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tfFuzzRead(t, dir, "apron-jsonl", traces.Options{}, data)
	})
}
