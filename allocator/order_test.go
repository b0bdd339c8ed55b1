package allocator

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyRadixSort: radixSort orders distinct keys (shuffled sequence
// numbers, or the numbers themselves) as a comparison sort does.
func TestPropertyRadixSort(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 3*radixMin).Draw(t, "n")
		nonce := rapid.Uint64().Draw(t, "nonce")
		shuffled := rapid.Bool().Draw(t, "shuffled")
		ks, keys := make([]keyedAgent, n), make([]uint64, n)
		for i := range ks {
			keys[i] = nonce + uint64(n-i)
			if shuffled {
				keys[i] = splitmix64(nonce ^ uint64(i))
			}
			ks[i].key = keys[i]
		}
		got, _ := radixSort(ks, make([]keyedAgent, n))
		slices.Sort(keys)
		for i, k := range got {
			if k.key != keys[i] {
				t.Fatalf("at %d: %d, want %d", i, k.key, keys[i])
			}
		}
	})
}
