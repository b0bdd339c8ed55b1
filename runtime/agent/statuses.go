package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/runtime/api"
)

// update records a new status of a task, checkpoints it and queues it for
// the master. Called with a.mu held.
func (a *Agent) update(r *run, state, reason, msg string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := api.TaskStatus{TaskID: r.rec.Task.TaskID, State: state, Reason: reason, Message: msg, Source: "SOURCE_AGENT",
		AgentID: &api.ID{Value: a.opts.Name}, UUID: hex.EncodeToString(b[:]), Timestamp: float64(time.Now().UnixNano()) / 1e9}
	r.rec.State = state
	r.rec.Pending = append(r.rec.Pending, s)
	a.save(r)
	a.poke()
}

func (a *Agent) save(r *run) {
	if err := a.store.save(&r.rec); err != nil {
		a.opts.Log.Error("checkpoint", "task", r.rec.key(), "err", err)
	}
}

func (a *Agent) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// sendStatuses sends each task's oldest unacknowledged status, in one call
// for every task that has one due: at once when new, again after the retry
// interval, doubling up to 10s, until the master acknowledges it.
func (a *Agent) sendStatuses(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-tick.C:
		}
		id, due := a.due()
		if id == "" || len(due) == 0 {
			continue
		}
		a.post(ctx, api.AgentCall{Type: api.AgentCallStatus, AgentID: id, Statuses: due})
	}
}

func (a *Agent) due() (string, []api.AgentStatus) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.id == "" {
		return "", nil
	}
	now := time.Now()
	var due []*run // sorted below: only the few with an update due, not every task, every tick
	for _, r := range a.tasks {
		if len(r.rec.Pending) > 0 && !now.Before(r.nextSend) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(x, y *run) int { return strings.Compare(x.rec.key(), y.rec.key()) })
	var out []api.AgentStatus
	for _, r := range due {
		out = append(out, api.AgentStatus{FrameworkID: r.rec.FrameworkID, Status: r.rec.Pending[0]})
		r.backoff = min(max(2*r.backoff, a.opts.Retry), 10*time.Second)
		r.nextSend = now.Add(r.backoff)
	}
	return a.id, out
}

// acked drops an acknowledged status; a task that ended and has nothing
// left to send is forgotten.
func (a *Agent) acked(ack *api.AgentAckStatus) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.tasks[ack.FrameworkID+"/"+ack.TaskID]
	if r == nil {
		return
	}
	i := slices.IndexFunc(r.rec.Pending, func(s api.TaskStatus) bool { return s.UUID == ack.UUID })
	if i < 0 {
		return
	}
	r.rec.Pending = slices.Delete(r.rec.Pending, i, i+1)
	r.backoff, r.nextSend = 0, time.Time{}
	if len(r.rec.Pending) == 0 && r.ended {
		delete(a.tasks, r.rec.key())
		if err := a.store.remove(&r.rec); err != nil {
			a.opts.Log.Error("checkpoint", "task", r.rec.key(), "err", err)
		}
		a.compact()
		return
	}
	a.save(r)
	a.poke()
}

// compact rewrites the checkpoint journal with only the live tasks once
// it has grown long. Called with a.mu held.
func (a *Agent) compact() {
	if !a.store.tooLong() {
		return
	}
	recs := make([]*record, 0, len(a.tasks))
	for _, k := range sorted.Keys(a.tasks) {
		recs = append(recs, &a.tasks[k].rec)
	}
	if err := a.store.rewrite(recs); err != nil {
		a.opts.Log.Error("checkpoint", "err", err)
	}
}
