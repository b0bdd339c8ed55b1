package traces_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/apronlab/apron/traces"
)

const google2019Dir = "testdata/google2019/"

func google2019Parts() []string {
	return []string{
		google2019Dir + "collection_events-000000000000.json",
		google2019Dir + "instance_events-000000000000.json",
		google2019Dir + "instance_events-000000000001.json.gz",
	}
}

// g19 writes an instance_events line as BigQuery exports it: INT64 as
// strings. Time in s.
func g19(sec float64, coll, index, typ int) string {
	return fmt.Sprintf(`{"time":"%d","type":"%d","collection_id":"%d","scheduling_class":"1","collection_type":"0","priority":"200","instance_index":"%d","machine_id":"0","resource_request":{"cpus":0.25,"memory":0.125}}`+"\n",
		int64(sec*1e6), typ, coll, index)
}

// 2019 event types.
const (
	g19Submit = iota
	g19Queue
	g19Enable
	g19Schedule
	g19Evict
	g19Fail
	g19Finish
	g19Kill
	g19Lost
	g19UpdatePending
	g19UpdateRunning
)

func TestGoogle2019Fixture(t *testing.T) {
	jobs, stats, err := googleRead(t, "google2019", traces.Options{}, google2019Parts()...)
	if err != nil {
		t.Fatal(err)
	}
	googleCheck(t, jobs, []googleWant{
		{"1001", 0, "5c 2"}, {"1002", 1, "18"}, {"1001-1-r1", 3, "5"}, {"1004", 6, "23c"},
		{"1005", 10, "1"}, {"1006", 30, "0c"},
	})
	if stats.Lines != 26 || stats.Skipped != 0 {
		t.Errorf("stats %+v; want 26 lines, none skipped", stats)
	}
	want := []struct {
		user, group string
		prio        int
		res         traces.Resources
	}{
		{"user_a", "class2", 200, traces.Resources{CPUs: 8, MemMiB: 8192}},
		{"user_b", "class1", 103, traces.Resources{CPUs: 16, MemMiB: 16384}},
		{"user_a", "class2", 200, traces.Resources{CPUs: 8, MemMiB: 8192}},
		{"", "class0", 25, traces.Resources{CPUs: 2, MemMiB: 4096}},
		{"user_c", "class0", 0, traces.Resources{CPUs: 4, MemMiB: 8192}},
		{"", "class1", 100, traces.Resources{CPUs: 1, MemMiB: 2048}},
	}
	for i, w := range want {
		j := jobs[i]
		if j.User != w.user || j.Group != w.group || j.Priority != w.prio || j.Tasks[0].Resources != w.res {
			t.Errorf("job %s: %q %q %d %+v; want %+v", j.ID, j.User, j.Group, j.Priority, j.Tasks[0].Resources, w)
		}
	}
	// Scaled by the options.
	jobs, _, err = googleRead(t, "google2019", traces.Options{MachineCPUs: 100, MachineMemMiB: 1000}, google2019Parts()...)
	if err != nil {
		t.Fatal(err)
	}
	if r := jobs[1].Tasks[0].Resources; r != (traces.Resources{CPUs: 50, MemMiB: 250}) {
		t.Errorf("scaled resources %+v; want 50 CPUs, 250 MiB", r)
	}
}

