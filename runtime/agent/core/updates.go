package core

import (
	"slices"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// flush sends, once registered, the oldest update of every task whose
// update is due (new, or its retry time has come), in one STATUS call:
// each with latest_state, the state of the newest update queued behind it.
func (c *Core) flush(now time.Time) {
	if c.conn.state != registered {
		return
	}
	due := c.retries.due(now, func(e entry) bool { t := c.tasks[e.key]; return t != nil && c.queued[e.key] && t.nextSend.Equal(e.at) })
	for k := range c.unsent {
		due = append(due, k)
	}
	clear(c.unsent)
	if len(due) == 0 {
		return
	}
	slices.SortFunc(due, TaskKey.compare)
	due = slices.Compact(due)
	call := api.AgentCall{Type: api.AgentCallStatus, AgentID: c.conn.agentID}
	for _, k := range due {
		t := c.tasks[k]
		p := t.rec.Pending
		s := api.AgentStatus{FrameworkID: k.Framework, Status: p[0]}
		if len(p) > 1 {
			s.LatestState = p[len(p)-1].State
		}
		call.Statuses = append(call.Statuses, s)
		t.backoff = min(max(2*t.backoff, c.cfg.RetryMin), c.cfg.RetryMax)
		t.nextSend = now.Add(t.backoff)
		c.retries.add(t.nextSend, k)
	}
	c.messages = append(c.messages, Message{Gen: c.conn.gen, Call: call})
}

// ack drops the acknowledged update (an unknown uuid is ignored) and
// sends the next one at once; a task whose terminal update is
// acknowledged is forgotten.
func (c *Core) ack(now time.Time, k TaskKey, uuid api.UUID) {
	t := c.tasks[k]
	if t == nil {
		return
	}
	i := slices.IndexFunc(t.rec.Pending, func(s api.TaskStatus) bool { return s.UUID == uuid })
	if i < 0 {
		return
	}
	t.rec.Pending = slices.Delete(t.rec.Pending, i, i+1)
	c.markDirty(k)
	switch {
	case len(t.rec.Pending) == 0 && t.terminal():
		c.forget(now, t)
	case len(t.rec.Pending) == 0:
		delete(c.queued, k)
		delete(c.unsent, k)
	case i == 0:
		c.resend(t, true)
	}
}

// forget drops a task whose end is acknowledged: its record is removed
// and its sandbox collected after the GC delay (Mesos' --gc_delay).
func (c *Core) forget(now time.Time, t *task) {
	k := t.rec.Key()
	delete(c.tasks, k)
	delete(c.queued, k)
	delete(c.unsent, k)
	c.leaveGroup(t)
	if f := c.frameworks[k.Framework]; f != nil {
		if f.tasks--; f.tasks == 0 {
			delete(c.frameworks, k.Framework)
		}
	}
	c.markDirty(k)
	if hasSandbox(k) {
		c.collect(k, now.Add(c.cfg.GCDelay))
	}
}

// hasSandbox says whether a task's ids name a sandbox (the agent makes
// none for others).
func hasSandbox(k TaskKey) bool {
	return api.ValidName(k.Framework) == nil && api.ValidName(k.Task) == nil
}
