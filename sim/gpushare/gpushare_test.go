package gpushare_test

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
	"github.com/apronlab/apron/sim/gpushare"
	"github.com/apronlab/apron/traces"
)

const (
	openbNodes = "$TRACES/alibaba-gpu-v2023/openb_node_list_gpu_node.csv"
	openbPods  = "$TRACES/alibaba-gpu-v2023/openb_pod_list_default.csv"
)

func loadOpenb(t testing.TB) *gpushare.Trace {
	t.Helper()
	tr, err := gpushare.Load(openbNodes, openbPods)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestLoadOpenb(t *testing.T) {
	tr := loadOpenb(t)
	if len(tr.Nodes) != 1213 || tr.GPUCapacity() != 6212*allocator.Milli || len(tr.Pods) != 8152 {
		t.Errorf("%d nodes, %s GPUs, %d pods; want 1213 nodes, 6212 GPUs, 8152 pods", len(tr.Nodes), tr.GPUCapacity(), len(tr.Pods))
	}
	var gpus allocator.Quantity
	for _, p := range tr.Pods {
		gpus += p.Shape.GPUs()
	}
	if gpus != 6086800 { // the README's sum of num_gpu x gpu_milli
		t.Errorf("the pods ask for %s GPUs; want 6086.8", gpus)
	}
}

func TestShapeOf(t *testing.T) {
	for _, tc := range []struct {
		r       traces.Resources
		models  string
		want    framework.Shape
		wantErr string
	}{
		{traces.Resources{CPUs: 6, MemMiB: 1, GPUs: 0.46, GPUDevices: 1}, "", framework.Shape{CPU: 6000, Mem: 1000, GPU: 460, Count: 1}, ""},
		{traces.Resources{CPUs: 1, GPUs: 8, GPUDevices: 8}, "V100M16|V100M32", framework.Shape{CPU: 1000, GPU: 1000, Count: 8, Models: []string{"V100M16", "V100M32"}}, ""},
		{traces.Resources{CPUs: 1, GPUs: 2}, "", framework.Shape{CPU: 1000, GPU: 1000, Count: 2}, ""},
		{traces.Resources{CPUs: 1, GPUs: 0.5}, "", framework.Shape{CPU: 1000, GPU: 500, Count: 1}, ""},
		{traces.Resources{CPUs: 1}, "", framework.Shape{CPU: 1000}, ""},
		{traces.Resources{GPUs: 1, GPUDevices: 2}, "", framework.Shape{}, "want a fraction of one device or whole devices"},
		{traces.Resources{GPUs: 1.5}, "", framework.Shape{}, "want a fraction of one device or whole devices"},
	} {
		got, err := gpushare.ShapeOf(traces.Task{Resources: tc.r, GPUModels: tc.models})
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) || tc.wantErr == "" && (err != nil || !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("ShapeOf(%+v) = %+v, %v; want %+v, error %q", tc.r, got, err, tc.want, tc.wantErr)
		}
	}
}

// small is a cluster of two nodes (2 T4s, 1 G2) and pods of each kind.
func small() *gpushare.Trace {
	shape := func(cpu, gpu allocator.Quantity, n int, models ...string) framework.Shape {
		return framework.Shape{CPU: cpu * 1000, Mem: 1000, GPU: gpu, Count: n, Models: models}
	}
	return &gpushare.Trace{
		Nodes: []gpushare.Node{{ID: "a", CPU: 8000, Mem: 8000, GPUs: 2, Model: "T4"}, {ID: "b", CPU: 2000, Mem: 8000, GPUs: 1, Model: "G2"}},
		Pods: []gpushare.Pod{
			{ID: "p0", Shape: shape(1, 600, 1)},
			{ID: "p1", Shape: shape(1, 600, 1)},
			{ID: "p2", Shape: shape(1, 600, 1, "G2")},
			{ID: "p3", Shape: shape(1, 500, 1, "A10")}, // no such model
			{ID: "p4", Shape: shape(4, 1000, 1, "G2")}, // too few CPUs on b
			{ID: "p5", Shape: shape(1, 1000, 1)},       // 0.4 free on each of three devices
			{ID: "p6", Shape: shape(1, 1000, 2, "T4")}, // 0.8 free on a
			{ID: "p7", Shape: shape(1, 500, 1, "T4")},  // 0.8 free on a, but 0.4 a device
		},
	}
}

