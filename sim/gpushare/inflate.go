package gpushare

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/apronlab/apron/allocator"
)

// Inflate draws the workload of one experiment: pods of the trace, seeded,
// until their GPU requests reach target times the cluster's GPU capacity,
// in submit order. Below what the trace asks, it is a random subset of the
// trace's pods; above, every pod of the trace and copies of pods drawn
// with replacement (each submitted with its original, after it; its id
// the original's with "~n"), as the paper's simulator inflates openb.
func (t *Trace) Inflate(target float64, seed uint64) []Pod {
	want := allocator.Quantity(math.Ceil(target * float64(t.GPUCapacity())))
	rng := rand.New(rand.NewPCG(seed, 0x696e666c))
	var total allocator.Quantity
	for _, p := range t.Pods {
		total += p.Shape.GPUs()
	}
	var out []Pod
	if total <= want {
		out = slices.Clone(t.Pods)
		for n := 0; total < want; n++ {
			p := t.Pods[rng.IntN(len(t.Pods))]
			p.ID = fmt.Sprintf("%s~%d", p.ID, n)
			out = append(out, p)
			total += p.Shape.GPUs()
		}
	} else {
		chosen := make([]bool, len(t.Pods))
		var sum allocator.Quantity
		for _, i := range rng.Perm(len(t.Pods)) {
			if sum >= want {
				break
			}
			chosen[i], sum = true, sum+t.Pods[i].Shape.GPUs()
		}
		for i, p := range t.Pods {
			if chosen[i] {
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Pod) int { return cmp.Compare(a.Submit, b.Submit) })
	return out
}
