package core

import (
	"container/heap"
	"slices"
	"time"
)

// schedule is a min-heap of task timers (SIGKILLs, update retries,
// sandbox collections), ordered by time then task. An entry is checked
// when it comes due: one whose timer was moved or cancelled is dropped
// then, so moving or cancelling costs nothing, and Deadline and Tick stay
// O(log n) with many tasks.
type schedule []entry

type entry struct {
	at  time.Time
	key TaskKey
}

func (s schedule) Len() int { return len(s) }
func (s schedule) Less(i, j int) bool {
	if !s[i].at.Equal(s[j].at) {
		return s[i].at.Before(s[j].at)
	}
	return s[i].key.compare(s[j].key) < 0
}
func (s schedule) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s *schedule) Push(x any)   { *s = append(*s, x.(entry)) }
func (s *schedule) Pop() any {
	old := *s
	e := old[len(old)-1]
	*s = old[:len(old)-1]
	return e
}

func (s *schedule) add(at time.Time, k TaskKey) { heap.Push(s, entry{at, k}) }

// next is the earliest time in the schedule (maybe of a stale entry);
// zero if empty.
func (s schedule) next() time.Time {
	if len(s) == 0 {
		return time.Time{}
	}
	return s[0].at
}

// due pops the entries due at now and returns, in order and once each,
// the tasks of those still current (live says whether an entry is).
func (s *schedule) due(now time.Time, live func(entry) bool) []TaskKey {
	var out []TaskKey
	for len(*s) > 0 && !now.Before((*s)[0].at) {
		if e := heap.Pop(s).(entry); live(e) {
			out = append(out, e.key)
		}
	}
	slices.SortFunc(out, TaskKey.compare)
	return slices.Compact(out)
}
