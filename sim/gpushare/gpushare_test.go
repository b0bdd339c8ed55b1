package gpushare_test

import (
	"fmt"
	"testing"

	"github.com/apronlab/apron/sim/gpushare"
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

func TestOpenbPrint(t *testing.T) {
	tr := loadOpenb(t)
	fmt.Println(len(tr.Nodes), tr.GPUCapacity(), len(tr.Pods), len(tr.Workload()), len(tr.Inflate(1.3, 42)))
	for _, p := range []string{"fgd", "random", "best-fit", "gpu-packing", "gpu-clustering", "dot-product", "first-fit"} {
		r, err := gpushare.Run(tr, gpushare.Config{Placement: p, Seed: 42, Target: 1.3})
		if err != nil {
			t.Fatal(err)
		}
		last := r.Points[len(r.Points)-1]
		fmt.Printf("%s %+v\n", p, last)
	}
}
