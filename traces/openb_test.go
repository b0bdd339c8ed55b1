package traces

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestOpenbNodesReal(t *testing.T) {
	// README and awk -F, 'NR>1{c+=$2; m+=$3; g+=$4}': 1,523 nodes, 125,514
	// cores, 612,028,416 MiB, 6,212 GPUs; the GPU-node list is its 1,213
	// nodes with GPUs.
	tests := []struct {
		file   string
		nodes  int
		models map[string]int
	}{
		{"openb_node_list_all_node.csv", 1523, map[string]int{"": 310, "G2": 549, "T4": 404, "P100": 134, "V100M16": 55, "G3": 39, "V100M32": 30, "A10": 2}},
		{"openb_node_list_gpu_node.csv", 1213, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := aliSample(t, "alibaba-gpu-v2023/"+tt.file)
			events, st, err := aliMachinesOf(t, "openb", Options{}, path)
			if err != nil {
				t.Fatal(err)
			}
			var sum Resources
			models := map[string]int{}
			for _, e := range events {
				sum.CPUs += e.Machine.Capacity.CPUs
				sum.MemMiB += e.Machine.Capacity.MemMiB
				sum.GPUs += e.Machine.Capacity.GPUs
				models[e.Machine.Attributes["gpu_model"]]++
			}
			if st.Lines != int64(tt.nodes) || len(events) != tt.nodes {
				t.Errorf("%d lines, %d nodes; want %d", st.Lines, len(events), tt.nodes)
			}
			if tt.models == nil {
				return
			}
			if sum != (Resources{CPUs: 125514, MemMiB: 612028416, GPUs: 6212}) {
				t.Errorf("capacity %+v; want 125514 CPUs, 612028416 MiB, 6212 GPUs", sum)
			}
			for m, n := range tt.models {
				if models[m] != n {
					t.Errorf("%d nodes of model %q; want %d", models[m], m, n)
				}
			}
		})
	}
}

