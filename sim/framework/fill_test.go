package framework

import (
	"slices"
	"testing"

	"github.com/apronlab/apron/allocator"
	"pgregory.net/rapid"
)

// TestPropertyTakeAsTake: filling an offer task by task fits exactly the
// tasks Take fits, and leaves what Take leaves, whether the offer and tasks
// have devices or not (plain ones are followed by sums).
func TestPropertyTakeAsTake(t *testing.T) {
	entry := rapid.Custom(func(t *rapid.T) allocator.Resource {
		return allocator.Resource{Name: rapid.SampledFrom([]string{"cpus", "mem", "gpus"}).Draw(t, "name"),
			Role:  rapid.SampledFrom([]string{"", "r"}).Draw(t, "role"),
			Value: allocator.Quantity(rapid.IntRange(0, 4000).Draw(t, "value"))}
	})
	devices := []allocator.Resources{
		allocator.MustParseResources("gpus[V100M16:0]:1;gpus[V100M16:1]:0.5"),
		allocator.MustParseResources("gpus[*]:1"),
		allocator.MustParseResources("gpus[V100M16]:0.5"),
	}
	bag := func(t *rapid.T, label string) allocator.Resources {
		r := allocator.Resources(rapid.SliceOfN(entry, 0, 4).Draw(t, label))
		if rapid.IntRange(0, 5).Draw(t, label+" devices") == 0 {
			r = append(r, rapid.SampledFrom(devices).Draw(t, label+" device")...)
		}
		return r
	}
	rapid.Check(t, func(t *rapid.T) {
		b := &Batch{}
		o := Offer{Resources: bag(t, "offer")}
		f := b.newFill(o)
		left := o.Resources
		for i := range rapid.IntRange(1, 8).Draw(t, "tasks") {
			need := bag(t, "need")
			rest, _, want := Take(left, need)
			if got := b.take(&f, need); got != want {
				t.Fatalf("task %d: %s from %s: take says %v, Take %v", i, need, left, got, want)
			}
			if want {
				left = rest
				f.launch = append(f.launch, Task{Resources: need})
			}
		}
		// A need with a device (of none) makes it follow what is left entry
		// by entry.
		none := allocator.Resources{{Name: "gpus", Device: "V100M16", Value: 0}}
		left, _, _ = Take(left, none)
		if !b.take(&f, none) || f.sums || !slices.Equal(f.left, left) {
			t.Fatalf("left %s, want %s", f.left, left)
		}
	})
}
