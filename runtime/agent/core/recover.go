package core

import (
	"slices"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// recover takes back what an agent checkpointed before it restarted:
// a task whose process still runs keeps running (its shell watches it);
// one whose process ended gets its true terminal state from its exit; one
// never started fails (REASON_AGENT_RESTARTED); pending updates survive,
// to be sent once registered. Sandboxes of no task are collected after
// the GC delay from when they last changed.
func (c *Core) recover(now time.Time, rec Recovery) {
	tasks := slices.Clone(rec.Tasks)
	slices.SortStableFunc(tasks, func(a, b Recovered) int { return a.Record.Key().compare(b.Record.Key()) })
	for i, r := range tasks {
		if i+1 < len(tasks) && tasks[i+1].Record.Key() == r.Record.Key() {
			continue // the last record of a task counts
		}
		c.recoverTask(now, r)
	}
	for _, g := range sortedGroups(c.groups) {
		for _, k := range c.groups[g] {
			if t := c.tasks[k]; t.rec.State == TaskFailed || t.rec.State == TaskKilled {
				c.groupEnds(now, t) // it ended while the agent was down
				break
			}
		}
	}
	for _, s := range rec.Sandboxes {
		if c.tasks[s.Task] == nil && hasSandbox(s.Task) {
			c.collect(s.Task, s.Modified.Add(c.cfg.GCDelay))
		}
	}
}

func (c *Core) recoverTask(now time.Time, r Recovered) {
	t := &task{rec: *r.Record.clone()}
	k := t.rec.Key()
	c.add(t)
	if len(t.rec.Pending) > 0 {
		c.queued[k] = true
		c.unsent[k] = true
	}
	switch {
	case t.terminal() && len(t.rec.Pending) == 0:
		c.forget(now, t) // its end was acknowledged just before the restart
	case t.terminal():
	case t.rec.Pid == 0:
		c.update(now, t, TaskFailed, api.ReasonAgentRestarted, "the agent restarted before it recorded the task's process, and killed the process if it had started")
	case r.Alive:
		if t.rec.KillAsked {
			c.terminate(now, t)
		}
	default:
		c.end(now, t, r.Exit)
	}
}
