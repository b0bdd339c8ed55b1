package chaos

import (
	"slices"
	"time"

	"github.com/apronlab/apron/internal/sorted"
	"github.com/apronlab/apron/runtime/api"
)

// The framework's workload: launching due tasks on offers, killing,
// acknowledging, reconciling, and the faults that change its calls.

// terminal says whether a task state is final.
func terminal(state string) bool {
	switch state {
	case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR":
		return true
	}
	return false
}

// reconciliation says whether a status answers a RECONCILE (or a KILL of
// a task the master does not know), rather than being a new update.
func reconciliation(s api.TaskStatus) bool {
	return s.UUID == "" && s.Reason == "REASON_RECONCILIATION"
}

// rejection says whether a status refuses a launch: the master's
// TASK_DROPPED or TASK_ERROR, with no uuid, or the TASK_LOST with
// REASON_INVALID_OFFERS that Mesos sends a framework that is not
// partition aware for a launch on a bad offer.
func rejection(s api.TaskStatus) bool {
	return s.UUID == "" && (s.State == "TASK_DROPPED" || s.State == "TASK_ERROR" ||
		s.State == "TASK_LOST" && s.Reason == api.ReasonInvalidOffers)
}

func (f *framework) elapsed() time.Duration { return time.Since(f.start) }

// tick does what is due: subscribe again, acknowledge after a pause,
// kill, launch, send stale accepts.
func (f *framework) tick() {
	now := time.Now()
	if !f.subscribed {
		if !f.connecting && !f.reconnectAt.IsZero() && !now.Before(f.reconnectAt) {
			f.connect()
		}
		return
	}
	if len(f.pendingAcks) > 0 && !now.Before(f.ackPaused) {
		acks := f.pendingAcks
		f.pendingAcks = nil
		for _, s := range acks {
			f.ack(s)
		}
	}
	for _, id := range sorted.Keys(f.tasks) {
		t := f.tasks[id]
		if t.spec.KillAfter > 0 && !t.accepted.IsZero() && !t.done && !t.killed &&
			now.Sub(t.accepted) >= t.spec.KillAfter && !now.Before(t.killRetry) {
			f.kill(t)
		}
	}
	stale := f.stale
	f.stale = nil
	for _, fault := range stale {
		f.staleAccept(fault)
	}
	f.launchDue()
	f.reconcileSilent(now)
}

// kill asks the master to kill a task, again later if it was not taken.
func (f *framework) kill(t *ftask) {
	code, err := f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: t.spec.ID}}})
	t.killed = err == nil && code == 202
	t.killRetry = time.Now().Add(500 * time.Millisecond)
}

// due lists the regular tasks to launch now.
func (f *framework) due() []*ftask {
	var out []*ftask
	for _, t := range f.order {
		if t.attempts == 0 && t.spec.At <= f.elapsed() {
			out = append(out, t)
		}
	}
	return out
}

// launchDue launches due tasks on the offers held, declines the offers
// not needed, and revives when tasks wait without offers.
func (f *framework) launchDue() {
	due := f.due()
	_, dupOffers := f.next[DupOfferIDs]
	for _, id := range sorted.Keys(f.offers) {
		o := f.offers[id]
		delete(f.offers, id)
		var fit []*ftask
		cpus, mem := offered(o)
		for _, t := range due {
			if t.attempts == 0 && t.spec.CPUs <= cpus+1e-9 && t.spec.Mem <= mem+1e-9 {
				fit = append(fit, t)
				cpus, mem = cpus-t.spec.CPUs, mem-t.spec.Mem
				t.attempts = -1 // taken by this offer
			}
		}
		if len(fit) == 0 && !dupOffers {
			refuse := refuseSeconds
			f.used = append(f.used, o)
			f.call(api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{o.ID}, Filters: &api.Filters{RefuseSeconds: &refuse}}})
			continue
		}
		f.accept(o, fit)
		dupOffers = false
	}
	if len(f.due()) > 0 && time.Since(f.lastRevive) > time.Second {
		f.lastRevive = time.Now()
		f.call(api.Call{Type: api.CallRevive, Revive: &api.Roles{}})
	}
}

func offered(o api.Offer) (cpus, mem float64) {
	for _, r := range o.Resources {
		switch r.Name {
		case "cpus":
			cpus += r.Scalar.Value
		case "mem":
			mem += r.Scalar.Value
		}
	}
	return cpus, mem
}

