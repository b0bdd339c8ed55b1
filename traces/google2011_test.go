package traces_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/traces"
)

// googleRead reads every job of the files with the named format.
func googleRead(t testing.TB, format string, opts traces.Options, paths ...string) ([]*traces.Job, traces.Stats, error) {
	t.Helper()
	f, err := traces.Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	in, err := traces.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := f.Jobs(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []*traces.Job
	for {
		j, err := r.Next()
		if err == io.EOF {
			return jobs, r.Stats(), nil
		}
		if err != nil {
			return jobs, r.Stats(), err
		}
		jobs = append(jobs, j)
	}
}

// googleMachines reads every machine event of the files.
func googleMachines(t testing.TB, format string, opts traces.Options, paths ...string) ([]*traces.MachineEvent, error) {
	t.Helper()
	f, err := traces.Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	in, err := traces.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := f.Machines(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*traces.MachineEvent
	for {
		ev, err := r.NextMachine()
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func googleWrite(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// googleWant is a job in googleBrief: its tasks' durations in seconds, a trailing
// "c" for censored.
type googleWant struct {
	id     string
	submit float64 // s
	tasks  string  // "10 20c"
}

func (w googleWant) String() string { return fmt.Sprintf("%s@%gs[%s]", w.id, w.submit, w.tasks) }

func googleBrief(jobs []*traces.Job) []googleWant {
	var out []googleWant
	for _, j := range jobs {
		var ts []string
		for _, t := range j.Tasks {
			s := strconv.FormatFloat(t.Duration.Seconds(), 'g', -1, 64)
			if t.Censored {
				s += "c"
			}
			ts = append(ts, s)
		}
		out = append(out, googleWant{j.ID, j.Submit.Seconds(), strings.Join(ts, " ")})
	}
	return out
}

func googleCheck(t *testing.T, got []*traces.Job, want []googleWant) {
	t.Helper()
	g := googleBrief(got)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("jobs\n got %v\nwant %v", g, want)
	}
}

// g11 writes a task_events line: time in s after the window start, event
// type, fixed user, class 1, priority 5 and requests.
func g11(sec float64, job, index, typ int) string {
	return fmt.Sprintf("%d,,%d,%d,,%d,user%d,1,5,0.125,0.0625,0.001,0\n",
		int64(600e6+sec*1e6), job, index, typ, job%3)
}

const (
	g11Submit = iota
	g11Schedule
	g11Evict
	g11Fail
	g11Finish
	g11Kill
	g11Lost
	g11UpdatePending
	g11UpdateRunning
)

func TestGoogle2011Semantics(t *testing.T) {
	cases := []struct {
		name  string
		lines string
		opts  traces.Options
		want  []googleWant
	}{
		{"normal finish", g11(0, 1, 0, g11Submit) + g11(0, 1, 1, g11Submit) + g11(1, 1, 0, g11Schedule) + g11(2, 1, 1, g11Schedule) +
			g11(11, 1, 0, g11Finish) + g11(22, 1, 1, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "10 20"}}},
		{"evict and resubmit", g11(0, 1, 0, g11Submit) + g11(1, 1, 0, g11Schedule) + g11(5, 1, 0, g11Evict) +
			g11(5, 1, 0, g11Submit) + g11(7, 1, 0, g11Schedule) + g11(9, 1, 0, g11Fail) +
			g11(10, 1, 0, g11Submit) + g11(10, 1, 0, g11Schedule) + g11(20, 1, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "4"}, {"1-0-r1", 5, "2"}, {"1-0-r2", 10, "10"}}},
		{"evicted task of a job still running", g11(0, 1, 0, g11Submit) + g11(0, 1, 1, g11Submit) + g11(1, 1, 0, g11Schedule) +
			g11(1, 1, 1, g11Schedule) + g11(3, 1, 1, g11Evict) + g11(4, 1, 1, g11Submit) + g11(5, 1, 1, g11Schedule) +
			g11(6, 1, 1, g11Finish) + g11(30, 1, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "29 2"}, {"1-1-r1", 4, "1"}}},
		{"censored at the end", g11(0, 1, 0, g11Submit) + g11(2, 1, 0, g11Schedule) + g11(3, 2, 0, g11Submit) +
			g11(50, 3, 0, g11Submit) + g11(51, 3, 0, g11Schedule) + g11(52, 3, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "50c"}, {"2", 3, "0c"}, {"3", 50, "1"}}},
		{"scheduled twice keeps the first", g11(0, 1, 0, g11Submit) + g11(1, 1, 0, g11Schedule) + g11(3, 1, 0, g11Schedule) +
			g11(11, 1, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "10"}}},
		{"out-of-order completion", g11(0, 1, 0, g11Submit) + g11(0, 1, 0, g11Schedule) + g11(1, 2, 0, g11Submit) +
			g11(1, 2, 0, g11Schedule) + g11(2, 3, 0, g11Submit) + g11(2, 3, 0, g11Schedule) + g11(3, 3, 0, g11Finish) +
			g11(4, 2, 0, g11Finish) + g11(100, 1, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "100"}, {"2", 1, "3"}, {"3", 2, "1"}}},
		{"a full window cuts the earliest job off", g11(0, 1, 0, g11Submit) + g11(0, 1, 0, g11Schedule) + g11(1, 2, 0, g11Submit) +
			g11(1, 2, 0, g11Schedule) + g11(2, 3, 0, g11Submit) + g11(2, 3, 0, g11Schedule) + g11(3, 3, 0, g11Finish) +
			g11(4, 2, 0, g11Finish) + g11(100, 1, 0, g11Finish), traces.Options{Reorder: 2},
			[]googleWant{{"1", 0, "4c"}, {"2", 1, "3"}, {"3", 2, "1"}}},
		{"a task after its job ended is a new batch", g11(0, 1, 0, g11Submit) + g11(0, 1, 0, g11Schedule) + g11(1, 1, 0, g11Finish) +
			g11(2, 1, 1, g11Submit) + g11(3, 1, 1, g11Schedule) + g11(4, 1, 1, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "1"}, {"1-b2", 2, "1"}}},
		{"killed while pending is left out", g11(0, 1, 0, g11Submit) + g11(0, 1, 1, g11Submit) + g11(1, 1, 1, g11Kill) +
			g11(1, 1, 0, g11Schedule) + g11(2, 1, 0, g11Finish) + g11(3, 2, 0, g11Submit) + g11(4, 2, 0, g11Kill), traces.Options{},
			[]googleWant{{"1", 0, "1"}}},
		{"resubmitted after a large job ended", google2011Big(20) + g11(30, 1, 17, g11Submit) + g11(31, 1, 17, g11Schedule) +
			g11(33, 1, 17, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, strings.Repeat("10 ", 19) + "10"}, {"1-17-r1", 30, "2"}}},
		{"submit of a running task ends it", g11(0, 1, 0, g11Submit) + g11(1, 1, 0, g11Schedule) + g11(6, 1, 0, g11Submit) +
			g11(7, 1, 0, g11Schedule) + g11(8, 1, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "5"}, {"1-0-r1", 6, "1"}}},
		{"schedule without submit", g11(0, 1, 0, g11Schedule) + g11(5, 1, 0, g11Finish), traces.Options{},
			[]googleWant{{"1", 0, "5"}}},
		{"before and after the trace", "0,,1,0,,0,u,1,5,0.1,0.1,,\n0,,1,0,,1,u,1,5,0.1,0.1,,\n" + g11(10, 1, 0, g11Finish) +
			"0,,2,0,,0,u,1,5,0.1,0.1,,\n" + g11(5, 2, 0, g11Schedule) + g11(20, 3, 0, g11Submit) +
			"9223372036854775807,,2,0,,4,u,1,5,0.1,0.1,,\n9223372036854775807,,4,0,,0,u,1,5,0.1,0.1,,\n", traces.Options{},
			[]googleWant{{"1", 0, "10c"}, {"2", 0, "15c"}, {"3", 20, "0c"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := googleWrite(t, t.TempDir(), "task_events.csv", c.lines)
			jobs, _, err := googleRead(t, "google2011", c.opts, p)
			if err != nil {
				t.Fatal(err)
			}
			googleCheck(t, jobs, c.want)
		})
	}
}

