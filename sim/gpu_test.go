package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apronlab/apron/sim"
)

// A GPU of devices holds one 0.6 share at a time: six such tasks on two
// devices run in three waves, where two GPUs as one amount run three at
// once. The same with every placement, and with none (the device rules).
func TestGPUDevicesPlaced(t *testing.T) {
	for _, placement := range []string{"", "fgd", "best-fit", "random"} {
		for _, gpus := range []string{"gpus[T4]:2", "gpus:2"} {
			cfg, err := sim.ParseConfig("gpu.yaml", strings.NewReader(fmt.Sprintf(`
cluster:
  - {name: node, count: 1, resources: "cpus:16;mem:16384;%s"}
frameworks:
  - name: f
    role: r
    kind: batch
    placement: %q
    decision: {job: 0s, task: 0s}
    jobs:
      - {tasks: 6, task: "cpus:1;mem:1024;gpus[*]:0.6", duration: 10s}
`, gpus, placement)))
			if err != nil {
				t.Fatal(err)
			}
			_, sum := run(t, cfg)
			waves := 2.0
			if strings.Contains(gpus, "[") {
				waves = 3
			}
			if f := fwSummary(sum, "f"); f.Completed != 1 || sum.Makespan < 10*waves || sum.Makespan >= 10*(waves+1) {
				t.Errorf("placement %q on %s: %d jobs completed, makespan %.1f s; want 1 in %v waves of 10 s", placement, gpus, f.Completed, sum.Makespan, waves)
			}
		}
	}
}

func TestPlacementConfigErrors(t *testing.T) {
	for _, tc := range []struct{ kind, placement, want string }{
		{"batch", "worst-fit", "want one of"},
		{"gang", "fgd", "want kind batch"},
	} {
		_, err := sim.ParseConfig("p.yaml", strings.NewReader(fmt.Sprintf(`
cluster:
  - {name: node, count: 1, resources: "cpus:16;mem:16384"}
frameworks:
  - {name: f, role: r, kind: %s, placement: %s, jobs: [{tasks: 1, task: "cpus:1", duration: 1s}]}
`, tc.kind, tc.placement)))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "placement") {
			t.Errorf("%s with placement %s: %v; want an error on placement containing %q", tc.kind, tc.placement, err, tc.want)
		}
	}
}