func TestReplaySmall(t *testing.T) {
	tr := small()
	r, err := gpushare.Replay(tr, gpushare.Config{Placement: "first-fit", Levels: []float64{0.5}}, tr.Pods)
	if err != nil {
		t.Fatal(err)
	}
	// p0 and p1 take 0.6 of each T4, p2 0.6 of the G2: 1.8 of 3 GPUs. Half
	// the capacity (1.5 GPUs) has arrived with p2.
	if len(r.Points) != 1 {
		t.Fatalf("points %+v; want one", r.Points)
	}
	p := r.Points[0]
	p.Fragmentation = 0
	if want := (gpushare.Point{Level: 0.5, Arrived: 0.6, Allocation: 0.6, Unallocated: 1.2, Pods: 3}); p != want {
		t.Errorf("at 50%% arrived: %+v; want %+v", p, want)
	}
	// p3 has no node of its model; p4 too few CPUs (b has 1 left); p5
	// and p6 too few GPUs free on any node; p7 finds 0.8 free on a, but
	// 0.4 on each device: fragmentation.
	if want := [4]int{1, 1, 2, 1}; r.Final.Pods != 8 || r.Final.Failed != 5 || r.Final.FailedBy != want {
		t.Errorf("after every pod: %d pods, %d failed by %v; want 8, 5 by %v (model, cpu, gpu, fragmentation)", r.Final.Pods, r.Final.Failed, r.Final.FailedBy, want)
	}
	// Every free milli-GPU (0.4 on each device) is lost to every pod
	// shape: all need half a GPU or more.
	if math.Abs(r.Final.Fragmentation-1) > 1e-9 {
		t.Errorf("fragmentation %v; want 1 (no pod shape fits in 0.4 of a GPU)", r.Final.Fragmentation)
	}
}

func TestInflate(t *testing.T) {
	tr := loadOpenb(t)
	capacity := float64(tr.GPUCapacity())
	for _, target := range []float64{0.3, 1.3} {
		pods := tr.Inflate(target, 42)
		var sum, last allocator.Quantity
		for _, p := range pods {
			sum += p.Shape.GPUs()
		}
		for i := len(pods) - 1; i >= 0 && last == 0; i-- {
			last = pods[i].Shape.GPUs()
		}
		if float64(sum) < target*capacity || float64(sum)-float64(allocator.Milli*8) >= target*capacity {
			t.Errorf("inflate to %v: %s GPUs; want at least %v and at most one pod more", target, sum, target*capacity/1000)
		}
		if !slices.IsSortedFunc(pods, func(a, b gpushare.Pod) int { return int(a.Submit - b.Submit) }) {
			t.Errorf("inflate to %v: pods not in submit order", target)
		}
		if again := tr.Inflate(target, 42); !reflect.DeepEqual(again, pods) {
			t.Errorf("inflate to %v twice with seed 42: different pods", target)
		}
		if other := tr.Inflate(target, 43); reflect.DeepEqual(other, pods) {
			t.Errorf("inflate to %v with seeds 42 and 43: the same pods", target)
		}
	}
	if n := len(tr.Inflate(1.3, 42)); n < 10700 || n > 11000 {
		t.Errorf("inflate to 130%%: %d pods; the paper's run had 10,866", n)
	}
}

func TestRunDeterministic(t *testing.T) {
	tr := loadOpenb(t)
	for _, p := range []string{"random", "fgd"} {
		cfg := gpushare.Config{Placement: p, Seed: 42, Target: 1.0}
		a, err := gpushare.Run(tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := gpushare.Run(tr, cfg)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs with seed 42 differ: %+v and %+v", p, a.Points, b.Points)
		}
	}
}

func TestRunErrors(t *testing.T) {
	tr := small()
	for _, tc := range []struct {
		cfg  gpushare.Config
		want string
	}{
		{gpushare.Config{Placement: "fgd"}, "want a share of the GPU capacity above 0"},
		{gpushare.Config{Placement: "fgd", Target: 1, Levels: []float64{0.5, 0.2}}, "increasing order"},
		{gpushare.Config{Placement: "worst-fit", Target: 1}, "want one of"},
	} {
		if _, err := gpushare.Run(tr, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v) = %v; want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}

// BenchmarkOpenbFGD is the paper's experiment: the openb default pods
// inflated to 130% of its 1,213 GPU nodes' capacity, seed 42, placed by
// FGD (the published simulator: 28.8 min on this machine type).
func BenchmarkOpenbFGD(b *testing.B) {
	tr := loadOpenb(b)
	for b.Loop() {
		if _, err := gpushare.Run(tr, gpushare.Config{Placement: "fgd", Seed: 42, Target: 1.3}); err != nil {
			b.Fatal(err)
		}
	}
}
