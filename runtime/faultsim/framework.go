package faultsim

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	mcore "github.com/apronlab/apron/runtime/master/core"
)

// fwNode is the model framework: it launches its workload on the offers
// it gets, acknowledges every update, kills some tasks, reconciles after
// every resubscription and for launches it has heard nothing of, and
// fails over when its stream breaks. What it is told of each task is the
// history the checker reads.
type fwNode struct {
	w         *world
	name      string
	info      api.FrameworkInfo
	id        string
	conn      int // connection attempts so far; events of older ones are ignored
	stream    *stream
	sid       string
	up        bool
	pending   []*fwTask // not launched yet, in order
	tasks     map[string]*fwTask
	offers    map[string]api.Offer
	lastUUID  map[string]api.UUID
	accepts   []api.Call // ACCEPTs sent, for duplicate and stale replays
	acks      []api.Call
	reconcile ticker
	target    int // the master it talks to
}

type fwTask struct {
	id            string
	group         string // its task group, launched whole (LAUNCH_GROUP); "" for none
	res           allocator.Resources
	prog          program
	killAfter     time.Duration // kill the task this long after it runs (0: never)
	launched      bool
	launchedAt    time.Time
	heard         bool      // some update came
	lastHeard     time.Time // of the last update, or the launch
	state         string
	terminals     []string // terminal states told, repeats aside
	ran           bool     // told it runs
	killScheduled bool
	killRequested bool // a KILL was sent
}

// fwTaskKey names a task of a framework.
type fwTaskKey struct{ fw, task string }

func (f *fwNode) start() {
	if f.up {
		return
	}
	f.up = true
	f.connect()
}

// crash loses the framework's connection and offers; what it knows of its
// tasks it keeps, as a framework that persists its state does.
func (f *fwNode) crash() {
	if !f.up {
		return
	}
	f.w.logf("framework %s crashes", f.name)
	f.up = false
	if f.stream != nil {
		f.w.cutStream(f.stream, "the framework died")
	}
	f.stream, f.sid = nil, ""
	clear(f.offers)
}

func (f *fwNode) connect() {
	w := f.w
	if !f.up {
		return
	}
	f.conn++
	conn := f.conn
	info := f.info
	if f.id != "" {
		info.ID = &api.ID{Value: f.id}
	}
	if !w.healed && w.chance(w.opts.Net.Drop) {
		w.after(postTimeout, func() { f.retry(conn) })
		return
	}
	w.route(&f.target, func(m *masterNode) {
		if m == nil {
			w.after(w.netDelay(), func() { f.retry(conn) })
			return
		}
		m.fwSubscribe(f, conn, info)
	})
}

// retry subscribes again after a failed attempt, if it is still the
// current one.
func (f *fwNode) retry(conn int) {
	if f.up && conn == f.conn && f.stream == nil {
		f.w.after(f.w.between(100*time.Millisecond, time.Second), func() {
			if conn == f.conn && f.stream == nil {
				f.connect()
			}
		})
	}
}

func (f *fwNode) opened(conn int, s *stream, sid string) {
	if !f.up || conn != f.conn {
		f.w.cutStream(s, "a connection the framework gave up")
		return
	}
	f.stream, f.sid = s, sid
}

func (f *fwNode) refused(conn int, ref *mcore.Refusal) {
	if ref.Code == 404 {
		f.w.fail("framework %s: resubscription refused: %s", f.name, ref.Message)
		return
	}
	f.retry(conn)
}

func (f *fwNode) streamClosed(conn int) {
	if conn != f.conn {
		return
	}
	f.stream, f.sid = nil, ""
	clear(f.offers)
	f.retry(conn)
}

func (f *fwNode) event(conn int, e api.Event) {
	if !f.up || conn != f.conn {
		return
	}
	switch e.Type {
	case api.EventSubscribed:
		again := f.id != ""
		f.id = e.Subscribed.FrameworkID.Value
		if again {
			f.reconcileTasks(func(t *fwTask) bool { return t.launched && !isTerminal(t.state) })
		}
		f.reconcile.arm(f.w, f.w.now.Add(5*time.Second), f.checkSilent)
	case api.EventOffers:
		for _, o := range e.Offers.Offers {
			f.offers[o.ID.Value] = o
			f.useOffer(o)
		}
	case api.EventRescind:
		delete(f.offers, e.Rescind.OfferID.Value)
	case api.EventUpdate:
		f.update(e.Update.Status)
	}
}

// call posts a call of the framework; its answer is not needed.
func (f *fwNode) call(c api.Call) {
	w := f.w
	c.FrameworkID = &api.ID{Value: f.id}
	sid := f.sid
	w.post(&f.target, func(m *masterNode) int {
		ref := m.c.Call(w.now, sid, f.name, &c)
		m.flush()
		if ref != nil {
			return ref.Code
		}
		return 202
	}, func(int) {})
}

