package traces

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/testutil"
)

// Helpers shared by the tests of the Alibaba, PAI, openb and Philly readers.

// aliSample is the path of a real trace sample shipped in traces/samples.
func aliSample(t testing.TB, rel string) string {
	t.Helper()
	return testutil.Sample(t, rel)
}

// aliWrite writes a file in a fresh directory and returns its path.
func aliWrite(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func aliFormat(t testing.TB, name string) Format {
	t.Helper()
	f, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// aliJobsOf reads every job of the files in the named format.
func aliJobsOf(t testing.TB, format string, opts Options, paths ...string) ([]*Job, Stats, error) {
	t.Helper()
	in, err := Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := aliFormat(t, format).Jobs(in, opts)
	if err != nil {
		return nil, Stats{}, err
	}
	var jobs []*Job
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

// aliMachinesOf reads every machine event of the files in the named format.
func aliMachinesOf(t testing.TB, format string, opts Options, paths ...string) ([]*MachineEvent, Stats, error) {
	t.Helper()
	in, err := Open(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := aliFormat(t, format).Machines(in, opts)
	if err != nil {
		return nil, Stats{}, err
	}
	var events []*MachineEvent
	for {
		e, err := r.NextMachine()
		if err == io.EOF {
			return events, r.Stats(), nil
		}
		if err != nil {
			return events, r.Stats(), err
		}
		events = append(events, e)
	}
}

// aliSummary reads a machine table and summarises it.
func aliMachineSummary(t testing.TB, format string, path string) (MachineSummary, Stats) {
	t.Helper()
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := aliFormat(t, format).Machines(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := SummarizeMachines(r)
	if err != nil {
		t.Fatal(err)
	}
	return s, r.Stats()
}

func aliNear(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// aliCheckOrder fails unless the jobs are in submit order.
func aliCheckOrder(t testing.TB, jobs []*Job) {
	t.Helper()
	for i := 1; i < len(jobs); i++ {
		if jobs[i].Submit < jobs[i-1].Submit {
			t.Fatalf("job %s at %v after job %s at %v: not in submit order", jobs[i].ID, jobs[i].Submit, jobs[i-1].ID, jobs[i-1].Submit)
		}
	}
}

// aliBadCase is a malformed line and where its error must point.
type aliBadCase struct {
	name, content string
	line, column  int
	field, msg    string
}

// aliCheckBad reads each case's file (named file) with read and checks the
// *ParseError, then reads it again with SkipBad and checks the count.
func aliCheckBad(t *testing.T, file string, cases []aliBadCase, read func(t testing.TB, opts Options, path string) (Stats, error)) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := aliWrite(t, file, c.content)
			_, err := read(t, Options{}, path)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v; want a *ParseError", err)
			}
			if pe.File != path || pe.Line != c.line || pe.Column != c.column || pe.Field != c.field || !strings.Contains(pe.Error(), c.msg) {
				t.Fatalf("error %q at %s:%d column %d (%s); want line %d column %d (%s) saying %q",
					pe, pe.File, pe.Line, pe.Column, pe.Field, c.line, c.column, c.field, c.msg)
			}
			st, err := read(t, Options{SkipBad: true}, path)
			if err != nil || st.Skipped != 1 || st.FirstBad == nil || st.FirstBad.Error() != pe.Error() {
				t.Fatalf("with SkipBad: err %v, skipped %d, first bad %v; want no error, 1 skipped, %v", err, st.Skipped, st.FirstBad, pe)
			}
		})
	}
}

func TestAlibaba2018MachinesReal(t *testing.T) {
	path := aliSample(t, "alibaba-v2018/machine_meta.csv")
	events, st, err := aliMachinesOf(t, "alibaba2018", Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	// README: 17,592 rows of 4,034 machines; m_2739 has only
	// IMPORT_INSTALLING rows, so it never enters service.
	if st.Lines != 17592 || st.Skipped != 0 {
		t.Errorf("%d lines, %d skipped; want 17592 and 0", st.Lines, st.Skipped)
	}
	ids := map[string]bool{"m_2739": true}
	for i, e := range events {
		ids[e.Machine.ID] = true
		if i > 0 && e.At < events[i-1].At {
			t.Fatalf("event %d at %v before the previous at %v", i, e.At, events[i-1].At)
		}
		if e.Machine.ID == "m_2739" {
			t.Errorf("m_2739, never USING, has an event: %+v", e)
		}
	}
	if len(ids) != 4034 {
		t.Errorf("%d machines; want 4034", len(ids))
	}
	s, _ := aliMachineSummary(t, "alibaba2018", path)
	// awk -F, '{last[$1]=$0} END{for(m in last){split(last[m],f,",");
	//   if(f[7]=="USING"){n++; c+=f[5]; mem+=f[6]}}; print n, c, mem}'
	// gives 4033 387168 403300; failure_domain_2 blanks and comes back 68 times.
	want := MachineSummary{Events: 4101, Added: 4033, Updated: 68, Machines: 4033, Last: 570157 * time.Second,
		Capacity: Resources{CPUs: 387168, MemMiB: 403300.0 / 100 * AlibabaMachineMemMiB}}
	if s != want {
		t.Errorf("summary %+v; want %+v", s, want)
	}
	// Memory scales with Options.MachineMemMiB.
	events, _, err = aliMachinesOf(t, "alibaba2018", Options{MachineMemMiB: 1000}, path)
	if err != nil || events[0].Machine.Capacity != (Resources{CPUs: 96, MemMiB: 1000}) {
		t.Errorf("first machine %+v, %v; want 96 CPUs and 1000 MiB", events[0].Machine, err)
	}
}

func TestAlibaba2018MachineEvents(t *testing.T) {
	path := aliWrite(t, "machine_meta.csv", `m_2,300,7,3,96,100,IMPORT_INSTALLING
m_2,400,7,3,96,100,USING
m_2,500,7,,96,100,USING
m_2,600,7,,96,100,USING
m_2,700,7,,96,50,IMPORT_INSTALLING
m_1,0,5,1,64,100,USING
m_1,200,5,1,64,100,USING
`)
	events, st, err := aliMachinesOf(t, "alibaba2018", Options{MachineMemMiB: 200}, path)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		at   time.Duration
		kind MachineEventKind
		id   string
		mem  float64
		fd2  string
	}
	want := []ev{
		{0, MachineAdd, "m_1", 200, "1"},
		{400 * time.Second, MachineAdd, "m_2", 200, "3"},
		{500 * time.Second, MachineUpdate, "m_2", 200, ""},
		{700 * time.Second, MachineRemove, "m_2", 200, ""},
	}
	if len(events) != len(want) || st.Lines != 7 {
		t.Fatalf("%d events from %d lines; want %d from 7: %+v", len(events), st.Lines, len(want), events)
	}
	for i, e := range events {
		got := ev{e.At, e.Kind, e.Machine.ID, e.Machine.Capacity.MemMiB, e.Machine.Attributes["failure_domain_2"]}
		if got != want[i] {
			t.Errorf("event %d: %+v; want %+v", i, got, want[i])
		}
	}
}

func TestAlibaba2018Jobs(t *testing.T) {
	mem := 1000.0
	type task struct {
		n        int
		cpus     float64
		mem      float64
		dur      time.Duration
		censored bool
	}
	type job struct {
		id     string
		submit time.Duration
		tasks  []task
	}
	tests := []struct {
		file string
		want []job
	}{
		{"batch_task.csv", []job{
			{"j_7", 0, []task{{3, 0, 0, 0, true}}},
			{"j_8", 157000 * time.Second, []task{{1, 2, 15, 10 * time.Second, false}, {2, 2, 15, 0, true}}}, // Waiting at 0: not a start
			{"j_5", 157100 * time.Second, []task{{1, 0.5, 5.9, 0, true}}},
			{"j_3", 157213 * time.Second, []task{{4, 1, 3, 82 * time.Second, false}, {2, 0.5, 4.9, 25 * time.Second, false}, {1, 1, 5.9, 51 * time.Second, false}}},
		}},
		{"batch_instance.csv", []job{
			{"j_9", 0, []task{{1, 0, 0, 0, true}}},
			{"j_3", 157213 * time.Second, []task{{1, 0.955, 2.5, 77 * time.Second, false}, {1, 0.9, 3, 81 * time.Second, false},
				{1, 0.5, 1, 3 * time.Second, false}, {1, 0, 0, 0, true}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			jobs, st, err := aliJobsOf(t, "alibaba2018", Options{MachineMemMiB: mem}, filepath.Join("testdata", "alibaba", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != len(tt.want) || st.Skipped != 0 {
				t.Fatalf("%d jobs, %d skipped; want %d and 0", len(jobs), st.Skipped, len(tt.want))
			}
			for i, j := range jobs {
				w := tt.want[i]
				if j.ID != w.id || j.Submit != w.submit {
					t.Errorf("job %d: %s at %v; want %s at %v", i, j.ID, j.Submit, w.id, w.submit)
					continue
				}
				if len(j.Tasks) != len(w.tasks) {
					t.Errorf("job %s: %d task entries; want %d", j.ID, len(j.Tasks), len(w.tasks))
					continue
				}
				for k, wt := range w.tasks {
					got := j.Tasks[k]
					r := got.Resources
					if !aliNear(r.CPUs, wt.cpus) || !aliNear(r.MemMiB, wt.mem) || got.Duration != wt.dur || got.Censored != wt.censored || got.N() != wt.n {
						t.Errorf("job %s task entry %d: %+v; want %+v", j.ID, k, got, wt)
					}
				}
			}
		})
	}
}

// TestAlibabaReorderWindow: jobs out of order by more than the window are
// an error that says so; a job's rows apart by more than the window make
// two jobs.
func TestAlibabaReorderWindow(t *testing.T) {
	path := aliWrite(t, "batch_task.csv", `M1,1,j_1,1,Terminated,300,310,100,1
M1,1,j_2,1,Terminated,200,210,100,1
M1,1,j_3,1,Terminated,100,110,100,1
`)
	_, _, err := aliJobsOf(t, "alibaba2018", Options{Reorder: 1}, path)
	if err == nil || !strings.Contains(err.Error(), "reorder window of 1 jobs") {
		t.Errorf("error %v; want one about the reorder window", err)
	}
	jobs, _, err := aliJobsOf(t, "alibaba2018", Options{Reorder: 3}, path)
	if err != nil || len(jobs) != 3 || jobs[0].ID != "j_3" {
		t.Errorf("window 3: %d jobs, %v; want j_3 first of 3", len(jobs), err)
	}
	path = aliWrite(t, "batch_task.csv", `M1,1,j_1,1,Terminated,100,110,100,1
M1,1,j_2,1,Terminated,200,210,100,1
M1,1,j_3,1,Terminated,300,310,100,1
R2_1,1,j_1,1,Terminated,400,410,100,1
`)
	for _, c := range []struct{ window, jobs int }{{1, 4}, {2, 4}, {3, 3}} {
		jobs, _, err := aliJobsOf(t, "alibaba2018", Options{Reorder: c.window}, path)
		if err != nil || len(jobs) != c.jobs {
			t.Errorf("window %d: %d jobs, %v; want %d", c.window, len(jobs), err, c.jobs)
		}
	}
}

func TestAlibaba2017Real(t *testing.T) {
	path := aliSample(t, "alibaba-v2017/batch_task.csv")
	jobs, st, err := aliJobsOf(t, "alibaba2017", Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	aliCheckOrder(t, jobs)
	// awk -F, 'NR>1{n++; j[$3]=1; t+=$5; c+=$5*$7/100; m+=$5*$8}' gives
	// 80553 rows, 12951 jobs, 11909321 instances, 6788440.1 cores and
	// 110596.427733085 normalised memory. Censored (not Terminated or
	// Failed with an end at or after the start): 1299579 instances.
	var tasks, censored int
	var cpus, mem float64
	for _, j := range jobs {
		for _, k := range j.Tasks {
			n := k.N()
			tasks += n
			cpus += k.Resources.CPUs * float64(n)
			mem += k.Resources.MemMiB * float64(n)
			if k.Censored {
				censored += n
			}
		}
	}
	if st.Lines != 80553 || len(jobs) != 12951 || tasks != 11909321 || censored != 1299579 {
		t.Errorf("%d lines, %d jobs, %d tasks, %d censored; want 80553, 12951, 11909321, 1299579", st.Lines, len(jobs), tasks, censored)
	}
	if !aliNear(cpus, 6788440.1) || !aliNear(mem/AlibabaMachineMemMiB, 110596.427733085) {
		t.Errorf("%v CPUs, %v normalised memory; want 6788440.1 and 110596.427733085", cpus, mem/AlibabaMachineMemMiB)
	}
	if jobs[0].Submit != 0 || jobs[len(jobs)-1].Submit != 60181*time.Second {
		t.Errorf("submits from %v to %v; want 0 (created before the trace) to 60181s", jobs[0].Submit, jobs[len(jobs)-1].Submit)
	}
}

func TestAlibaba2017Machines(t *testing.T) {
	path := aliSample(t, "alibaba-v2017/server_event.csv")
	s, st := aliMachineSummary(t, "alibaba2017", path)
	// awk -F, '$3=="add"{n++; c+=$5; m+=$6}' gives 1313 84032
	// 909.553676908357; 39 softerror rows, no harderror.
	if st.Lines != 1352 || s.Machines != 1313 || s.Added != 1313 || s.Updated != 39 || s.Removed != 0 {
		t.Errorf("%d lines, summary %+v; want 1352 lines, 1313 machines added, 39 updated", st.Lines, s)
	}
	if s.Capacity.CPUs != 84032 || math.Abs(s.Capacity.MemMiB/AlibabaMachineMemMiB-909.553676908357) > 1e-9 {
		t.Errorf("capacity %+v; want 84032 CPUs and 909.553676908357 x %d MiB", s.Capacity, AlibabaMachineMemMiB)
	}
	events, _, err := aliMachinesOf(t, "alibaba2017", Options{}, aliWrite(t, "server_event.csv", `0,1,add,,64,0.5,1
0,2,add,,64,1,1
50,2,softerror,agent_check,0,0,0
60,3,softerror,agent_check,0,0,0
70,1,harderror,disk,0,0,0
`))
	if err != nil || len(events) != 4 {
		t.Fatalf("%d events, %v; want 4", len(events), err)
	}
	e := events[2]
	if e.Kind != MachineUpdate || e.Machine.Capacity.CPUs != 64 || e.Machine.Attributes["error_detail"] != "agent_check" || e.At != 50*time.Second {
		t.Errorf("softerror: %+v; want an update at 50s keeping 64 CPUs, detail agent_check", e)
	}
	if e := events[3]; e.Kind != MachineRemove || e.Machine.ID != "1" {
		t.Errorf("harderror: %+v; want machine 1 removed", e)
	}
}

func TestAlibabaJobsOfMachineTable(t *testing.T) {
	for _, c := range []struct{ format, path string }{
		{"alibaba2018", "alibaba-v2018/machine_meta.csv"},
		{"alibaba2017", "alibaba-v2017/server_event.csv"},
	} {
		_, _, err := aliJobsOf(t, c.format, Options{}, aliSample(t, c.path))
		if !errors.Is(err, ErrMachineTable) {
			t.Errorf("%s jobs of %s: %v; want an error saying it is a machine table", c.format, c.path, err)
		}
	}
}

func TestAlibabaBadLines(t *testing.T) {
	jobs := func(format string) func(t testing.TB, opts Options, path string) (Stats, error) {
		return func(t testing.TB, opts Options, path string) (Stats, error) {
			_, st, err := aliJobsOf(t, format, opts, path)
			return st, err
		}
	}
	machines := func(format string) func(t testing.TB, opts Options, path string) (Stats, error) {
		return func(t testing.TB, opts Options, path string) (Stats, error) {
			_, st, err := aliMachinesOf(t, format, opts, path)
			return st, err
		}
	}
	good := "M1,1,j_1,1,Terminated,100,110,100,1\n"
	aliCheckBad(t, "batch_task.csv", []aliBadCase{
		{"columns", good + "M1,1,j_2,1,Terminated,100,110,100\n", 2, 0, "", "8 columns; want 9 (task_name,instance_num"},
		{"instances", good + "M1,x,j_2,1,Terminated,100,110,100,1\n", 2, 2, "instance_num", `"x" is not a number; want an instance count`},
		{"fraction", good + "M1,1.5,j_2,1,Terminated,100,110,100,1\n", 2, 2, "instance_num", "1.5 is not a whole number"},
		{"negative", good + "M1,-1,j_2,1,Terminated,100,110,100,1\n", 2, 2, "instance_num", "out of range; want an instance count from 0"},
		{"status", good + "M1,1,j_2,1,Done,100,110,100,1\n", 2, 5, "status", `"Done"; want one of Terminated, Failed`},
		{"time", good + "M1,1,j_2,1,Terminated,1e300,110,100,1\n", 2, 6, "start_time", "want a time in seconds"},
		{"cpu", good + "M1,1,j_2,1,Terminated,100,110,NaN,1\n", 2, 8, "plan_cpu", `"NaN" is not a number`},
		{"job", good + "M1,1,,1,Terminated,100,110,100,1\n", 2, 3, "job_name", "empty; want a job name"},
	}, jobs("alibaba2018"))
	aliCheckBad(t, "batch_task.csv", []aliBadCase{
		{"mem", "1,2,3,4,1,Terminated,50,x\n" + "1,2,3,5,1,Terminated,50,0.1\n", 1, 8, "plan_mem", `"x" is not a number`},
	}, jobs("alibaba2017"))
	aliCheckBad(t, "machine_meta.csv", []aliBadCase{
		{"cpus", "m_1,0,1,1,-96,100,USING\nm_2,0,1,1,96,100,USING\n", 1, 5, "cpu_num", "out of range; want a number of cores"},
		{"status", "m_1,0,1,1,96,100,USING\nm_2,0,1,1,96,100,\n", 2, 7, "status", "empty; want a machine status"},
	}, machines("alibaba2018"))
	aliCheckBad(t, "server_event.csv", []aliBadCase{
		{"event", "0,1,add,,64,0.5,1\n5,1,reboot,,0,0,0\n", 2, 3, "event_type", `"reboot"; want one of add, softerror, harderror`},
	}, machines("alibaba2017"))
}

// TestAlibabaDetect: each sample and fixture is told by its content, by
// every registered format, and the Alibaba-family formats claim no other
// format's files.
func TestAlibabaDetect(t *testing.T) {
	tests := []struct{ path, format string }{
		{"alibaba-v2018/machine_meta.csv", "alibaba2018"},
		{"alibaba-v2017/server_event.csv", "alibaba2017"},
		{"alibaba-v2017/batch_task.csv", "alibaba2017"},
		{"alibaba-gpu-v2020/pai_machine_spec.csv", "pai2020"},
		{"alibaba-gpu-v2023/openb_node_list_all_node.csv", "openb"},
		{"alibaba-gpu-v2023/openb_node_list_gpu_node.csv", "openb"},
		{"alibaba-gpu-v2023/openb_pod_list_default.csv", "openb"},
		{"philly/cluster_machine_list", "philly"},
		{"testdata/alibaba/batch_task.csv", "alibaba2018"},
		{"testdata/alibaba/batch_instance.csv", "alibaba2018"},
		{"testdata/pai/pai_task_table.csv", "pai2020"},
		{"testdata/pai/pai_job_table.csv", "pai2020"},
	}
	for _, tt := range tests {
		path := tt.path
		if strings.HasPrefix(path, "testdata/") {
			path = filepath.FromSlash(path)
		} else {
			path = aliSample(t, path)
		}
		in, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Detect(in)
		in.Close()
		if err != nil || f.Name != tt.format {
			t.Errorf("%s: detected %q, %v; want %s", tt.path, f.Name, err, tt.format)
		}
	}
	mine := []string{"alibaba2017", "alibaba2018", "pai2020", "openb", "philly"}
	var others []string
	for _, f := range []string{"KTH-SP2-1996-2.1-cln.swf", "NASA-iPSC-1993-3.1-cln.swf.gz", "LLNL-Atlas-2006-2.1-cln.swf"} {
		others = append(others, aliSample(t, "swf/"+f))
	}
	more, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	deeper, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "*"))
	for _, p := range append(append(others, more...), deeper...) {
		if st, err := os.Stat(p); err != nil || st.IsDir() || strings.Contains(p, filepath.Join("testdata", "alibaba")) ||
			strings.Contains(p, filepath.Join("testdata", "pai")) || strings.Contains(p, filepath.Join("testdata", "openb")) {
			continue
		}
		in, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		head := in.Head(64 << 10)
		for _, name := range mine {
			if aliFormat(t, name).Detect(head) {
				t.Errorf("%s claims %s, another format's file", name, p)
			}
		}
		in.Close()
	}
}

// aliFuzz reads data as a file of the named format, for jobs, machines or
// both, with and without SkipBad: no panic; every error a *ParseError
// with a line; every job and machine sane.
// The file is written at path, the same for every run of a fuzz worker
// (quicker than a directory per run).
func aliFuzz(t *testing.T, format, path string, data []byte, jobs, machines bool) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f := aliFormat(t, format)
	f.Detect(data)
	check := func(err error) {
		t.Helper()
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line <= 0 {
			t.Fatalf("error %v; want a *ParseError with a line", err)
		}
	}
	for _, skip := range []bool{false, true} {
		opts := Options{SkipBad: skip}
		if jobs {
			js, _, err := aliJobsOf(t, format, opts, path)
			if err != nil && !errors.Is(err, ErrMachineTable) && !strings.Contains(err.Error(), "no resource requests") {
				check(err)
			}
			aliCheckOrder(t, js)
			for _, j := range js {
				for _, k := range j.Tasks {
					if k.Duration < 0 || !aliSane(k.Resources) {
						t.Fatalf("job %s task %+v: want a duration and resources of 0 or more", j.ID, k)
					}
				}
			}
		}
		if machines {
			es, _, err := aliMachinesOf(t, format, opts, path)
			if err != nil {
				check(err)
			}
			for _, e := range es {
				if e.At < 0 || !aliSane(e.Machine.Capacity) {
					t.Fatalf("machine event %+v: want a time and a capacity of 0 or more", e)
				}
			}
		}
	}
}

func aliSane(r Resources) bool {
	for _, v := range []float64{r.CPUs, r.MemMiB, r.DiskMiB, r.GPUs} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func FuzzAlibaba2018Machines(f *testing.F) {
	f.Add([]byte("m_1,0,219,17,96,100,USING\nm_1,148984,219,17,96,100,USING\nm_1834,0,3,3,96,100,USING\n"))
	f.Add([]byte("m_2739,569729,6,6,96,100,IMPORT_INSTALLING\nm_1263,357600,15,,96,100,USING\nm_1263,360232,15,15,96,100,USING\n"))
	path := filepath.Join(f.TempDir(), "machine_meta.csv")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "alibaba2018", path, data, false, true) })
}

func FuzzAlibabaBatchTask(f *testing.F) {
	for _, name := range []string{"batch_task.csv", "batch_instance.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", "alibaba", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("M1,12846,j_3,1,Terminated,157213,157295,100,0.3\nR2_1,371,j_3,1,Terminated,157297,157322,100,0.49\nJ8_6_7,1111,j_3,1,Terminated,157329,157376,100,0.59\n"))
	path := filepath.Join(f.TempDir(), "batch_task.csv")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "alibaba2018", path, data, true, false) })
}

func FuzzAlibaba2017(f *testing.F) {
	f.Add([]byte("task_create_time, task_end_time, job_id, task_id,number_of_instances, status, number_of_cpus_requested_per_instance_in_the_task,normalized_memory_requested_per_instance_in_the_task\n" +
		"6459,6524,3,4,15740,Terminated,50,0.007956928\n6457,6533,3,5,1,Terminated,50,0.004395206\n6036,6046,4,6,452,Waiting,,\n" +
		"-60,110,6168,37200,103,Terminated,50,0.008231305\n51997,0,376,1955,1,Running,100,0.002754122\n"))
	f.Add([]byte("0,1148,add,,64,0.6900059534594777,1\n1351,1075,softerror,agent_check,0,0,0\n0,924,add,,64,0.6899697150104833,0.09572460286727773\n0,1075,add,,64,1,1\n"))
	path := filepath.Join(f.TempDir(), "table.csv")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "alibaba2017", path, data, true, true) })
}
