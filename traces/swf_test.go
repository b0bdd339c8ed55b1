package traces_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/traces"
)

// tfWriteTemp writes data to a file in a test's temporary directory.
func tfWriteTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tfOpen opens paths as the named format.
func tfOpen(t testing.TB, format string, opts traces.Options, paths ...string) (traces.JobReader, *traces.Input) {
	t.Helper()
	in, err := traces.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	f, err := traces.Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Jobs(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, in
}

// tfReadAll reads every job, stopping at the first error.
func tfReadAll(r traces.Source) ([]*traces.Job, error) {
	var jobs []*traces.Job
	for {
		j, err := r.Next()
		if err == io.EOF {
			return jobs, nil
		}
		if err != nil {
			return jobs, err
		}
		jobs = append(jobs, j)
	}
}

// tfReadString reads the named format from text written to a file called
// "in".
func tfReadString(t testing.TB, format string, opts traces.Options, text string) ([]*traces.Job, traces.JobReader, error) {
	t.Helper()
	r, _ := tfOpen(t, format, opts, tfWriteTemp(t, "in", []byte(text)))
	jobs, err := tfReadAll(r)
	return jobs, r, err
}

// swfSample is the path of a shipped SWF log (traces/samples/swf).
func swfSample(t testing.TB, file string) string {
	t.Helper()
	return testutil.Sample(t, "swf/"+file)
}

// The counts and sums were computed with awk on the files: data lines are
// the non-';' lines; a job is usable when its run time (f4) and processors
// (f5, or f8 when f5 <= 0) are positive; procSeconds is the sum of
// processors x run time over usable jobs.
func TestSWFSamples(t *testing.T) {
	for _, c := range []struct {
		file                     string
		lines, unusable, tasks   int64
		procSeconds              int64
		maxProcs, maxNodes, tzid string
		waited, waitSum          int64 // usable jobs with a wait time (f3 >= 0), their sum
		requested, requestedSum  int64 // and with a requested time (f9 > 0)
	}{
		{"KTH-SP2-1996-2.1-cln.swf", 28476, 9, 218025, 2016591520, "100", "100", "Europe/Stockholm", 28467, 435294852, 28467, 388974180},
		{"NASA-iPSC-1993-3.1-cln.swf.gz", 18239, 173, 303638, 474238015, "128", "128", "US/Pacific", 0, 0, 0, 0},
		{"LLNL-Atlas-2006-2.1-cln.swf", 43778, 7178, 16455288, 108249345064, "9216", "1152", "US/Pacific", 0, 0, 31248, 1299948900},
	} {
		t.Run(c.file, func(t *testing.T) {
			r, _ := tfOpen(t, "swf", traces.Options{}, swfSample(t, c.file))
			var jobs, tasks, procSeconds, waited, waitSum, requested, requestedSum int64
			var last time.Duration
			for {
				j, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if j.Submit < last {
					t.Fatalf("job %s submitted at %v, before the previous at %v", j.ID, j.Submit, last)
				}
				last = j.Submit
				jobs++
				tasks += int64(j.TaskCount())
				procSeconds += int64(j.TaskCount()) * int64(j.Tasks[0].Duration/time.Second)
				if j.Waited != nil {
					waited, waitSum = waited+1, waitSum+int64(*j.Waited/time.Second)
				}
				if j.Requested > 0 {
					requested, requestedSum = requested+1, requestedSum+int64(j.Requested/time.Second)
				}
			}
			if waited != c.waited || waitSum != c.waitSum || requested != c.requested || requestedSum != c.requestedSum {
				t.Errorf("%d waits summing to %d s, %d requested times summing to %d s; want %d, %d, %d, %d (awk)",
					waited, waitSum, requested, requestedSum, c.waited, c.waitSum, c.requested, c.requestedSum)
			}
			s := r.Stats()
			unusable := r.(*traces.SWFReader).Unusable
			if s.Lines != c.lines || jobs+unusable != c.lines || unusable != c.unusable || s.Skipped != 0 {
				t.Errorf("%d lines, %d jobs, %d unusable, %d skipped; want %d lines = %d jobs + %d unusable",
					s.Lines, jobs, unusable, s.Skipped, c.lines, c.lines-c.unusable, c.unusable)
			}
			if tasks != c.tasks || procSeconds != c.procSeconds {
				t.Errorf("%d tasks, %d processor-seconds; want %d and %d (awk)", tasks, procSeconds, c.tasks, c.procSeconds)
			}
			h := s.Header
			if h["MaxProcs"] != c.maxProcs || h["MaxNodes"] != c.maxNodes || h["TimeZoneString"] != c.tzid || h["Version"] != "2.2" {
				t.Errorf("header MaxProcs %q MaxNodes %q TimeZoneString %q Version %q; want %s, %s, %s, 2.2",
					h["MaxProcs"], h["MaxNodes"], h["TimeZoneString"], h["Version"], c.maxProcs, c.maxNodes, c.tzid)
			}
			if !strings.Contains(h["Note"], "THIS IS A CLEANED VERSION OF THE LOG!\nThe filter") {
				t.Errorf("header Note %q: want the cleaning note with its continuation lines", h["Note"])
			}
		})
	}
}

// A gzip file cut short is an error naming the file, never a short trace.
func TestSWFTruncatedGzip(t *testing.T) {
	data, err := os.ReadFile(swfSample(t, "NASA-iPSC-1993-3.1-cln.swf.gz"))
	if err != nil {
		t.Fatal(err)
	}
	p := tfWriteTemp(t, "cut.swf.gz", data[:len(data)/2])
	r, _ := tfOpen(t, "swf", traces.Options{}, p)
	jobs, err := tfReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "cut.swf.gz") {
		t.Fatalf("after %d jobs: error %v; want one naming cut.swf.gz", len(jobs), err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v; want an unexpected EOF", err)
	}
}

func TestSWFJob(t *testing.T) {
	const log = `; Version: 2.2
   15   599850 192180   3477    4     -1    -1    4  53940    -1  1  12  12  -1 -1 -1 -1 -1
   16   600022  11940.5  2.5   -1     -1    -1   3   3600    2048  1  13  13  -1  2 -1 -1 -1
   17   600476 -1 215337    5     -1    512    5 -1    1024  0  -1  14  -1 -1 -1 -1 -1
   18   600477 0 10    5     -1    512    5 0    1024  0  -1  14  -1 -1 -1 -1 -1
`
	jobs, _, err := tfReadString(t, "swf", traces.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id, user, group string
		submit, run     time.Duration
		tasks           int
		mem             float64
		requested, wait time.Duration // wait -1: unknown
	}{
		{"15", "12", "", 599850 * time.Second, 3477 * time.Second, 4, 0, 53940 * time.Second, 192180 * time.Second},
		{"16", "13", "q2", 600022 * time.Second, 2500 * time.Millisecond, 3, 2, 3600 * time.Second, 11940500 * time.Millisecond},
		{"17", "", "", 600476 * time.Second, 215337 * time.Second, 5, 0.5, 0, -1},
		{"18", "", "", 600477 * time.Second, 10 * time.Second, 5, 0.5, 0, 0},
	}
	if len(jobs) != len(want) {
		t.Fatalf("%d jobs; want %d", len(jobs), len(want))
	}
	for i, w := range want {
		j := jobs[i]
		if j.ID != w.id || j.User != w.user || j.Group != w.group || j.Submit != w.submit || j.TaskCount() != w.tasks || len(j.Tasks) != 1 || j.Priority != 0 {
			t.Errorf("job %d: %+v; want %+v", i, j, w)
			continue
		}
		if wait := time.Duration(-1); j.Requested != w.requested || j.Waited != nil && *j.Waited != w.wait || (j.Waited == nil) != (w.wait < 0) {
			if j.Waited != nil {
				wait = *j.Waited
			}
			t.Errorf("job %s: requested %v, waited %v; want %v and %v (-1: unknown)", j.ID, j.Requested, wait, w.requested, w.wait)
		}
		for _, task := range j.Tasks {
			if task != (traces.Task{Resources: traces.Resources{CPUs: 1, MemMiB: w.mem}, Duration: w.run, Count: w.tasks}) {
				t.Errorf("job %s: task %+v; want %d of 1 CPU, %v MiB, %v", j.ID, task, w.tasks, w.mem, w.run)
			}
		}
	}
}

func TestSWFUnusableAndOrder(t *testing.T) {
	const log = `; Computer: test
1 10 -1 0 4 -1 -1 4 -1 -1 5 1 1 -1 -1 -1 -1 -1
2 12 -1 5 -1 -1 -1 -1 -1 -1 5 1 1 -1 -1 -1 -1 -1
3 -1 -1 5 4 -1 -1 4 -1 -1 5 1 1 -1 -1 -1 -1 -1
4 30 -1 5 2 -1 -1 2 -1 -1 1 1 1 -1 -1 -1 -1 -1
5 20 -1 5 2 -1 -1 2 -1 -1 1 1 1 -1 -1 -1 -1 -1
6 25 -1 5 -1 -1 -1 3 -1 -1 1 1 1 -1 -1 -1 -1 -1
`
	jobs, r, err := tfReadString(t, "swf", traces.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	if got := strings.Join(ids, " "); got != "5 6 4" {
		t.Errorf("jobs %s; want 5 6 4 (submit order, without the 3 unusable ones)", got)
	}
	if u := r.(*traces.SWFReader).Unusable; u != 3 || r.Stats().Lines != 6 {
		t.Errorf("%d unusable of %d lines; want 3 of 6", u, r.Stats().Lines)
	}
}

func TestSWFHeader(t *testing.T) {
	const log = `; Version: 2.2
; Information: http://www.pdc.kth.se/
;              http://www.cs.huji.ac.il/labs/parallel/workload/
; Note: first
;       and its second line
;
; Note: second
; Partition:  1  pbatch
; Partition:  2  pdebug
;   submit<=2006-12-18 00:00:00 (1434 jobs removed)
1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1
`
	_, r, err := tfReadString(t, "swf", traces.Options{}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Stats().Header
	for key, want := range map[string]string{
		"Version":     "2.2",
		"Information": "http://www.pdc.kth.se/\nhttp://www.cs.huji.ac.il/labs/parallel/workload/",
		"Note":        "first\nand its second line\nsecond",
		"Partition":   "1  pbatch\n2  pdebug\nsubmit<=2006-12-18 00:00:00 (1434 jobs removed)",
	} {
		if h[key] != want {
			t.Errorf("header %s = %q; want %q", key, h[key], want)
		}
	}
	if len(h) != 4 {
		t.Errorf("header keys %v; want Version, Information, Note, Partition", h)
	}
}

func TestSWFParseErrors(t *testing.T) {
	const good = "1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"
	for _, c := range []struct {
		name, line string
		column     int
		field, msg string
	}{
		{"short", "1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1", 0, "", "17 fields; want 18"},
		{"long", good[:len(good)-1] + " 7", 0, "", "more than 18 fields"},
		{"word", "1 0 -1 5 x -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1", 5, "allocated processors", `"x": want an integer`},
		{"fraction", "1 0 -1 5 1 -1 -1 1.5 -1 -1 1 1 1 -1 -1 -1 -1 -1", 8, "requested processors", "want an integer"},
		{"time", "1 0 -1 5s 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1", 4, "run time", "want a number of seconds"},
		{"overflow", "1 99999999999999999999 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1", 2, "submit time", "out of range"},
		{"too late", "1 9999999999 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1", 2, "submit time", "out of range"},
		{"huge job", "1 0 -1 5 1000000000 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1", 5, "allocated processors", "want at most"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := tfReadString(t, "swf", traces.Options{}, "; Version: 2.2\n"+good+c.line+"\n"+good)
			var pe *traces.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v; want a *ParseError", err)
			}
			if pe.Line != 3 || pe.Column != c.column || pe.Field != c.field || !strings.Contains(pe.Error(), c.msg) ||
				!strings.HasSuffix(pe.File, "in") {
				t.Errorf("%v (line %d column %d field %q); want line 3, column %d (%s), %q", pe, pe.Line, pe.Column, pe.Field, c.column, c.field, c.msg)
			}
			jobs, r, err := tfReadString(t, "swf", traces.Options{SkipBad: true}, "; Version: 2.2\n"+good+c.line+"\n"+good)
			if s := r.Stats(); err != nil || len(jobs) != 2 || s.Skipped != 1 || s.Lines != 3 || s.FirstBad == nil {
				t.Errorf("with SkipBad: %d jobs, %+v, error %v; want 2 jobs, 1 of 3 lines skipped", len(jobs), s, err)
			}
		})
	}
}

func TestSWFDetect(t *testing.T) {
	f, err := traces.Lookup("swf")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		head string
		want bool
	}{
		{"; Version: 2.2\n; Computer: x\n", true},
		{";\n; Computer: IBM SP2\n", true},
		{"\n1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n", true},
		{"; some comment\n1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1", true},
		{"1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1\n", false},
		{"job,submit_s,user\n", false},
		{"; Note: not a version\n", false},
		{"", false},
	} {
		if got := f.Detect([]byte(c.head)); got != c.want {
			t.Errorf("Detect(%q) = %v; want %v", c.head, got, c.want)
		}
	}
	for _, file := range []string{"KTH-SP2-1996-2.1-cln.swf", "NASA-iPSC-1993-3.1-cln.swf.gz", "LLNL-Atlas-2006-2.1-cln.swf"} {
		in, err := traces.Open(swfSample(t, file))
		if err != nil {
			t.Fatal(err)
		}
		g, err := traces.Detect(in)
		in.Close()
		if err != nil || g.Name != "swf" {
			t.Errorf("%s: detected %q, %v; want swf", file, g.Name, err)
		}
	}
}