// google2011Big is job 1 of n tasks, each running from 0 s to 10 s.
func google2011Big(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(g11(0, 1, i, g11Submit) + g11(0, 1, i, g11Schedule))
	}
	for i := range n {
		b.WriteString(g11(10, 1, i, g11Finish))
	}
	return b.String()
}

func google2011Parts(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("testdata/google2011/task_events/part-*")
	if err != nil || len(paths) != 3 {
		t.Fatalf("fixtures: %v %v", paths, err)
	}
	return paths
}

func TestGoogle2011Fixture(t *testing.T) {
	paths := google2011Parts(t)
	if !strings.HasSuffix(paths[1], ".gz") {
		t.Fatalf("part 1 should be gzipped: %s", paths[1])
	}
	jobs, stats, err := googleRead(t, "google2011", traces.Options{}, paths...)
	if err != nil {
		t.Fatal(err)
	}
	googleCheck(t, jobs, []googleWant{
		{"100", 0, "100c"}, {"200", 10, "10 20"}, {"500", 15, "284"}, {"300", 20, "4"},
		{"300-0-r1", 25, "10"}, {"400", 30, "10"}, {"600", 200, "149c"}, {"700", 210, "9"},
		{"800", 230, "10"}, {"900", 350, "0c"},
	})
	if stats.Lines != 36 || stats.Skipped != 0 || stats.Units == "" {
		t.Errorf("stats %+v; want 36 lines, none skipped, units", stats)
	}
	const u1 = "70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo="
	j := jobs[0]
	if j.User != u1 || j.Group != "class3" || j.Priority != 9 {
		t.Errorf("job 100: user %q group %q priority %d", j.User, j.Group, j.Priority)
	}
	// 1/16 of 32 cores, 1/32 of 64 GiB, 1e-4 of 1 TiB
	if r := j.Tasks[0].Resources; r != (traces.Resources{CPUs: 2, MemMiB: 2048, DiskMiB: 0.0001 * (1 << 20)}) {
		t.Errorf("job 100 resources %+v", r)
	}
	// UPDATE_PENDING sets the CPU request, UPDATE_RUNNING only fills in.
	if r := jobs[8].Tasks[0].Resources; r.CPUs != 8 || r.MemMiB != 0.1*65536 {
		t.Errorf("job 800 resources %+v; want 8 CPUs, %g MiB", r, 0.1*65536)
	}
}

