package core

import (
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
)

func TestGPUEnv(t *testing.T) {
	for _, tc := range []struct{ res, want string }{
		{"cpus:1;mem:64", ""},
		{"cpus:1;gpus:1", ""}, // GPUs that are not devices
		{"cpus:1;gpus[T4:3]:0.5", "CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=3 APRON_GPU_FRACTION=0.5"},
		{"gpus[T4:3]:1", "CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=3"},
		{"gpus[G2:7]:1;gpus[G2:0]:1;gpus[G2:10]:1", "CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0,7,10"},
		{"gpus(ml)[2]:0.25;gpus[2]:0.25", "CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=2 APRON_GPU_FRACTION=0.5"},
	} {
		var got []string
		for _, v := range gpuEnv(allocator.MustParseResources(tc.res)) {
			got = append(got, v.Name+"="+v.Value)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("gpuEnv(%s) = %s; want %s", tc.res, got, tc.want)
		}
	}
}