// tfCheckFuzzErr fails unless err is nil, io.EOF or a *ParseError with a
// line number. The reorder buffer's error (jobs out of order by more than
// its window, which the fuzz targets keep small) is the other one allowed.
func tfCheckFuzzErr(t *testing.T, err error) {
	t.Helper()
	if err == nil || err == io.EOF || strings.Contains(err.Error(), "out of order by more than the reorder window") {
		return
	}
	var pe *traces.ParseError
	if !errors.As(err, &pe) || pe.Line <= 0 {
		t.Fatalf("error %v (%T); want a *ParseError with a line", err, err)
	}
}

// tfFuzzRead reads data as the format, with and without SkipBad, checking
// the errors and that SkipBad accounts for every line it drops.
// The file is written in dir (the fuzz target's: the inputs of one worker
// run one at a time).
func tfFuzzRead(t *testing.T, dir, format string, opts traces.Options, data []byte) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b || len(data) >= 4 && string(data[:4]) == "\x28\xb5\x2f\xfd" {
		t.Skip("compressed input: not the parser's business")
	}
	p := filepath.Join(dir, "fuzz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, skip := range []bool{false, true} {
		opts.SkipBad = skip
		in, err := traces.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := traces.Lookup(format)
		r, err := f.Jobs(in, opts)
		if err != nil {
			in.Close()
			tfCheckFuzzErr(t, err)
			continue
		}
		_, err = tfReadAll(r)
		in.Close()
		tfCheckFuzzErr(t, err)
		if s := r.Stats(); skip && s.Skipped > 0 && s.FirstBad == nil {
			t.Fatalf("%d lines skipped but no FirstBad", s.Skipped)
		}
	}
}