func TestGoogle2011UnitScaling(t *testing.T) {
	p := googleWrite(t, t.TempDir(), "t.csv", "600000000,,1,0,,0,u,1,5,0.5,0.25,0.5,0\n600000000,,1,0,,1,u,1,5,,,,\n601000000,,1,0,,4,u,1,5,,,,\n")
	for _, c := range []struct {
		opts traces.Options
		want traces.Resources
	}{
		{traces.Options{}, traces.Resources{CPUs: 16, MemMiB: 16384, DiskMiB: 1 << 19}},
		{traces.Options{MachineCPUs: 48, MachineMemMiB: 196608}, traces.Resources{CPUs: 24, MemMiB: 49152, DiskMiB: 1 << 19}},
	} {
		jobs, _, err := googleRead(t, "google2011", c.opts, p)
		if err != nil || len(jobs) != 1 {
			t.Fatal(jobs, err)
		}
		if got := jobs[0].Tasks[0].Resources; got != c.want {
			t.Errorf("options %+v: %+v; want %+v", c.opts, got, c.want)
		}
	}
}

func TestGoogle2011TruncatedGzip(t *testing.T) {
	paths := google2011Parts(t)
	data, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := googleWrite(t, dir, "part-00001-of-00003.csv.gz", string(data[:len(data)-12]))
	jobs, _, err := googleRead(t, "google2011", traces.Options{SkipBad: true}, paths[0], cut, paths[2])
	if err == nil {
		t.Fatalf("a truncated gzip part read as %d jobs without error", len(jobs))
	}
	if !strings.Contains(err.Error(), cut) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestGoogle2011BadLines(t *testing.T) {
	good := g11(0, 1, 0, g11Submit)
	cases := []struct {
		line  string
		col   int
		field string
	}{
		{"1,2,3\n", 0, ""},
		{"600000000,5,0,HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=,0.5,0.2\n", 0, ""},
		{"x,,1,0,,0,u,1,5,,,,\n", 1, "time"},
		{"-5,,1,0,,0,u,1,5,,,,\n", 1, "time"},
		{"600000000,z,1,0,,0,u,1,5,,,,\n", 2, "missing info"},
		{"600000000,,,0,,0,u,1,5,,,,\n", 3, "job ID"},
		{"600000000,,1,0.5,,0,u,1,5,,,,\n", 4, "task index"},
		{"600000000,,1,0,,9,u,1,5,,,,\n", 6, "event type"},
		{"600000000,,1,0,,0,u,c,5,,,,\n", 8, "scheduling class"},
		{"600000000,,1,0,,0,u,1,,,,,\n", 9, "priority"},
		{"600000000,,1,0,,0,u,1,5,abc,,,\n", 10, "CPU request"},
		{"600000000,,1,0,,0,u,1,5,,-0.5,,\n", 11, "memory request"},
		{"600000000,,1,0,,0,u,1,5,,,NaN,\n", 12, "disk space request"},
		{"600000000,,1,0,,0,u,1,5,,,,2\n", 13, "different machines restriction"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		p := googleWrite(t, dir, "t.csv", good+c.line+good)
		_, _, err := googleRead(t, "google2011", traces.Options{}, p)
		var pe *traces.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v; want a ParseError", c.line, err)
			continue
		}
		if pe.File != p || pe.Line != 2 || pe.Column != c.col || pe.Field != c.field {
			t.Errorf("%q: %s:%d column %d %q; want line 2 column %d %q", c.line, pe.File, pe.Line, pe.Column, pe.Field, c.col, c.field)
		}
		jobs, stats, err := googleRead(t, "google2011", traces.Options{SkipBad: true}, p)
		if err != nil || stats.Skipped != 1 || stats.FirstBad == nil || len(jobs) != 1 {
			t.Errorf("%q with SkipBad: %d jobs, %+v, %v", c.line, len(jobs), stats, err)
		}
	}
	// A job submitted before one already emitted: events out of time order.
	p := googleWrite(t, t.TempDir(), "t.csv", g11(10, 1, 0, g11Submit)+g11(10, 1, 0, g11Schedule)+g11(11, 1, 0, g11Finish)+
		g11(12, 3, 0, g11Submit)+g11(1, 2, 0, g11Submit))
	_, _, err := googleRead(t, "google2011", traces.Options{}, p)
	var pe *traces.ParseError
	if !errors.As(err, &pe) || pe.Line != 5 || pe.Field != "time" {
		t.Errorf("out of order: %v; want a ParseError on line 5, time", err)
	}
}

func TestGoogle2011Machines(t *testing.T) {
	evs, err := googleMachines(t, "google2011", traces.Options{}, "testdata/google2011/machine_events/part-00000-of-00001.csv")
	if err != nil {
		t.Fatal(err)
	}
	const disk = 1 << 20
	want := []struct {
		at   time.Duration
		kind traces.MachineEventKind
		id   string
		cap  traces.Resources
	}{
		{0, traces.MachineAdd, "5", traces.Resources{CPUs: 16, MemMiB: 0.2493 * 65536, DiskMiB: disk}},
		{0, traces.MachineAdd, "6", traces.Resources{CPUs: 32, MemMiB: 65536, DiskMiB: disk}},
		{235 * time.Second, traces.MachineRemove, "5", traces.Resources{CPUs: 16, MemMiB: 0.2493 * 65536, DiskMiB: disk}},
		{600 * time.Second, traces.MachineAdd, "5", traces.Resources{CPUs: 16, MemMiB: 0.2493 * 65536, DiskMiB: disk}},
		{700 * time.Second, traces.MachineUpdate, "6", traces.Resources{CPUs: 16, MemMiB: 32768, DiskMiB: disk}},
		{800 * time.Second, traces.MachineAdd, "7", traces.Resources{DiskMiB: disk}},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events; want %d", len(evs), len(want))
	}
	for i, w := range want {
		e := evs[i]
		if e.At != w.at || e.Kind != w.kind || e.Machine.ID != w.id || e.Machine.Capacity != w.cap {
			t.Errorf("event %d: %v %v %s %+v; want %v %v %s %+v", i, e.At, e.Kind, e.Machine.ID, e.Machine.Capacity, w.at, w.kind, w.id, w.cap)
		}
	}
	if evs[0].Machine.Attributes["platform"] != "HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=" || evs[5].Machine.Attributes != nil {
		t.Errorf("attributes %v, %v", evs[0].Machine.Attributes, evs[5].Machine.Attributes)
	}
	p := googleWrite(t, t.TempDir(), "m.csv", "0,5,3,p,0.5,0.5\n")
	_, err = googleMachines(t, "google2011", traces.Options{}, p)
	var pe *traces.ParseError
	if !errors.As(err, &pe) || pe.Column != 3 || pe.Field != "event type" {
		t.Errorf("bad event type: %v", err)
	}
}

func TestGoogle2011Detect(t *testing.T) {
	f, err := traces.Lookup("google2011")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		head string
		want bool
	}{
		{"task_events", "0,2,3418309,0,4155527081,0,70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo=,3,9,,,,\n0,,3418314,0,3938719206,0,70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo=,3,9,0.125,0.07446,0.0004244,0\n", true},
		{"machine_events", "0,5,0,HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=,0.5,0.2493\n", true},
		{"job_events", "0,,3418309,0,70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo=,3,IHgtoxEBuUTHNbUeVs4hzptMY4n8rZKLbZg+Jh5fNG4=,wAmgn2H74cdoMuSFwJF3NaUEaudVBTZ0/HaNZBwIpEQ=\n", false},
		{"task_usage", "600000000,900000000,3418309,0,4155527081,0.001562,0.06787,0.07568,0.001156,0.001503,0.06787,2.861e-06,0.0001869,0.03967,0.0003567,2.445,0.007243,0,1,0\n", false},
		{"task_constraints", "0,3418309,0,1,IHgtoxEBuUTHNbUeVs4hzptMY4n8rZKLbZg+Jh5fNG4=,2\n", false},
		{"machine_attributes", "0,5,GtRfFpRwmZWxcb1OwTljpRJJhkLC8YSJEhQShJ0sF9Y=,1,0\n", false},
		{"task_events with a bad event type", "0,,1,0,,12,u,3,9,,,,\n", false},
		{"13 words of another table", "a,b,c,d,e,f,g,h,i,j,k,l,m\n", false},
		{"swf", "; Version: 2.2\n1 0 10 100 4 -1 -1 4 -1 -1 1 1 1 -1 1 -1 -1 -1\n", false},
		{"json", `{"time":"0","type":"0","collection_id":"1"}` + "\n", false},
		{"empty", "", false},
	} {
		if got := f.Detect([]byte(c.head)); got != c.want {
			t.Errorf("%s: detected %v; want %v", c.name, got, c.want)
		}
	}
	for _, paths := range [][]string{google2011Parts(t), {"testdata/google2011/machine_events/part-00000-of-00001.csv"}} {
		googleDetect(t, "google2011", paths...)
	}
}

