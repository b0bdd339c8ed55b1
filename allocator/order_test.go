package allocator

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyRadixSort: radixSort orders distinct keys as a comparison
// sort does.
func TestPropertyRadixSort(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keys := rapid.SliceOfDistinct(rapid.Uint64(), func(k uint64) uint64 { return k }).Draw(t, "keys")
		ks := make([]keyedAgent, len(keys))
		for i, k := range keys {
			ks[i].key = k
		}
		got, _ := radixSort(ks, make([]keyedAgent, len(ks)))
		slices.Sort(keys)
		for i, k := range got {
			if k.key != keys[i] {
				t.Fatalf("at %d: %d, want %d", i, k.key, keys[i])
			}
		}
	})
}