func FuzzSWF(f *testing.F) {
	for _, s := range []string{
		"; Version: 2.2\n; Computer: IBM SP2\n; MaxProcs: 100\n; Note: uses the EASY scheduler\n;\n",
		"   15   599850 192180   3477    4     -1    -1    4  53940    -1  1  12  12  -1 -1 -1 -1 -1\n" +
			"   16   600022  11940   2488   25     -1    -1   25   3600    -1  1  13  13  -1 -1 -1 -1 -1\n",
		"   17   600476 364560 215337    5     -1    -1    5 215400    -1  0  14  14  -1 -1 -1 -1 -1\n" +
			"   18   600836  32100  35373   17     -1    -1   17  36000    -1  1  15  15  -1 -1 -1 -1 -1\r\n",
		"   19   603930   8100     29    8     -1    -1    8   2400    -1  1  16  16  -1 -1 -1 -1 -1\n" +
			"   20   605396      0     16    1     -1    -1    1     60    -1  1  17  17  -1 -1 -1 -1 -1",
		"1 0.5 -1 1e3 -1 -1 2048 3 -1 -1 1 1 1 -1 2 -1 -1 -1\n",
		"; Note: x\n;   continued http://a\n1 2 3\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tfFuzzRead(t, dir, "swf", traces.Options{Reorder: 8}, data) // a small window bounds the memory of huge jobs
		tfFuzzMachines(t, filepath.Join(dir, "fuzz"))
	})
}

