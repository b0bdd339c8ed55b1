package allocator

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestPropertyFilterSet: whatever the puts and deletes, in sorted or table
// form, a filter set holds what a map would, walks it in client order, and
// the clients without a filter are the others.
func TestPropertyFilterSet(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clients := rapid.IntRange(1, 200).Draw(t, "clients")
		tableAt := rapid.IntRange(1, 40).Draw(t, "tableAt")
		var s filterSet
		want := map[int32]filter{}
		for i := range rapid.IntRange(1, 300).Draw(t, "ops") {
			c := int32(rapid.IntRange(0, clients-1).Draw(t, "client"))
			if rapid.IntRange(0, 2).Draw(t, "op") == 0 {
				s.del(c)
				delete(want, c)
			} else {
				f := filter{expires: int64(i), refused: uint16(i % 7), strong: i%2 == 0}
				s.put(c, f, clients, tableAt)
				want[c] = f
			}
			if s.n != len(want) {
				t.Fatalf("n = %d, want %d", s.n, len(want))
			}
			for k := range int32(clients) {
				got, w := s.get(k), want[k]
				if _, ok := want[k]; ok != (got != nil) || got != nil && *got != w {
					t.Fatalf("get(%d) = %v, want %v (present %v)", k, got, w, ok)
				}
			}
		}
		if got, w := s.clients(), slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
			t.Fatalf("clients() = %v, want %v", got, w)
		}
		if s.table != nil {
			var without []int32
			s.eachWithout(clients, func(i int) { without = append(without, int32(i)) })
			for _, c := range without {
				if _, ok := want[c]; ok {
					t.Fatalf("eachWithout gave %d, which has a filter", c)
				}
			}
			if len(without)+len(want) != clients {
				t.Fatalf("eachWithout gave %d clients, want %d", len(without), clients-len(want))
			}
		}
	})
}

// TestDeclineAllTableAndScanExact runs the Mesos DeclineOffers pattern at a
// scale where filters move to tables and cycles pick by scanning (every
// framework declines every offer with a long filter, until every one has
// filtered every agent), beside a twin that keeps sorted filters, walks the
// order and visits every agent: the offers must be the same, cycle by cycle.
func TestDeclineAllTableAndScanExact(t *testing.T) {
	const agents, frameworks = 60, 40
	build := func(plain bool) *Allocator {
		a, err := New(Config{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if plain {
			a.noIdleCache, a.tableMin = true, math.MaxInt
		}
		for i := range frameworks {
			if err := a.AddFramework(FrameworkID(fmt.Sprintf("fw%02d", i)), "r"); err != nil {
				t.Fatal(err)
			}
		}
		for i := range agents {
			if err := a.AddAgent(AgentInfo{ID: AgentID(fmt.Sprintf("s%02d", i))}, MustParseResources("cpus:8;mem:1024")); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	fast, plain := build(false), build(true)
	now := time.Unix(0, 0)
	scanned := false
	for cycle := range frameworks + 3 {
		now = now.Add(time.Second)
		got, want := fast.Allocate(now).Offers, plain.Allocate(now).Offers
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("cycle %d: offers differ:\n%v\n%v", cycle, got, want)
		}
		for _, o := range got {
			if err := fast.Decline(o.ID, time.Hour, now); err != nil {
				t.Fatal(err)
			}
			if err := plain.Decline(o.ID, time.Hour, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, ag := range fast.agents {
			scanned = scanned || fast.fewUnfiltered(ag)
		}
	}
	if !scanned {
		t.Fatal("no cycle picked by scanning: the test does not reach the case it checks")
	}
}

// TestPropertyStrongBits: in table form, the bitset of strong filters says
// of every client what its filter says, through puts, deletes and setStrong.
func TestPropertyStrongBits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clients := rapid.IntRange(1, 200).Draw(t, "clients")
		var s filterSet
		for i := range rapid.IntRange(1, 300).Draw(t, "ops") {
			c := int32(rapid.IntRange(0, clients-1).Draw(t, "client"))
			switch f := s.get(c); {
			case rapid.IntRange(0, 2).Draw(t, "op") == 0:
				s.del(c)
			case f != nil && rapid.Bool().Draw(t, "set"):
				s.setStrong(c, f, !f.strong)
			default:
				s.put(c, filter{expires: int64(i), strong: i%2 == 0}, clients, 8)
			}
			for k := range int32(clients) {
				f := s.get(k)
				if want := s.table != nil && f != nil && f.strong; s.isStrong(k) != want {
					t.Fatalf("isStrong(%d) = %v, want %v", k, !want, want)
				}
			}
		}
	})
}
