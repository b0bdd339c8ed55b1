package traces

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPAIMachinesReal(t *testing.T) {
	path := aliSample(t, "alibaba-gpu-v2020/pai_machine_spec.csv")
	events, st, err := aliMachinesOf(t, "pai2020", Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	// README: 1,897 machines, 6,742 GPUs; awk -F, '{c+=$3; m+=$4; g+=$5}'
	// gives 156576 cores, 948224 GB, 6742 GPUs.
	var sum Resources
	types := map[string]int{}
	for _, e := range events {
		if e.Kind != MachineAdd || e.At != 0 {
			t.Fatalf("event %+v; want machines added at 0", e)
		}
		sum.CPUs += e.Machine.Capacity.CPUs
		sum.MemMiB += e.Machine.Capacity.MemMiB
		sum.GPUs += e.Machine.Capacity.GPUs
		types[e.Machine.Attributes["gpu_type"]]++
	}
	if st.Lines != 1897 || len(events) != 1897 {
		t.Errorf("%d lines, %d machines; want 1897", st.Lines, len(events))
	}
	if sum != (Resources{CPUs: 156576, MemMiB: 948224 * 1024, GPUs: 6742}) {
		t.Errorf("capacity %+v; want 156576 CPUs, 948224 GiB, 6742 GPUs", sum)
	}
	// README: CPU x83, MISC x280, P100 x798, T4 x497, V100 x45+59, V100M32 x135.
	want := map[string]int{"CPU": 83, "MISC": 280, "P100": 798, "T4": 497, "V100": 104, "V100M32": 135}
	for k, n := range want {
		if types[k] != n {
			t.Errorf("%d machines of gpu_type %s; want %d", types[k], k, n)
		}
	}
}

func TestPAIJobs(t *testing.T) {
	jobTable := filepath.Join("testdata", "pai", "pai_job_table.csv")
	taskTable := filepath.Join("testdata", "pai", "pai_task_table.csv")
	type task struct {
		cpus, mem, gpus float64
		dur             time.Duration
		censored        bool
	}
	type job struct {
		id, user string
		submit   time.Duration
		tasks    []task
	}
	s := time.Second
	running := task{6, 30000, 0.5, 0, true}
	failed := task{8, 0, 1, 2553 * s, false}
	waiting := task{1, 2048, 0, 0, true}
	ps, worker := task{6, 30000, 0, 500 * s, false}, task{4, 15000, 0.5, 509 * s, false}
	tests := []struct {
		name  string
		paths []string
		want  []job
	}{
		{"task table", []string{taskTable}, []job{
			{"0d4d1ab0a93e1e2d8d42d8c1", "", 1000 * s, []task{waiting}},
			{"4f057009a5d481acec67b088", "", 1739162 * s, []task{running}},
			{"af724763f4f5d0beef445849", "", 2081336 * s, []task{failed}},
			{"4b3f04b66a525d2df903eb16", "", 4550900 * s, []task{ps, worker, worker}},
		}},
		{"job then task table", []string{jobTable, taskTable}, []job{
			{"0d4d1ab0a93e1e2d8d42d8c1", "", 1000 * s, []task{waiting}},
			{"4f057009a5d481acec67b088", "d2d3b77d342e", 1739100 * s, []task{running}},
			{"af724763f4f5d0beef445849", "58540f191766", 2081300 * s, []task{failed}},
			{"4b3f04b66a525d2df903eb16", "58540f191766", 4550879 * s, []task{ps, worker, worker}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, st, err := aliJobsOf(t, "pai2020", Options{}, tt.paths...)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != len(tt.want) || st.Skipped != 0 {
				t.Fatalf("%d jobs, %d skipped; want %d and 0", len(jobs), st.Skipped, len(tt.want))
			}
			for i, j := range jobs {
				w := tt.want[i]
				tasks := expandTasks(j.Tasks)
				if j.ID != w.id || j.User != w.user || j.Submit != w.submit || len(tasks) != len(w.tasks) {
					t.Errorf("job %d: %s of %q at %v, %d tasks; want %s of %q at %v, %d tasks", i, j.ID, j.User, j.Submit, len(tasks), w.id, w.user, w.submit, len(w.tasks))
					continue
				}
				for k, got := range tasks {
					r := got.Resources
					if g := (task{r.CPUs, r.MemMiB, r.GPUs, got.Duration, got.Censored}); g != w.tasks[k] {
						t.Errorf("job %s task %d: %+v; want %+v", j.ID, k, g, w.tasks[k])
					}
				}
			}
		})
	}
}

// expandTasks lists each task of a Count on its own.
func expandTasks(tasks []Task) []Task {
	var out []Task
	for _, t := range tasks {
		n := t.N()
		t.Count = 0
		for range n {
			out = append(out, t)
		}
	}
	return out
}

func TestPAIOtherTables(t *testing.T) {
	spec := aliWrite(t, "pai_machine_spec.csv", "7399a758eb02bae1a3621236,CPU,96,512,0\n")
	inst := aliWrite(t, "pai_instance_table.csv", "af724763f4f5d0beef445849,worker,0d39aa867a79c16eff67daa8f6248f09af8346b177c9e3e23645c48354a8,"+
		"54dbcd2db287841c03d0639b2a93e783a090ea085348f8cdb8e603d8b96f,e387fbc18d80cc3c9ca4f1f13ff1d46778c9a25eaaeca2a95314fdf20d8e,Terminated,2081336.0,2083889.0,471dda9ed84965451e042145\n")
	in, err := Open(inst)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Detect(in); err != nil || f.Name != "pai2020" {
		t.Errorf("pai_instance_table detected as %q, %v; want pai2020, to say it cannot be read", f.Name, err)
	}
	in.Close()
	for _, c := range []struct{ path, msg string }{{spec, "pai_machine_spec table: a table of machines"}, {inst, "no resource requests"}} {
		if _, _, err := aliJobsOf(t, "pai2020", Options{}, c.path); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("jobs of %s: %v; want an error saying %q", filepath.Base(c.path), err, c.msg)
		}
	}
}

func TestPAIBadLines(t *testing.T) {
	jobs := func(t testing.TB, opts Options, path string) (Stats, error) {
		_, st, err := aliJobsOf(t, "pai2020", opts, path)
		return st, err
	}
	machines := func(t testing.TB, opts Options, path string) (Stats, error) {
		_, st, err := aliMachinesOf(t, "pai2020", opts, path)
		return st, err
	}
	good := "4f05,tensorflow,1.0,Terminated,1739162.0,1739200.0,600.0,29.296875,50.0,MISC\n"
	aliCheckBad(t, "pai_task_table.csv", []aliBadCase{
		{"gpu", good + "4f06,worker,1.0,Terminated,1739162.0,1739200.0,600.0,29.296875,-50.0,MISC\n", 2, 9, "plan_gpu", "want a GPU request in percent of a GPU from 0"},
		{"inst", good + "4f06,worker,one,Terminated,1739162.0,1739200.0,600.0,29.296875,50.0,MISC\n", 2, 3, "inst_num", `"one" is not a number; want an instance count`},
		{"status", good + "4f06,worker,1.0,Done,1739162.0,1739200.0,600.0,29.296875,50.0,MISC\n", 2, 4, "status", `"Done"; want one of Terminated, Failed, Running, Waiting`},
		{"columns", good + "4f06,worker,1.0,Done,1739162.0\n", 2, 0, "", "5 columns; want 10 (job_name,task_name"},
		{"job row", "4b3f,8cb3,5854,Terminated,x,4551416.0\n" + good, 1, 5, "start_time", `"x" is not a number; want a time in seconds`},
	}, jobs)
	aliCheckBad(t, "pai_machine_spec.csv", []aliBadCase{
		{"gpus", "a,T4,96,512,2\nb,T4,96,512,2.5\n", 2, 5, "cap_gpu", "2.5 is not a whole number; want a number of GPUs"},
		{"twice", "a,T4,96,512,2\na,T4,96,512,2\n", 2, 1, "machine", "machine a listed again (first at line 1)"},
	}, machines)
}

func FuzzPAI(f *testing.F) {
	f.Add([]byte("6ee748f4180d0192e3740e11,V100M32,96,384,8\nb23478c84c138906a1ffd1c1,MISC,96,512,8\n7399a758eb02bae1a3621236,CPU,96,512,0\n"))
	for _, name := range []string{"pai_task_table.csv", "pai_job_table.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", "pai", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	path := filepath.Join(f.TempDir(), "pai.csv")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "pai2020", path, data, true, true) })
}