// googleDetect checks that the whole registry takes the files for format.
func googleDetect(t *testing.T, format string, paths ...string) {
	t.Helper()
	in, err := traces.Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if got, err := traces.Detect(in); err != nil || got.Name != format {
		t.Errorf("Detect %s: %s, %v; want %s", paths[0], got.Name, err, format)
	}
}

// googleGen writes a deterministic task_events table until enough:
// jobs of 1-8 tasks arriving 0.2 s apart, each task SUBMITted, SCHEDULEd a
// few seconds later and FINISHed (2% EVICTed and submitted again) after up
// to an hour; times never go back. A first job, when longJob, never ends.
func googleGen(t testing.TB, path string, enough func(bytes int64, rows int) bool, longJob bool) (rows int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	users := make([][]byte, 200)
	for i := range users {
		var b [33]byte
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		users[i] = []byte(googleB64(b[:]))
	}
	var line []byte
	var written int64
	emit := func(e googleGenEvent) {
		line = strconv.AppendInt(line[:0], e.at, 10)
		line = append(line, ',', ',')
		line = strconv.AppendInt(line, e.job, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(e.index), 10)
		line = append(line, ',')
		if e.typ != g11Submit {
			line = strconv.AppendInt(line, 1000000+e.job%12000, 10)
		}
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(e.typ), 10)
		line = append(line, ',')
		line = append(line, users[e.job%int64(len(users))]...)
		line = append(line, ',')
		line = strconv.AppendInt(line, e.job%4, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, e.job%12, 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, e.cpu, 'g', 4, 64)
		line = append(line, ',')
		line = strconv.AppendFloat(line, e.cpu/2, 'g', 4, 64)
		line = append(line, ',')
		line = strconv.AppendFloat(line, e.cpu/100, 'g', 4, 64)
		line = append(line, ",0\n"...)
		w.Write(line)
		written += int64(len(line))
		rows++
	}
	var later googleGenHeap
	at := int64(600e6)
	job := int64(6000000000)
	if longJob {
		emit(googleGenEvent{at: at, job: 1, typ: g11Submit, cpu: 0.5})
		emit(googleGenEvent{at: at, job: 1, typ: g11Schedule, cpu: 0.5})
	}
	for !enough(written, rows) {
		at += int64(rng.ExpFloat64() * 200_000)
		for len(later) > 0 && later[0].at <= at {
			e := heap.Pop(&later).(googleGenEvent)
			emit(e)
			switch {
			case e.typ == g11Schedule && rng.IntN(50) == 0:
				heap.Push(&later, googleGenEvent{at: e.at + 1 + rng.Int64N(600e6), job: e.job, index: e.index, typ: g11Evict, cpu: e.cpu})
			case e.typ == g11Schedule:
				heap.Push(&later, googleGenEvent{at: e.at + 1 + int64(math.Min(rng.ExpFloat64()*300e6, 3600e6)), job: e.job, index: e.index, typ: g11Finish, cpu: e.cpu})
			case e.typ == g11Evict:
				heap.Push(&later, googleGenEvent{at: e.at, job: e.job, index: e.index, typ: g11Submit, cpu: e.cpu})
			case e.typ == g11Submit:
				heap.Push(&later, googleGenEvent{at: e.at + rng.Int64N(5e6), job: e.job, index: e.index, typ: g11Schedule, cpu: e.cpu})
			}
		}
		job++
		cpu := float64(1+rng.IntN(64)) / 256
		for i := range 1 + rng.IntN(8) {
			e := googleGenEvent{at: at, job: job, index: i, typ: g11Submit, cpu: cpu}
			emit(e)
			heap.Push(&later, googleGenEvent{at: at + rng.Int64N(5e6), job: job, index: i, typ: g11Schedule, cpu: cpu})
		}
	}
	for len(later) > 0 {
		e := heap.Pop(&later).(googleGenEvent)
		if e.typ == g11Submit || e.typ == g11Schedule { // end the table on finished tasks
			continue
		}
		emit(e)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func googleB64(b []byte) string {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var s strings.Builder
	for i := 0; i+2 < len(b); i += 3 {
		v := uint(b[i])<<16 | uint(b[i+1])<<8 | uint(b[i+2])
		s.WriteByte(abc[v>>18&63])
		s.WriteByte(abc[v>>12&63])
		s.WriteByte(abc[v>>6&63])
		s.WriteByte(abc[v&63])
	}
	return s.String()
}

type googleGenEvent struct {
	at    int64
	job   int64
	index int
	typ   int
	cpu   float64
}

type googleGenHeap []googleGenEvent

func (h googleGenHeap) Len() int           { return len(h) }
func (h googleGenHeap) Less(a, b int) bool { return h[a].at < h[b].at }
func (h googleGenHeap) Swap(a, b int)      { h[a], h[b] = h[b], h[a] }
func (h *googleGenHeap) Push(x any)        { *h = append(*h, x.(googleGenEvent)) }
func (h *googleGenHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// googleDrain reads every job of a table and checks the order, returning
// the number of jobs and of tasks; every 50000 jobs it calls sample.
func googleDrain(t testing.TB, path string, opts traces.Options, sample func()) (jobs, tasks int) {
	f, _ := traces.Lookup("google2011")
	in, err := traces.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := f.Jobs(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Duration
	for {
		j, err := r.Next()
		if err == io.EOF {
			return jobs, tasks
		}
		if err != nil {
			t.Fatal(err)
		}
		if j.Submit < last {
			t.Fatalf("job %s at %v after one at %v", j.ID, j.Submit, last)
		}
		last = j.Submit
		jobs++
		tasks += len(j.Tasks)
		if sample != nil && jobs%50000 == 0 {
			sample()
		}
	}
}

// TestGoogle2011BoundedMemory reads 2 million rows, with a job running
// throughout that keeps the reorder window full (100 000 finished jobs
// held), and checks the heap in use stays under 200 MB.
func TestGoogle2011BoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads 200 MB")
	}
	p := filepath.Join(t.TempDir(), "task_events.csv")
	rows := googleGen(t, p, func(_ int64, rows int) bool { return rows >= 2_000_000 }, true)
	runtime.GC()
	var peak uint64
	sample := func() { // the heap in use after a GC: what the reader holds
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	start := time.Now()
	jobs, tasks := googleDrain(t, p, traces.Options{}, sample)
	sample()
	t.Logf("%d rows, %d jobs, %d tasks in %v; peak HeapInuse %.1f MB", rows, jobs, tasks, time.Since(start), float64(peak)/1e6)
	if peak > 200e6 {
		t.Errorf("peak HeapInuse %.1f MB; want under 200 MB", float64(peak)/1e6)
	}
}

func BenchmarkReadGoogle2011TaskEvents(b *testing.B) {
	p := filepath.Join(b.TempDir(), "task_events.csv")
	rows := googleGen(b, p, func(n int64, _ int) bool { return n >= 50<<20 }, false)
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		googleDrain(b, p, traces.Options{}, nil)
	}
	b.ReportMetric(float64(rows), "rows")
}

func FuzzGoogle2011TaskEvents(f *testing.F) {
	for _, p := range []string{"testdata/google2011/task_events/part-00000-of-00003.csv", "testdata/google2011/task_events/part-00002-of-00003.csv"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			f.Add(l)
		}
	}
	gz, err := os.ReadFile("testdata/google2011/task_events/part-00001-of-00003.csv.gz")
	if err != nil {
		f.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		f.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "task_events.csv")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opts := range []traces.Options{{}, {SkipBad: true, Reorder: 2}} {
			jobs, _, err := googleRead(t, "google2011", opts, p)
			googleCheckFuzz(t, jobs, err)
		}
		f, _ := traces.Lookup("google2011")
		f.Detect(data)
	})
}

// googleCheckFuzz checks what a reader made of any input: errors are
// ParseErrors with a line, jobs come in g11Submit order with tasks of
// non-negative durations.
func googleCheckFuzz(t *testing.T, jobs []*traces.Job, err error) {
	t.Helper()
	if err != nil {
		var pe *traces.ParseError
		if !errors.As(err, &pe) || pe.Line <= 0 {
			t.Fatalf("error %v (%T); want a ParseError with a line", err, err)
		}
	}
	var last time.Duration
	for _, j := range jobs {
		if j.Submit < last || j.Submit < 0 {
			t.Fatalf("job %s submitted at %v after %v", j.ID, j.Submit, last)
		}
		last = j.Submit
		if len(j.Tasks) == 0 {
			t.Fatalf("job %s without tasks", j.ID)
		}
		for _, task := range j.Tasks {
			if task.Duration < 0 || task.Resources.CPUs < 0 || task.Resources.MemMiB < 0 || math.IsNaN(task.Resources.CPUs) {
				t.Fatalf("job %s task %+v", j.ID, task)
			}
		}
	}
}