// tfFuzzMachines reads the machines of the SWF file at p: an error names
// the file; otherwise whole nodes that add up to MaxProcs.
func tfFuzzMachines(t *testing.T, p string) {
	tb, err := traces.OpenTable("swf", true, traces.Options{}, p)
	if err != nil {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %v; want one naming the file", err)
		}
		return
	}
	defer tb.Close()
	n := 0.0
	for {
		e, err := tb.Machines.NextMachine()
		if err == io.EOF {
			break
		}
		if err != nil || e.Machine.Capacity.CPUs < 1 || e.Machine.Capacity.CPUs != math.Trunc(e.Machine.Capacity.CPUs) {
			t.Fatalf("machine %+v, error %v; want whole CPUs", e, err)
		}
		n += e.Machine.Capacity.CPUs
	}
	if procs, err := strconv.ParseInt(tb.Stats().Header["MaxProcs"], 10, 64); err == nil && float64(procs) != n {
		t.Fatalf("%v CPUs in all; want MaxProcs %d", n, procs)
	}
}

// BenchmarkReadSWF reads the KTH and LLNL logs, decompressed first (6.7
// MB): jobs built with their tasks, through the reorder buffer. LLNL's
// jobs make 16.5 million 1-CPU tasks (790 MB of Task) a pass, which bounds
// the rate; the KTH sub-benchmark (218,025 tasks) shows the parser.
func BenchmarkReadSWF(b *testing.B) {
	kth, llnl := swfRaw(b, "KTH-SP2-1996-2.1-cln.swf"), swfRaw(b, "LLNL-Atlas-2006-2.1-cln.swf")
	b.Run("KTH+LLNL", func(b *testing.B) { benchReadSWF(b, kth, llnl) })
	b.Run("KTH", func(b *testing.B) { benchReadSWF(b, kth) })
}