func TestGoogle2019Semantics(t *testing.T) {
	cases := []struct {
		name  string
		lines string
		opts  traces.Options
		want  []googleWant
	}{
		{"normal finish", g19(1, 7, 0, g19Submit) + g19(1, 7, 1, g19Submit) + g19(2, 7, 0, g19Schedule) +
			g19(2, 7, 1, g19Schedule) + g19(12, 7, 0, g19Finish) + g19(22, 7, 1, g19Finish), traces.Options{},
			[]googleWant{{"7", 1, "10 20"}}},
		{"evict and resubmit", g19(1, 7, 0, g19Submit) + g19(1, 7, 0, g19Schedule) + g19(4, 7, 0, g19Evict) +
			g19(4, 7, 0, g19Submit) + g19(5, 7, 0, g19Queue) + g19(6, 7, 0, g19Enable) + g19(7, 7, 0, g19Schedule) +
			g19(9, 7, 0, g19Finish), traces.Options{},
			[]googleWant{{"7", 1, "3"}, {"7-0-r1", 4, "2"}}},
		{"censored at the end", g19(1, 7, 0, g19Submit) + g19(2, 7, 0, g19Schedule) + g19(9, 8, 0, g19Submit) +
			`{"time":"9223372036854775807","type":"6","collection_id":"7","instance_index":"0"}` + "\n", traces.Options{},
			[]googleWant{{"7", 1, "7c"}, {"8", 9, "0c"}}},
		{"scheduled twice", g19(1, 7, 0, g19Submit) + g19(2, 7, 0, g19Schedule) + g19(3, 7, 0, g19Schedule) +
			g19(12, 7, 0, g19Finish), traces.Options{},
			[]googleWant{{"7", 1, "10"}}},
		{"out-of-order completion", g19(1, 7, 0, g19Submit) + g19(1, 7, 0, g19Schedule) + g19(2, 8, 0, g19Submit) +
			g19(2, 8, 0, g19Schedule) + g19(3, 8, 0, g19Finish) + g19(50, 7, 0, g19Kill), traces.Options{},
			[]googleWant{{"7", 1, "49"}, {"8", 2, "1"}}},
		{"numbers as JSON numbers", `{"time":1000000,"type":0,"collection_id":7,"instance_index":0,"priority":5,"resource_request":{"cpus":0.5,"memory":null}}` + "\n" +
			`{"time":2000000,"type":3,"collection_id":7,"instance_index":0}` + "\n" +
			`{"time":5000000,"type":6,"collection_id":7,"instance_index":0}` + "\n", traces.Options{},
			[]googleWant{{"7", 1, "3"}}},
		{"alloc sets left out", `{"time":"1000000","type":"0","collection_id":"9","collection_type":"1","instance_index":"0"}` + "\n" +
			`{"time":"1000000","type":"3","collection_id":"9","collection_type":"1","instance_index":"0"}` + "\n" +
			g19(1, 7, 0, g19Submit) + g19(1, 7, 0, g19Schedule) + g19(2, 7, 0, g19Finish), traces.Options{},
			[]googleWant{{"7", 1, "1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := googleWrite(t, t.TempDir(), "instance_events.json", c.lines)
			jobs, _, err := googleRead(t, "google2019", c.opts, p)
			if err != nil {
				t.Fatal(err)
			}
			googleCheck(t, jobs, c.want)
		})
	}
}

func TestGoogle2019TruncatedGzip(t *testing.T) {
	parts := google2019Parts()
	data, err := os.ReadFile(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	cut := googleWrite(t, t.TempDir(), "instance_events-000000000001.json.gz", string(data[:len(data)/2]))
	_, _, err = googleRead(t, "google2019", traces.Options{SkipBad: true}, parts[0], parts[1], cut)
	if err == nil {
		t.Fatal("a truncated gzip part read without error")
	}
}

func TestGoogle2019BadLines(t *testing.T) {
	good := g19(1, 7, 0, g19Submit)
	cases := []struct {
		line  string
		col   int
		field string
	}{
		{"not json\n", 0, ""},
		{`{"time":"1","type":"0"}` + "\n", 3, "collection_id"},
		{`{"time":"0","machine_id":"5","type":"1","capacity":{"cpus":0.5,"memory":0.5}}` + "\n", 3, "collection_id"},
		{`{"time":"x1","type":"0","collection_id":"7","instance_index":"1"}` + "\n", 1, "time"},
		{`{"time":"1.5","type":"0","collection_id":"7","instance_index":"1"}` + "\n", 1, "time"},
		{`{"time":"-1","type":"0","collection_id":"7","instance_index":"1"}` + "\n", 1, "time"},
		{`{"type":"0","collection_id":"7","instance_index":"1"}` + "\n", 1, "time"},
		{`{"time":"1","type":"11","collection_id":"7","instance_index":"1"}` + "\n", 2, "type"},
		{`{"time":"1","type":"0","collection_id":"7","instance_index":"1","priority":"high"}` + "\n", 7, "priority"},
		{`{"time":"1","type":"0","collection_id":"7","instance_index":"1","priority":{}}` + "\n", 7, "priority"},
		{`{"time":"1","type":"0","collection_id":"7","instance_index":"1","resource_request":{"memory":"lots"}}` + "\n", 12, "resource_request"},
		{`{"time":"1","type":"0","collection_id":"7","instance_index":"1","priority":"1e3"}` + "\n", 7, "priority"},
		{`{"time":"1","type":"0","collection_id":"7","instance_index":"1","resource_request":{"cpus":-1}}` + "\n", 12, "resource_request"},
		{`{"time":"1","type":"0","collection_id":"7","instance_index":"1","resource_request":[1]}` + "\n", 12, "resource_request"},
		{`{"time":"1","type":"0","collection_id":"7","user":5}` + "\n", 9, "user"},
	}
	for _, c := range cases {
		p := googleWrite(t, t.TempDir(), "i.json", good+c.line+good)
		_, _, err := googleRead(t, "google2019", traces.Options{}, p)
		var pe *traces.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v; want a ParseError", c.line, err)
			continue
		}
		if pe.File != p || pe.Line != 2 || pe.Column != c.col || pe.Field != c.field {
			t.Errorf("%q: %v: line %d column %d %q; want line 2 column %d %q", c.line, pe, pe.Line, pe.Column, pe.Field, c.col, c.field)
		}
		jobs, stats, err := googleRead(t, "google2019", traces.Options{SkipBad: true}, p)
		if err != nil || stats.Skipped != 1 || len(jobs) != 1 {
			t.Errorf("%q with SkipBad: %d jobs, %+v, %v", c.line, len(jobs), stats, err)
		}
	}
}

func TestGoogle2019Machines(t *testing.T) {
	evs, err := googleMachines(t, "google2019", traces.Options{}, google2019Dir+"machine_events-000000000000.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		at   time.Duration
		kind traces.MachineEventKind
		id   string
		cap  traces.Resources
	}{
		{0, traces.MachineAdd, "11", traces.Resources{CPUs: 16, MemMiB: 16384}},
		{0, traces.MachineAdd, "12", traces.Resources{CPUs: 32, MemMiB: 65536}},
		{5 * time.Second, traces.MachineRemove, "11", traces.Resources{}},
		{8 * time.Second, traces.MachineUpdate, "12", traces.Resources{CPUs: 16, MemMiB: 32768}},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events; want %d", len(evs), len(want))
	}
	for i, w := range want {
		e := evs[i]
		if e.At != w.at || e.Kind != w.kind || e.Machine.ID != w.id || e.Machine.Capacity != w.cap {
			t.Errorf("event %d: %v %v %s %+v; want %+v", i, e.At, e.Kind, e.Machine.ID, e.Machine.Capacity, w)
		}
	}
	if a := evs[0].Machine.Attributes; a["platform"] != "p1" || a["switch"] != "sw1" {
		t.Errorf("attributes %v", a)
	}
	p := googleWrite(t, t.TempDir(), "m.json", `{"time":"0","machine_id":"5","type":"0"}`+"\n")
	_, err = googleMachines(t, "google2019", traces.Options{}, p)
	var pe *traces.ParseError
	if !errors.As(err, &pe) || pe.Column != 3 || pe.Field != "type" {
		t.Errorf("machine event type 0: %v", err)
	}
}

func TestGoogle2019Detect(t *testing.T) {
	f, err := traces.Lookup("google2019")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		head string
		want bool
	}{
		{"instance_events", g19(0, 1, 0, 0), true},
		{"collection_events", `{"time":"0","type":"0","collection_id":"1","user":"u"}` + "\n", true},
		{"machine_events", `{"time":"0","machine_id":"5","type":"1","capacity":{"cpus":0.5,"memory":0.5}}` + "\n", true},
		{"instance_usage", `{"start_time":"0","end_time":"300000000","collection_id":"1","instance_index":"0"}` + "\n", false},
		{"machine_attributes", `{"time":"0","machine_id":"5","name":"a","value":"b","deleted":false}` + "\n", false},
		{"other json", `{"job":"1","time":"0","type":"x"}` + "\n", false},
		{"csv", "0,5,0,HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=,0.5,0.2493\n", false},
		{"empty", "", false},
	} {
		if got := f.Detect([]byte(c.head)); got != c.want {
			t.Errorf("%s: detected %v; want %v", c.name, got, c.want)
		}
	}
	googleDetect(t, "google2019", google2019Parts()...)
	googleDetect(t, "google2019", google2019Parts()[1:]...)
	googleDetect(t, "google2019", google2019Dir+"machine_events-000000000000.json")
}

