package faultsim

import (
	"cmp"
	"slices"
	"strconv"

	acore "github.com/apronlab/apron/runtime/agent/core"
)

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedTaskKeys[V any](m map[acore.TaskKey]V) []acore.TaskKey {
	keys := make([]acore.TaskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b acore.TaskKey) int {
		return cmp.Or(cmp.Compare(a.Framework, b.Framework), cmp.Compare(a.Task, b.Task))
	})
	return keys
}

func sortedProcKeys(m map[procKey]*proc) []procKey {
	keys := make([]procKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b procKey) int {
		return cmp.Or(cmp.Compare(a.agent, b.agent), cmp.Compare(a.task.Framework, b.task.Framework), cmp.Compare(a.task.Task, b.task.Task))
	})
	return keys
}

func taskKey(fw, task string) acore.TaskKey { return acore.TaskKey{Framework: fw, Task: task} }

func itoa(n int) string { return strconv.Itoa(n) }