func taskInfo(t TaskSpec, agent api.ID) api.TaskInfo {
	return api.TaskInfo{Name: t.ID, TaskID: api.ID{Value: t.ID}, AgentID: agent, Command: &api.CommandInfo{Value: Script(t)},
		Resources: []api.Resource{{Name: "cpus", Type: "SCALAR", Scalar: api.Scalar{Value: t.CPUs}}, {Name: "mem", Type: "SCALAR", Scalar: api.Scalar{Value: t.Mem}}}}
}

// accept launches tasks on an offer, as the pending ACCEPT faults say:
// sent twice, with its first task twice, or naming the offer twice with
// extra tasks for more than the offer holds.
func (f *framework) accept(o api.Offer, tasks []*ftask) {
	offers := []api.ID{o.ID}
	var infos []api.TaskInfo
	for _, t := range tasks {
		infos = append(infos, taskInfo(t.spec, o.AgentID))
	}
	if fault, ok := f.take(DupOfferIDs); ok {
		offers = append(offers, o.ID)
		for _, id := range fault.Tasks {
			t := f.tasks[id]
			tasks = append(tasks, t)
			infos = append(infos, taskInfo(t.spec, o.AgentID))
		}
	}
	if _, ok := f.take(DupTaskID); ok && len(tasks) > 0 {
		tasks = append(tasks, tasks[0])
		infos = append(infos, infos[0])
	}
	sends := 1
	if _, ok := f.take(DupAccept); ok && len(tasks) > 0 {
		sends = 2
	}
	f.used = append(f.used, o)
	refuse := refuseSeconds
	call := api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: offers, Filters: &api.Filters{RefuseSeconds: &refuse},
		Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}}}
	for _, t := range tasks {
		t.attempts = max(t.attempts, 0)
	}
	for range sends {
		code, err := f.call(call)
		f.launched(tasks, code, err)
	}
	for _, t := range tasks {
		t.agent = o.AgentID.Value
	}
}

// take removes and returns a pending ACCEPT fault.
func (f *framework) take(k FaultKind) (Fault, bool) {
	fault, ok := f.next[k]
	delete(f.next, k)
	return fault, ok
}

// launched books an ACCEPT's answer: refused tasks wait for another offer.
func (f *framework) launched(tasks []*ftask, code int, err error) {
	for _, t := range tasks {
		switch {
		case refused(code, err):
		case err != nil:
			t.attempts++
			t.launchedAt = time.Now()
			t.uncertain = true
		default:
			t.attempts++
			t.launchedAt = time.Now()
			if t.accepted.IsZero() {
				t.accepted = time.Now()
			}
		}
	}
}

// staleAccept launches a fault's tasks on an offer already used (or one
// never made).
func (f *framework) staleAccept(fault Fault) {
	o := api.Offer{ID: api.ID{Value: "O999-999999"}, AgentID: api.ID{Value: "nosuch"}}
	if len(f.used) > 0 {
		o = f.used[len(f.used)-1]
	}
	var tasks []*ftask
	var infos []api.TaskInfo
	for _, id := range fault.Tasks {
		tasks = append(tasks, f.tasks[id])
		infos = append(infos, taskInfo(f.tasks[id].spec, o.AgentID))
	}
	call := api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID},
		Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}}}
	code, err := f.call(call)
	if refused(code, err) {
		f.stale = append(f.stale, fault) // the master was not there: again
		return
	}
	f.launched(tasks, code, err)
	for _, t := range tasks {
		t.agent = o.AgentID.Value
	}
}

// update handles a task's status: acknowledge it (now, or after a pause)
// and note its end.
func (f *framework) update(s api.TaskStatus) {
	if s.UUID != "" {
		if time.Now().Before(f.ackPaused) {
			f.pendingAcks = append(f.pendingAcks, s)
		} else {
			f.ack(s)
		}
	}
	t := f.tasks[s.TaskID.Value]
	switch {
	case t == nil:
	case reconciliation(s):
		t.answered = t.answered || f.final
		t.reconciled = t.reconciled || reconciledEnd(s.State, t.heard)
	case !terminal(s.State):
		t.heard = true
	case rejection(s):
		t.rejected++
		t.done = t.done || t.rejected >= t.attempts
	default:
		t.done = true
		f.lastEnded = t.spec.ID
	}
}