func FuzzGoogle2019(f *testing.F) {
	for _, p := range []string{google2019Parts()[0], google2019Parts()[1], google2019Dir + "machine_events-000000000000.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			f.Add(l)
		}
	}
	gz, err := os.ReadFile(google2019Parts()[2])
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
		p := filepath.Join(dir, "events.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		slow := filepath.Join(dir, "slow.json")
		if err := os.WriteFile(slow, google2019Escaped(data), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opts := range []traces.Options{{}, {SkipBad: true, Reorder: 2}} {
			jobs, stats, err := googleRead(t, "google2019", opts, p)
			googleCheckFuzz(t, jobs, err)
			// The same lines through encoding/json only.
			sjobs, sstats, serr := googleRead(t, "google2019", opts, slow)
			if !reflect.DeepEqual(jobs, sjobs) || stats.Skipped != sstats.Skipped || googleWhere(err) != googleWhere(serr) {
				t.Fatalf("fast and encoding/json paths differ:\n%v %d %v\n%v %d %v", googleBrief(jobs), stats.Skipped, err, googleBrief(sjobs), sstats.Skipped, serr)
			}
		}
		evs, err := googleMachines(t, "google2019", traces.Options{SkipBad: true}, p)
		if err != nil {
			t.Fatalf("machines with SkipBad: %v", err)
		}
		for _, e := range evs {
			if e.At < 0 || e.Machine.Capacity.CPUs < 0 {
				t.Fatalf("machine event %+v", e)
			}
		}
		f, _ := traces.Lookup("google2019")
		f.Detect(data)
	})
}

// google2019Escaped adds to every line that starts an object a member
// whose key has an escape ("\u0078", an unknown "x"): the same JSON, which
// the reader's fast path leaves to encoding/json.
func google2019Escaped(data []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		i := len(l) - len(bytes.TrimLeft(l, " \t\r"))
		if i < len(l) && l[i] == '{' {
			rest := l[i+1:]
			sep := ","
			if r := bytes.TrimLeft(rest, " \t\r\n"); len(r) > 0 && r[0] == '}' {
				sep = ""
			}
			l = append(append(append([]byte(nil), l[:i+1]...), `"\u0078":0`+sep...), rest...)
		}
		out = append(out, l...)
	}
	return out
}

// googleWhere is where an error says a line is wrong.
func googleWhere(err error) string {
	var pe *traces.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d column %d %s", pe.Line, pe.Column, pe.Field)
	}
	return fmt.Sprint(err)
}
