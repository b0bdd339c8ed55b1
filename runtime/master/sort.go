package master

import (
	"cmp"
	"slices"
)

func sortedTaskKeys[V any](m map[taskKey]V) []taskKey {
	keys := make([]taskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b taskKey) int { return cmp.Or(cmp.Compare(a.fw, b.fw), cmp.Compare(a.task, b.task)) })
	return keys
}