// reconciledEnd says whether a reconciliation answer ends a task for its
// framework: a terminal state, or TASK_UNKNOWN (the master knows no such
// task, on no agent it knows) for a task the framework never heard of
// since its launch: an ACCEPT the master dropped without an update it
// could deliver (its offer another master's, or the master restarted),
// which Mesos leaves to reconciliation.
func reconciledEnd(state string, heard bool) bool {
	return terminal(state) || state == "TASK_UNKNOWN" && !heard
}

// reconcileSilent reconciles, every reconcileEvery, the tasks launched
// that long ago that the framework has heard nothing of: the periodic
// reconciliation Mesos asks frameworks for.
func (f *framework) reconcileSilent(now time.Time) {
	if now.Sub(f.lastReconcile) < reconcileEvery {
		return
	}
	for _, id := range sorted.Keys(f.tasks) {
		t := f.tasks[id]
		if t.attempts > 0 && !t.done && !t.reconciled && !t.heard && now.Sub(t.launchedAt) >= reconcileEvery {
			f.reconcile(false)
			return
		}
	}
}

const reconcileEvery = 5 * time.Second

func (f *framework) ack(s api.TaskStatus) {
	agent := api.ID{}
	if s.AgentID != nil {
		agent = *s.AgentID
	}
	c := api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: agent, TaskID: s.TaskID, UUID: s.UUID}}
	f.call(c)
	if time.Now().Before(f.dupAcks) {
		f.call(c)
	}
}

// reconcile asks for the state of the tasks launched and not known ended
// (all launched ones for the final one); none: an implicit RECONCILE.
func (f *framework) reconcile(all bool) {
	f.lastReconcile = time.Now()
	var ids []api.ReconcileTask
	for _, id := range sorted.Keys(f.tasks) {
		t := f.tasks[id]
		if t.attempts > 0 && (all || !t.done) {
			rt := api.ReconcileTask{TaskID: api.ID{Value: id}}
			if t.agent != "" {
				rt.AgentID = &api.ID{Value: t.agent} // as Mesos asks: then a master that restarted can answer
			}
			ids = append(ids, rt)
		}
	}
	f.call(api.Call{Type: api.CallReconcile, Reconcile: &api.Reconcile{Tasks: ids}})
}

// inject applies a framework fault.
func (f *framework) inject(fault Fault) {
	switch fault.Kind {
	case FrameworkFailover:
		f.failover(fault.Down)
	case AckPause:
		f.ackPaused = time.Now().Add(fault.Down)
	case DupAck:
		f.dupAcks = time.Now().Add(fault.Down)
	case DupAccept, DupTaskID, DupOfferIDs:
		f.next[fault.Kind] = fault
	case StaleAccept:
		f.stale = append(f.stale, fault)
	case KillFinished:
		id := f.lastEnded
		if id == "" {
			id = f.spec.Name + "-nosuch"
		}
		if f.subscribed {
			f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: id}}})
		}
	}
}

// killOn kills the tasks on an agent that are to be killed anyway.
func (f *framework) killOn(agent string) {
	for _, id := range sorted.Keys(f.tasks) {
		t := f.tasks[id]
		if t.agent == agent && t.spec.KillAfter > 0 && !t.accepted.IsZero() && !t.done && !t.killed && f.subscribed {
			f.kill(t)
		}
	}
}

// heal ends the framework's faults: acknowledge what waits, subscribe
// again now if away.
func (f *framework) heal() {
	f.ackPaused, f.dupAcks = time.Time{}, time.Time{}
	clear(f.next)
	if !f.subscribed {
		f.reconnectAt = time.Now()
	}
}

// settled says whether every task the framework launched has ended as
// far as it knows (from an update, or a reconciliation answer: how it
// learns of a launch the master lost with its memory), and lists those
// that have not.
func (f *framework) settled() (bool, []string) {
	var open []string
	for _, id := range sorted.Keys(f.tasks) {
		t := f.tasks[id]
		if t.attempts <= 0 || t.done || t.reconciled {
			continue
		}
		open = append(open, id)
	}
	return f.subscribed && len(open) == 0, open
}

// unanswered lists the tasks the final RECONCILE has not answered for.
func (f *framework) unanswered() []string {
	var out []string
	for _, id := range sorted.Keys(f.tasks) {
		if t := f.tasks[id]; t.attempts > 0 && !t.answered {
			out = append(out, id)
		}
	}
	return slices.Clip(out)
}