// useOffer launches what pending tasks fit, in order, up to three and
// one task group (whole), and now and then reserves part of what is left
// for its role, or unreserves what the offer holds reserved (in the same
// ACCEPT, after the launches); or it declines the offer.
func (f *fwNode) useOffer(o api.Offer) {
	delete(f.offers, o.ID.Value)
	offered, err := api.ToResources("offer", o.Resources)
	if err != nil {
		f.w.fail("framework %s: offer %s: %v", f.name, o.ID.Value, err)
		return
	}
	free := offered.Unreserved()
	var infos []api.TaskInfo
	var ops []api.Operation
	left := f.pending[:0]
	for i := 0; i < len(f.pending); i++ {
		t := f.pending[i]
		if t.group != "" {
			n := f.groupSize(i)
			if group := f.pending[i : i+n]; len(ops) == 0 && free.Contains(groupNeeds(group)) {
				free = free.Sub(groupNeeds(group))
				ops = append(ops, f.launchGroup(o, group))
			} else {
				left = append(left, group...)
			}
			i += n - 1
			continue
		}
		if len(infos) < 3 && free.Contains(t.res) {
			free = free.Sub(t.res)
			infos = append(infos, f.taskInfo(o, t))
			continue
		}
		left = append(left, t)
	}
	f.pending = left
	if len(infos) > 0 {
		ops = append(ops, api.Operation{Type: api.OpLaunch, Launch: &api.Launch{TaskInfos: infos}})
	}
	ops = append(ops, f.reservations(o, offered, free)...)
	refuse := 0.5
	if len(ops) == 0 {
		f.call(api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{o.ID}, Filters: &api.Filters{RefuseSeconds: &refuse}}})
		return
	}
	for _, op := range ops {
		f.w.ops[op.Type]++
	}
	c := api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID}, Filters: &api.Filters{RefuseSeconds: &refuse}, Operations: ops}}
	f.accepts = append(f.accepts, c)
	f.call(c)
}

// taskInfo launches t on offer o.
func (f *fwNode) taskInfo(o api.Offer, t *fwTask) api.TaskInfo {
	t.launched, t.launchedAt, t.lastHeard = true, f.w.now, f.w.now
	f.w.programs[fwTaskKey{f.id, t.id}] = t.prog
	return api.TaskInfo{Name: t.id, TaskID: api.ID{Value: t.id}, AgentID: o.AgentID,
		Resources: api.FromResources(t.res), Command: &api.CommandInfo{Value: fmt.Sprintf("sleep %v; exit %d", t.prog.run, t.prog.code)}}
}

// update takes a status: acknowledged if it carries a uuid, told once
// (an update sent again is a repeat), and checked: a task ends once.
func (f *fwNode) update(s api.TaskStatus) {
	id := s.TaskID.Value
	if s.UUID != "" && s.AgentID != nil {
		ack := api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: *s.AgentID, TaskID: s.TaskID, UUID: s.UUID}}
		f.acks = append(f.acks, ack)
		f.call(ack)
	}
	t := f.tasks[id]
	if t == nil {
		f.w.fail("framework %s: an update of task %q it never launched: %s", f.name, id, s.State)
		return
	}
	if s.UUID != "" && f.lastUUID[id] == s.UUID {
		return // sent again: its acknowledgement was lost
	}
	if s.UUID != "" {
		f.lastUUID[id] = s.UUID
	}
	t.heard, t.lastHeard = true, f.w.now
	t.ran = t.ran || s.State == mcore.TaskRunning
	if isTerminal(t.state) {
		// Once a task ended, a later non-terminal update is old news
		// (reconciliation told the latest state before the agent's
		// older updates arrived) and is ignored, as is an answer that
		// the task is not running. Another end would be a lie.
		notRunning := s.State == mcore.TaskUnknown || neverRan[t.state] && neverRan[s.State] && !t.ran
		if isTerminal(s.State) && s.State != t.state && !notRunning {
			f.w.fail("framework %s: task %s ended %s, then was told %s (%s, %s)", f.name, id, t.state, s.State, s.Reason, s.Message)
		}
		return
	}
	if s.Reason == "REASON_RECONCILIATION" && s.State == t.state {
		return
	}
	f.w.logf("framework %s: %s %s %s", f.name, id, s.State, s.Reason)
	t.state = s.State
	if isTerminal(s.State) {
		t.terminals = append(t.terminals, s.State)
	}
	if s.State == mcore.TaskRunning && t.killAfter > 0 && !t.killScheduled {
		t.killScheduled = true
		f.w.after(t.killAfter, func() {
			if f.up && f.stream != nil && !isTerminal(t.state) {
				t.killRequested = true
				f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: id}}})
			}
		})
	}
}

// checkSilent reconciles, every few seconds, the tasks not known to have
// ended that the framework has heard nothing of for a while (an ACCEPT or
// an update may have been lost; a master that restarted with no memory
// answers only once it is sure), as Mesos advises.
func (f *fwNode) checkSilent() {
	if !f.up || f.stream == nil {
		return
	}
	f.reconcileTasks(func(t *fwTask) bool {
		return t.launched && !isTerminal(t.state) && f.w.now.Sub(t.lastHeard) > 10*time.Second
	})
	f.reconcile.arm(f.w, f.w.now.Add(5*time.Second), f.checkSilent)
}

func (f *fwNode) reconcileTasks(which func(*fwTask) bool) {
	rec := &api.Reconcile{}
	for _, id := range sortedKeys(f.tasks) {
		if which(f.tasks[id]) {
			rec.Tasks = append(rec.Tasks, api.ReconcileTask{TaskID: api.ID{Value: id}})
		}
	}
	if len(rec.Tasks) > 0 {
		f.call(api.Call{Type: api.CallReconcile, Reconcile: rec})
	}
}

// neverRan are the ends of a task that did not run: told one, a task may
// be told another (a late duplicate ACCEPT's TASK_DROPPED after its
// launch was refused): the same news.
var neverRan = map[string]bool{mcore.TaskLost: true, mcore.TaskDropped: true, mcore.TaskError: true}

// isTerminal: a terminal state. TASK_UNKNOWN, the answer for a task the
// master does not know (once it is sure: the task is not running), is not
// one, as in Mesos: the task never ran, or its end is still to come.
func isTerminal(state string) bool { return mcore.Terminal(state) }

// done says whether every task was launched and ended, or is one the
// master is sure it does not know (it never ran).
func (f *fwNode) done() bool {
	if len(f.pending) > 0 {
		return false
	}
	for _, t := range f.tasks {
		if !isTerminal(t.state) && t.state != mcore.TaskUnknown {
			return false
		}
	}
	return true
}
