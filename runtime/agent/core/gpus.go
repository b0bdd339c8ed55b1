package core

import (
	"slices"
	"strconv"
	"strings"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// gpuEnv tells a task its GPU devices: CUDA_VISIBLE_DEVICES lists the
// indices of the devices its resources are on (CUDA_DEVICE_ORDER=PCI_BUS_ID,
// so that CUDA numbers them as nvidia-smi does), and APRON_GPU_FRACTION
// the share of the device it holds when it holds part of one (0.5). A task
// with no devices is told nothing. They come after the command's own
// variables, so a task cannot claim devices it was not given.
func gpuEnv(res allocator.Resources) []api.EnvVariable {
	var idx []int
	var held allocator.Quantity
	for _, e := range res {
		d, ok := e.Dev()
		if e.Name != "gpus" || !ok || !d.Placed() {
			continue
		}
		if !slices.Contains(idx, d.Index) {
			idx = append(idx, d.Index)
		}
		held += e.Value
	}
	if len(idx) == 0 {
		return nil
	}
	slices.Sort(idx)
	list := make([]string, len(idx))
	for i, n := range idx {
		list[i] = strconv.Itoa(n)
	}
	env := []api.EnvVariable{{Name: "CUDA_DEVICE_ORDER", Value: "PCI_BUS_ID"}, {Name: "CUDA_VISIBLE_DEVICES", Value: strings.Join(list, ",")}}
	if len(idx) == 1 && held < allocator.Milli {
		env = append(env, api.EnvVariable{Name: "APRON_GPU_FRACTION", Value: held.String()})
	}
	return env
}
