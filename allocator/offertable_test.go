package allocator

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyOfferTable: whatever offers are added and removed, the table
// finds what a map would and lists it in id order, and its window stays
// within a few times the offers it holds.
func TestPropertyOfferTable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var tab offerTable
		want := map[OfferID]*offer{}
		next := OfferID(1)
		for range rapid.IntRange(1, 2000).Draw(t, "ops") {
			if len(want) == 0 || rapid.IntRange(0, 2).Draw(t, "op") > 0 {
				o := &offer{id: next}
				next++
				tab.add(o)
				want[o.id] = o
			} else {
				ids := sortedKeys(want)
				// the oldest, as offers mostly end, or any: stragglers stay
				id := ids[rapid.IntRange(0, len(ids)-1).Draw(t, "which")*rapid.IntRange(0, 1).Draw(t, "old")]
				tab.remove(id)
				delete(want, id)
			}
			for id := range next + 1 {
				if got := tab.get(id); got != want[id] {
					t.Fatalf("get(%d) = %v, want %v", id, got, want[id])
				}
			}
			var got []OfferID
			for _, o := range tab.sorted() {
				got = append(got, o.id)
			}
			if ids := sortedKeys(want); !slices.Equal(got, ids) {
				t.Fatalf("sorted = %v, want %v", got, ids)
			}
			if len(tab.window) > 4*tab.live+64 {
				t.Fatalf("window of %d holds %d", len(tab.window), tab.live)
			}
		}
	})
}
