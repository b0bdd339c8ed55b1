package agent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/api"
)

func TestGPUs(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "", ""},
		{"none", "", ""},
		{"T4:0,T4:1", "gpus[T4:0]:1;gpus[T4:1]:1", ""},
		{"T4, T4, A10", "gpus[T4:0]:1;gpus[T4:1]:1;gpus[A10:2]:1", ""},
		{"V100M16:3,V100M16", "gpus[V100M16:3]:1;gpus[V100M16:4]:1", ""},
		{"0,1", "gpus[0]:1;gpus[1]:1", ""},
		{"T4:0,T4:0", "", "listed twice"},
		{"T4|A10", "", "names no one model"},
		{"*", "", "names no one model"},
		{"9x", "", "device 1"},
	} {
		got, err := GPUs(tc.in)
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) || tc.err == "" && (err != nil || got.String() != tc.want) {
			t.Errorf("GPUs(%q) = %q, %v; want %q, error %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseNvidiaSMI(t *testing.T) {
	out := "0, Tesla T4\n1, Tesla T4\n2, NVIDIA A100-SXM4-40GB\n"
	got, err := parseNvidiaSMI(out)
	if want := "gpus[Tesla-T4:0]:1;gpus[Tesla-T4:1]:1;gpus[NVIDIA-A100-SXM4-40GB:2]:1"; err != nil || got.String() != want {
		t.Errorf("parseNvidiaSMI = %q, %v; want %q", got, err, want)
	}
	if _, err := parseNvidiaSMI("garbage"); err == nil {
		t.Error("parseNvidiaSMI(garbage) = nil error")
	}
}

// A task is told its GPU devices in its environment, over what its
// command says, and a task of none is told nothing: real processes.
func TestTaskToldItsGPUs(t *testing.T) {
	nobody(t)
	gpus, err := GPUs("T4:0,T4:1,T4:2")
	if err != nil {
		t.Fatal(err)
	}
	la := startAgent(t, traversable(t, t.TempDir()), func(o *Options) { o.Resources = o.Resources.Add(gpus) })
	la.m.mu.Lock()
	sub := fmt.Sprint(la.m.subscribes[0])
	la.m.mu.Unlock()
	if !strings.Contains(sub, "T4:2") {
		t.Errorf("the agent subscribed with %s; want its devices", sub)
	}
	gpu := func(dev string, v float64) api.Resource {
		return api.Resource{Name: "gpus", Type: "SCALAR", Scalar: api.Scalar{Value: v}, Device: dev}
	}
	show := `echo "[$CUDA_VISIBLE_DEVICES] [$APRON_GPU_FRACTION] [$CUDA_DEVICE_ORDER]"`
	for _, tc := range []struct {
		task string
		res  []api.Resource
		want string
	}{
		{"half", append(mem(64), gpu("T4:1", 0.5)), "[1] [0.5] [PCI_BUS_ID]"},
		{"two", append(mem(64), gpu("T4:2", 1), gpu("T4:0", 1)), "[0,2] [] [PCI_BUS_ID]"},
		{"none", mem(64), "[] [] []"},
	} {
		la.m.launchCommand(tc.task, api.CommandInfo{Value: show, Environment: &api.Environment{
			Variables: []api.EnvVariable{{Name: "CUDA_VISIBLE_DEVICES", Value: "9"}}}}, tc.res)
		if s := la.ended(tc.task); s.State != "TASK_FINISHED" {
			t.Fatalf("task %s ended %+v", tc.task, s)
		}
		want := tc.want
		if tc.task == "none" {
			want = "[9] [] []" // the command's own, no device given
		}
		if _, out := la.get(t, "/sandbox/fw/"+tc.task+"/stdout"); strings.TrimSpace(out) != want {
			t.Errorf("task %s printed %q; want %q", tc.task, out, want)
		}
	}
}
