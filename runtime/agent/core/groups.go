package core

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// Task groups (Mesos' LAUNCH_GROUP with the DEFAULT executor): the agent
// starts every task of a group at once, each in its own cgroup and
// sandbox as any task (the executor is the agent itself: its resources
// are the master's bookkeeping, no process holds them), and when one task
// of the group fails or is killed it kills the others, as Mesos' default
// executor does. A task that finishes leaves the others running.

// groupKey names a task group on an agent: its framework and executor.
type groupKey struct{ framework, executor string }

// group is the task group of the record's task, if it is in one.
func (r *Record) group() (groupKey, bool) {
	if r.Task.Executor == nil {
		return groupKey{}, false
	}
	return groupKey{r.FrameworkID, r.Task.Executor.ExecutorID.Value}, true
}

// launchGroup takes a task group the master sent. If a task of the group
// is not valid, every task ends TASK_ERROR (REASON_TASK_GROUP_INVALID):
// a group starts whole or not at all. Tasks the agent has already are
// duplicates, and ignored.
func (c *Core) launchGroup(now time.Time, l *api.AgentLaunchGroup) {
	var launches []*api.AgentLaunchTask
	bad, exec := "", ""
	if len(l.Tasks) > 0 && l.Tasks[0].Executor != nil {
		exec = l.Tasks[0].Executor.ExecutorID.Value
	}
	for i, ti := range l.Tasks {
		one := &api.AgentLaunchTask{FrameworkID: l.FrameworkID, Framework: l.Framework, Role: l.Role, Task: ti}
		if _, _, err := c.limits(one); err != nil && bad == "" {
			bad = fmt.Sprintf("tasks[%d]: %v", i, err)
		}
		if e := ti.Executor; (e == nil || api.ValidName(e.ExecutorID.Value) != nil || e.ExecutorID.Value != exec) && bad == "" {
			bad = fmt.Sprintf("tasks[%d].executor: every task of a group names the group's executor, a valid id", i)
		}
		if c.tasks[TaskKey{l.FrameworkID, ti.TaskID.Value}] == nil {
			launches = append(launches, one)
		}
	}
	for _, one := range launches {
		if bad != "" {
			c.refuse(now, one, "REASON_TASK_GROUP_INVALID", "the task group is not valid: "+bad)
			continue
		}
		c.launch(now, one)
	}
}

// groupEnds kills the other tasks of t's group, t having failed or been
// killed.
func (c *Core) groupEnds(now time.Time, t *task) {
	g, ok := t.rec.group()
	if !ok {
		return
	}
	why := fmt.Sprintf("killed with its task group: task %s ended %s", t.rec.Task.TaskID.Value, t.rec.State)
	for _, k := range c.groups[g] {
		if s := c.tasks[k]; s != nil && s != t && !s.terminal() && !s.rec.KillAsked {
			s.rec.KillWhy = why
			c.kill(now, k)
		}
	}
}

// leaveGroup takes a forgotten task from its group.
func (c *Core) leaveGroup(t *task) {
	g, ok := t.rec.group()
	if !ok {
		return
	}
	c.groups[g] = slices.DeleteFunc(c.groups[g], func(k TaskKey) bool { return k == t.rec.Key() })
	if len(c.groups[g]) == 0 {
		delete(c.groups, g)
	}
}

func sortedGroups(m map[groupKey][]TaskKey) []groupKey {
	out := make([]groupKey, 0, len(m))
	for g := range m {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.framework, b.framework), cmp.Compare(a.executor, b.executor))
	})
	return out
}