// swfRaw writes a shipped SWF log decompressed in a temporary folder, so
// that a benchmark measures the parser, not the decompressor.
func swfRaw(b *testing.B, file string) string {
	in, err := traces.Open(swfSample(b, file))
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	var buf bytes.Buffer
	for {
		line, err := in.Line()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return tfWriteTemp(b, file, buf.Bytes())
}

func benchReadSWF(b *testing.B, files ...string) {
	var size int64
	for _, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range files {
			in, err := traces.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			r := traces.NewSWFReader(in, traces.Options{})
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			in.Close()
		}
	}
}

// The machine of an SWF log is its header's MaxNodes nodes of
// MaxProcs/MaxNodes processors.
func TestSWFMachines(t *testing.T) {
	read := func(t *testing.T, opts traces.Options, path string) ([]*traces.MachineEvent, error) {
		t.Helper()
		tb, err := traces.OpenTable("", true, opts, path)
		if err != nil {
			return nil, err
		}
		defer tb.Close()
		var es []*traces.MachineEvent
		for {
			e, err := tb.Machines.NextMachine()
			if err == io.EOF {
				return es, nil
			}
			if err != nil {
				return es, err
			}
			es = append(es, e)
		}
	}
	for _, c := range []struct {
		file        string
		nodes, cpus int
	}{
		{"KTH-SP2-1996-2.1-cln.swf", 100, 1},
		{"NASA-iPSC-1993-3.1-cln.swf.gz", 128, 1},
		{"LLNL-Atlas-2006-2.1-cln.swf", 1152, 8},
	} {
		es, err := read(t, traces.Options{MachineMemMiB: 512}, swfSample(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(es) != c.nodes {
			t.Fatalf("%s: %d machines; want %d", c.file, len(es), c.nodes)
		}
		for i, e := range es {
			want := traces.MachineEvent{Kind: traces.MachineAdd, Machine: traces.Machine{ID: "node-" + strconv.Itoa(i+1), Capacity: traces.Resources{CPUs: float64(c.cpus), MemMiB: 512}}}
			if e.At != 0 || e.Kind != want.Kind || e.Machine.ID != want.Machine.ID || e.Machine.Capacity != want.Machine.Capacity {
				t.Fatalf("%s: machine %d %+v; want %+v", c.file, i, e, want)
			}
		}
	}
	for _, c := range []struct {
		name, header string
		nodes, cpus  int
		err          string
	}{
		{"procs only", "; MaxProcs: 4\n", 4, 1, ""},
		{"nodes only", "; MaxNodes: 3\n", 3, 1, ""},
		{"both", "; MaxNodes: 2\n; MaxProcs: 8\n", 2, 4, ""},
		{"neither", "; Computer: x\n", 0, 0, "no MaxProcs or MaxNodes"},
		{"uneven", "; MaxNodes: 3\n; MaxProcs: 8\n", 0, 0, "not a multiple of MaxNodes 3"},
		{"word", "; MaxProcs: many\n", 0, 0, `header MaxProcs: "many"`},
		{"after the jobs", "1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n; MaxProcs: 4\n", 0, 0, "no MaxProcs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			es, err := read(t, traces.Options{}, tfWriteTemp(t, "m.swf", []byte("; Version: 2.2\n"+c.header+"1 0 -1 5 1 -1 -1 1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n")))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "m.swf") {
					t.Fatalf("error %v; want one naming m.swf and saying %q", err, c.err)
				}
				return
			}
			if err != nil || len(es) != c.nodes || es[0].Machine.Capacity != (traces.Resources{CPUs: float64(c.cpus)}) {
				t.Fatalf("%d machines, first %+v, error %v; want %d of %d CPUs", len(es), es, err, c.nodes, c.cpus)
			}
		})
	}
}