func TestOpenbPodsReal(t *testing.T) {
	path := aliSample(t, "alibaba-gpu-v2023/openb_pod_list_default.csv")
	jobs, st, err := aliJobsOf(t, "openb", Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	aliCheckOrder(t, jobs)
	// awk -F, 'NR>1{c+=$2; m+=$3; g+=$4*$5}' gives 8152 pods, 85436012
	// millicores, 303546211 MiB, 6086800 milli-GPUs. Run time: the sum of
	// deletion_time - scheduled_time is 210028342 s for scheduled pods, and
	// of deletion_time - creation_time 169413 s for the 897 Pending ones.
	// Censored: the Pending ones and the 34 Running at the end (12902960).
	var sum Resources
	var run time.Duration
	var censored int
	groups := map[string]int{}
	for _, j := range jobs {
		if len(j.Tasks) != 1 {
			t.Fatalf("pod %s: %d tasks; want 1", j.ID, len(j.Tasks))
		}
		k := j.Tasks[0]
		sum.CPUs += k.Resources.CPUs
		sum.MemMiB += k.Resources.MemMiB
		sum.GPUs += k.Resources.GPUs
		run += k.Duration
		if k.Censored {
			censored++
		}
		groups[j.Group]++
	}
	if st.Lines != 8152 || len(jobs) != 8152 || censored != 897+34 {
		t.Errorf("%d lines, %d pods, %d censored; want 8152, 8152, 931", st.Lines, len(jobs), censored)
	}
	if !aliNear(sum.CPUs, 85436.012) || sum.MemMiB != 303546211 || !aliNear(sum.GPUs, 6086.8) {
		t.Errorf("demand %+v; want 85436.012 CPUs, 303546211 MiB, 6086.8 GPUs", sum)
	}
	if run != (210028342+169413)*time.Second {
		t.Errorf("total duration %v; want %v", run, (210028342+169413)*time.Second)
	}
	want := map[string]int{"BE": 3398, "Burstable": 100, "Guaranteed": 7, "LS": 4647}
	for g, n := range want {
		if groups[g] != n {
			t.Errorf("%d pods of qos %s; want %d", groups[g], g, n)
		}
	}
	first, last := jobs[0], jobs[len(jobs)-1]
	if first.ID != "openb-pod-0000" || first.Submit != 0 || first.Tasks[0].Resources != (Resources{CPUs: 12, MemMiB: 16384, GPUs: 1, GPUDevices: 1}) ||
		first.Tasks[0].Duration != 12537496*time.Second || first.Tasks[0].Censored {
		t.Errorf("first pod %+v %+v; want openb-pod-0000 at 0: 12 CPUs, 16384 MiB, 1 GPU for 12537496s, deleted before the end", first, first.Tasks[0])
	}
	if last.Submit != 12901761*time.Second {
		t.Errorf("last submit %v; want 12901761s", last.Submit)
	}
}

func TestOpenbPods(t *testing.T) {
	header := "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
	path := aliWrite(t, "openb_pod_list_default.csv", header+`p1,6000,12288,1,460,,LS,Running,100,500,110
p2,4000,8192,2,1000,V100M16|V100M32,BE,Succeeded,50,90,60
p3,1000,1024,1,1000,,BE,Pending,200,260,
p4,1000,1024,0,0,,Burstable,Running,300,700,300
`)
	jobs, _, err := aliJobsOf(t, "openb", Options{}, path)
	if err != nil {
		t.Fatal(err)
	}
	type pod struct {
		id       string
		submit   time.Duration
		gpus     float64
		devices  int
		models   string
		dur      time.Duration
		censored bool
	}
	s := time.Second
	want := []pod{{"p2", 50 * s, 2, 2, "V100M16|V100M32", 30 * s, false}, {"p1", 100 * s, 0.46, 1, "", 390 * s, false},
		{"p3", 200 * s, 1, 1, "", 60 * s, true}, {"p4", 300 * s, 0, 0, "", 400 * s, true}}
	if len(jobs) != len(want) {
		t.Fatalf("%d pods; want %d", len(jobs), len(want))
	}
	for i, j := range jobs {
		k := j.Tasks[0]
		if got := (pod{j.ID, j.Submit, k.Resources.GPUs, k.Resources.GPUDevices, k.GPUModels, k.Duration, k.Censored}); got != want[i] {
			t.Errorf("pod %d: %+v; want %+v", i, got, want[i])
		}
	}
}

func TestOpenbBadLines(t *testing.T) {
	pods := func(t testing.TB, opts Options, path string) (Stats, error) {
		_, st, err := aliJobsOf(t, "openb", opts, path)
		return st, err
	}
	nodes := func(t testing.TB, opts Options, path string) (Stats, error) {
		_, st, err := aliMachinesOf(t, "openb", opts, path)
		return st, err
	}
	// Columns in another order than the published one are found by name.
	header := "name,qos,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,pod_phase,creation_time,deletion_time,scheduled_time\n"
	good := "p0,LS,6000,12288,1,460,,Running,0,500,10\n"
	aliCheckBad(t, "openb_pod_list_default.csv", []aliBadCase{
		{"milli", header + good + "p1,LS,6000,12288,1,1460,,Running,0,500,10\n", 3, 6, "gpu_milli", "want a share of each GPU in milli (1000 = whole) from 0 to 1000"},
		{"scheduled", header + good + "p1,LS,6000,12288,1,460,,Running,0,500,\n", 3, 11, "scheduled_time", "only Pending pods have none"},
		{"early", header + good + "p1,LS,6000,12288,1,460,,Running,20,500,10\n", 3, 11, "scheduled_time", "10 is before creation_time 20"},
		{"deleted", header + good + "p1,LS,6000,12288,1,460,,Succeeded,0,5,10\n", 3, 10, "deletion_time", "5 is before scheduled_time 10"},
		{"phase", header + good + "p1,LS,6000,12288,1,460,,Done,0,500,10\n", 3, 8, "pod_phase", `"Done"; want one of Pending, Running`},
		{"columns", header + good + "p1,LS,6000\n", 3, 0, "", "3 columns; want 11, as the header says"},
	}, pods)
	nodeHeader := "sn,cpu_milli,memory_mib,gpu,model\n"
	aliCheckBad(t, "openb_node_list_all_node.csv", []aliBadCase{
		{"gpu", nodeHeader + "n0,32000,262144,0,\nn1,32000,262144,x,T4\n", 3, 4, "gpu", `"x" is not a number; want a number of GPUs`},
		{"twice", nodeHeader + "n0,32000,262144,0,\nn0,32000,262144,0,\n", 3, 1, "sn", "machine n0 listed again (first at line 2)"},
	}, nodes)
	// A file without its header is an error even with SkipBad.
	for _, skip := range []bool{false, true} {
		_, _, err := aliJobsOf(t, "openb", Options{SkipBad: skip}, aliWrite(t, "pods.csv", good))
		if pe, ok := err.(*ParseError); !ok || pe.Line != 1 {
			t.Errorf("SkipBad %v, no header: %v; want a *ParseError at line 1", skip, err)
		}
	}
	if _, _, err := aliJobsOf(t, "openb", Options{}, aliWrite(t, "nodes.csv", nodeHeader+"n0,32000,262144,0,\n")); !errors.Is(err, ErrMachineTable) {
		t.Errorf("pods of a node list: no error; want one saying it is a machine table")
	}
}

func FuzzOpenbPods(f *testing.F) {
	f.Add([]byte("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n" +
		"openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0\nopenb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061\n" +
		"openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403,\nopenb-pod-0017,88000,327680,8,1000,,Burstable,Succeeded,9437497,10769854,9437497\n" +
		"openb-pod-0033,3152,5600,1,1000,,BE,Failed,9965463,9965645,9965463\n"))
	path := filepath.Join(f.TempDir(), "openb_pod_list_default.csv")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "openb", path, data, true, false) })
}

func FuzzOpenbNodes(f *testing.F) {
	f.Add([]byte("sn,cpu_milli,memory_mib,gpu,model\nopenb-node-0000,32000,262144,0,\nopenb-node-0001,64000,262144,2,P100\n"))
	path := filepath.Join(f.TempDir(), "openb_node_list_all_node.csv")
	f.Fuzz(func(t *testing.T, data []byte) { aliFuzz(t, "openb", path, data, false, true) })
}
