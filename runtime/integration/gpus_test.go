package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// An agent declares GPU devices; apron execute asks for half of one GPU,
// and for two whole ones: the master offers the devices, the request is
// placed on them, and each task, a real process, finds its devices in its
// environment (it fails otherwise).
func TestGPUDevicesEndToEnd(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:1024", t.TempDir(), "--gpus", "T4:0,T4:1,T4:2")
	for _, tt := range []struct{ name, resources, check string }{
		{"half", "cpus:0.5;mem:64;gpus[T4]:0.5", `test "$APRON_GPU_FRACTION" = 0.5 && test "$CUDA_VISIBLE_DEVICES" = 0`},
		{"two", "cpus:0.5;mem:64;gpus[*]:2", `test -z "$APRON_GPU_FRACTION" && case "$CUDA_VISIBLE_DEVICES" in [0-2],[0-2]) ;; *) false ;; esac`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(apronBin, "execute", "--master", c.url, "--name", tt.name, "--command", tt.check+` || { env; exit 9; }`,
				"--resources", tt.resources, "--timeout", "60s").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "TASK_FINISHED") {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}
