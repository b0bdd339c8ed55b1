package core

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"pgregory.net/rapid"
)

// driver plays the shell and the master against a core with choices made
// by pick (rapid's, or a seeded generator's), and checks the core's
// invariants after every step.
type driver struct {
	pick   func(label string, n int) int
	seed   uint64
	c      *Core
	now    time.Time
	fail   func(format string, args ...any)
	readys []Ready

	disk     map[TaskKey]*Record // the checkpoint, as the shell wrote it
	gen      uint64              // the latest SUBSCRIBE's generation
	starting []TaskKey           // Start effects not yet answered
	pids     map[TaskKey]int     // processes running
	nextPid  int
	acked    map[api.UUID]bool    // uuids the master acknowledged
	terminal map[TaskKey]api.UUID // the terminal update of each task's incarnation
	lastSent map[TaskKey]sent     // the last send of each task's oldest update
	groups   int                  // task groups launched
}

type sent struct {
	gen    uint64
	uuid   api.UUID
	latest string
	at     time.Time
}

var driverFrameworks, driverTasks = []string{"f1", "f2"}, []string{"a", "b", "c", "d", "e", "f", "g", "bad/id"}

func newDriver(pick func(string, int) int, seed uint64, fail func(string, ...any)) *driver {
	d := &driver{pick: pick, seed: seed, now: t0, fail: fail, disk: map[TaskKey]*Record{}, pids: map[TaskKey]int{}, nextPid: 100,
		acked: map[api.UUID]bool{}, terminal: map[TaskKey]api.UUID{}, lastSent: map[TaskKey]sent{}}
	d.boot(Recovery{})
	return d
}

func (d *driver) boot(rec Recovery) {
	cfg := testConfig()
	cfg.Rand = rand.NewChaCha8([32]byte{byte(d.seed), byte(d.seed >> 8), byte(len(d.readys))})
	c, err := New(cfg, d.now, rec)
	if err != nil {
		d.fail("New: %v", err)
		return
	}
	d.c, d.gen, d.starting = c, 0, nil
	d.lastSent = map[TaskKey]sent{}
	d.apply()
}

func (d *driver) key() TaskKey {
	return TaskKey{driverFrameworks[d.pick("fw", len(driverFrameworks))], driverTasks[d.pick("task", len(driverTasks))]}
}

// step makes one random input, the likelier ones more often.
func (d *driver) step() {
	steps := []struct {
		weight int
		do     func()
	}{
		{10, func() { d.now = d.now.Add(time.Duration(d.pick("ms", 4000)) * time.Millisecond); d.c.Tick(d.now) }},
		{4, func() {
			d.c.Event(d.now, d.someGen(), api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: "a1", HeartbeatIntervalSeconds: 1}})
		}},
		{1, func() { d.c.StreamClosed(d.now, d.someGen(), "EOF") }},
		{5, func() {
			codes := []int{0, 202, 202, 202, 404, 400}
			types := []string{api.AgentCallHeartbeat, api.AgentCallStatus}
			d.c.Posted(d.now, PostResult{d.someGen(), types[d.pick("type", 2)], codes[d.pick("code", len(codes))]})
		}},
		{10, d.launch},
		{3, d.launchGroup},
		{3, func() {
			k := d.key()
			d.c.Event(d.now, d.gen, api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: k.Framework, TaskID: k.Task}})
		}},
		{10, d.ack},
		{1, func() { d.c.Event(d.now, d.someGen(), api.AgentEvent{Type: api.AgentEventShutdown}) }},
		{8, d.started},
		{6, d.exited},
		{1, d.restart},
	}
	total := 0
	for _, s := range steps {
		total += s.weight
	}
	n := d.pick("step", total)
	for _, s := range steps {
		if n < s.weight {
			s.do()
			break
		}
		n -= s.weight
	}
	d.apply()
}

// someGen is mostly the latest generation, sometimes an older one.
func (d *driver) someGen() uint64 {
	if d.pick("old", 4) > 0 {
		return d.gen
	}
	return uint64(d.pick("gen", int(d.gen)+1))
}

func (d *driver) launch() {
	k := d.key()
	res := [][]api.Resource{nil, {{Name: "cpus", Scalar: api.Scalar{Value: 1}}}, {{Name: "mem", Scalar: api.Scalar{Value: 64}}},
		{{Name: "cpus", Scalar: api.Scalar{Value: 1}}}, {{Name: "mem", Scalar: api.Scalar{Value: 64}}}, {{Name: "mem", Scalar: api.Scalar{Value: -1}}}}
	var info *api.FrameworkInfo // today's master sends none
	if d.pick("info", 3) > 0 {
		info = &api.FrameworkInfo{Name: k.Framework}
	}
	d.c.Event(d.now, d.gen, api.AgentEvent{Type: api.AgentEventLaunch, Launch: &api.AgentLaunchTask{FrameworkID: k.Framework,
		Framework: info, Task: api.TaskInfo{TaskID: api.ID{Value: k.Task}, Command: &api.CommandInfo{Value: "true"},
			Resources: res[d.pick("res", len(res))]}}})
}

// launchGroup launches two or three tasks as a group of a new executor;
// now and then one of them is not valid.
func (d *driver) launchGroup() {
	d.groups++
	fw := driverFrameworks[d.pick("fw", len(driverFrameworks))]
	l := &api.AgentLaunchGroup{FrameworkID: fw, Framework: &api.FrameworkInfo{Name: fw}}
	for range 2 + d.pick("size", 2) {
		id := driverTasks[d.pick("task", len(driverTasks))]
		l.Tasks = append(l.Tasks, api.TaskInfo{TaskID: api.ID{Value: id}, Command: &api.CommandInfo{Value: "true"},
			Resources: []api.Resource{{Name: "cpus", Scalar: api.Scalar{Value: 1}}}, Executor: &api.ExecutorInfo{ExecutorID: api.ID{Value: fmt.Sprint("e", d.groups)}}})
	}
	d.c.Event(d.now, d.gen, api.AgentEvent{Type: api.AgentEventLaunchGroup, LaunchGroup: l})
}

// checkGroups checks the rule of task groups on the checkpoint: once a
// task of a group failed or was killed, every other task of it has ended
// or is being killed.
func (d *driver) checkGroups() {
	ended := map[groupKey]TaskKey{}
	for _, k := range sortedRecordKeys(d.disk) {
		if g, ok := d.disk[k].group(); ok && (d.disk[k].State == TaskFailed || d.disk[k].State == TaskKilled) {
			ended[g] = k
		}
	}
	for _, k := range sortedRecordKeys(d.disk) {
		r := d.disk[k]
		g, ok := r.group()
		if e, failed := ended[g]; ok && failed && !Terminal(r.State) && !r.KillAsked {
			d.fail("%v of group %v is %s and not being killed, though %v ended %s", k, g, r.State, e, d.disk[e].State)
		}
	}
}

// ack acknowledges a pending update of the checkpoint, or one unknown.
func (d *driver) ack() {
	var keys []TaskKey
	for _, k := range sortedRecordKeys(d.disk) {
		if len(d.disk[k].Pending) > 0 {
			keys = append(keys, k)
		}
	}
	k, uuid := d.key(), api.UUID("unknown")
	if len(keys) > 0 && d.pick("known", 8) > 0 {
		k = keys[d.pick("ack", len(keys))]
		p := d.disk[k].Pending
		uuid = p[0].UUID
		if d.pick("head", 4) == 0 {
			uuid = p[d.pick("which", len(p))].UUID
		}
	}
	d.acked[uuid] = true
	d.c.Event(d.now, d.gen, api.AgentEvent{Type: api.AgentEventAck, Ack: &api.AgentAckStatus{FrameworkID: k.Framework, TaskID: k.Task, UUID: uuid}})
}

func (d *driver) started() {
	if len(d.starting) == 0 {
		return
	}
	i := d.pick("start", len(d.starting))
	k := d.starting[i]
	d.starting = slices.Delete(d.starting, i, i+1)
	if d.pick("fails", 4) == 0 {
		d.c.StartFailed(d.now, k, "no")
		return
	}
	d.nextPid++
	d.pids[k] = d.nextPid
	d.c.Started(d.now, k, d.nextPid, 1)
}

// exited ends a running process, or now and then reports the end of any
// task again (a task ends once).
func (d *driver) exited() {
	var keys []TaskKey
	for k := range d.pids {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, TaskKey.compare)
	if len(keys) == 0 || d.pick("again", 4) == 0 {
		keys = sortedRecordKeys(d.disk)
	}
	if len(keys) == 0 {
		return
	}
	k := keys[d.pick("exit", len(keys))]
	delete(d.pids, k)
	codes := []int{-1, 0, 3, 137}
	d.c.Exited(d.now, k, Exit{Code: codes[d.pick("code", len(codes))], OOM: d.pick("oom", 5) == 0})
}

// restart crashes the agent and starts a new core from the checkpoint;
// each process may have ended meanwhile.
func (d *driver) restart() {
	var rec Recovery
	for _, k := range sortedRecordKeys(d.disk) {
		r := d.disk[k]
		alive := d.pids[k] != 0 && d.pids[k] == r.Pid && d.pick("alive", 2) == 0
		if !alive {
			delete(d.pids, k)
		}
		rec.Tasks = append(rec.Tasks, Recovered{Record: *r.clone(), Alive: alive, Exit: Exit{Code: d.pick("code", 3) - 1}})
	}
	d.boot(rec)
}

func sortedRecordKeys(m map[TaskKey]*Record) []TaskKey {
	keys := make([]TaskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, TaskKey.compare)
	return keys
}

// apply performs the core's Ready as a shell would, checking it.
func (d *driver) apply() {
	r := d.c.Ready()
	d.readys = append(d.readys, r)
	for _, w := range r.Checkpoint {
		d.write(w)
	}
	for _, e := range r.Effects {
		d.effect(e)
	}
	d.checkGroups()
	inReady := map[TaskKey]bool{}
	_, gen, _ := d.c.Connection()
	for _, m := range r.Messages {
		switch m.Call.Type {
		case api.AgentCallSubscribe:
			d.gen = m.Gen
			d.subscribed(m.Call.Subscribe)
		case api.AgentCallHeartbeat:
			if m.Gen != gen {
				d.fail("heartbeat of generation %d in generation %d", m.Gen, gen)
			}
		case api.AgentCallStatus:
			if m.Gen != gen {
				d.fail("status of generation %d in generation %d", m.Gen, gen)
			}
			for _, s := range m.Call.Statuses {
				d.sent(TaskKey{s.FrameworkID, s.Status.TaskID.Value}, m.Gen, s, inReady)
			}
		}
	}
	if dl := d.c.Deadline(); !dl.IsZero() && !dl.After(d.now) {
		d.c.Tick(d.now)
		if dl := d.c.Deadline(); !dl.IsZero() && !dl.After(d.now) {
			d.fail("after Tick(%v) the deadline is %v", d.now, dl)
		}
		d.apply()
	}
}

// subscribed checks that a SUBSCRIBE reports every checkpointed task (all
// that are not terminal-and-acknowledged) in its latest state.
func (d *driver) subscribed(s *api.AgentSubscribe) {
	keys := sortedRecordKeys(d.disk)
	if len(s.Tasks) != len(keys) {
		d.fail("subscribe reports %d tasks, the checkpoint has %d", len(s.Tasks), len(keys))
		return
	}
	for i, k := range keys {
		got := s.Tasks[i]
		if got.FrameworkID != k.Framework || got.Task.TaskID.Value != k.Task || got.State != d.disk[k].State {
			d.fail("subscribe reports %s/%s %s, the checkpoint %v %s", got.FrameworkID, got.Task.TaskID.Value, got.State, k, d.disk[k].State)
		}
	}
}

// write applies a checkpoint write: a task ends once, and its terminal
// update is dropped only when acknowledged.
func (d *driver) write(w Write) {
	k := w.Key
	old := d.disk[k]
	if tu := d.terminal[k]; tu != "" && !d.acked[tu] && (w.Record == nil || !slices.ContainsFunc(w.Record.Pending, func(s api.TaskStatus) bool { return s.UUID == tu })) {
		d.fail("%v: terminal update %s dropped without an ack (old %+v, new %+v)", k, tu, old, w.Record)
	}
	if w.Record == nil {
		delete(d.disk, k)
		delete(d.terminal, k)
		return
	}
	for _, s := range w.Record.Pending {
		if Terminal(s.State) {
			if tu := d.terminal[k]; tu != "" && tu != s.UUID {
				d.fail("%v ended twice: %s and %s", k, tu, s.UUID)
			}
			d.terminal[k] = s.UUID
		}
	}
	if old != nil && Terminal(old.State) && !Terminal(w.Record.State) {
		d.fail("%v went from %s back to %s", k, old.State, w.Record.State)
	}
	d.disk[k] = w.Record
}

func (d *driver) effect(e Effect) {
	rec := d.disk[e.Task]
	switch e.Kind {
	case EffectStart:
		if rec == nil || rec.State != TaskStaging {
			d.fail("start of %v before its checkpoint: %+v", e.Task, rec)
		}
		d.starting = append(d.starting, e.Task)
	case EffectSignal:
		if rec == nil || !rec.KillAsked || rec.Pid != e.Pid {
			d.fail("signal %v to %v (pid %d) with checkpoint %+v", e.Signal, e.Task, e.Pid, rec)
		}
	}
}

// sent checks one status sent: the oldest checkpointed update, with the
// latest state, once per Ready, and not again before its retry time
// unless the master came back or the task ended meanwhile.
func (d *driver) sent(k TaskKey, gen uint64, s api.AgentStatus, inReady map[TaskKey]bool) {
	rec := d.disk[k]
	if rec == nil || len(rec.Pending) == 0 || rec.Pending[0].UUID != s.Status.UUID {
		d.fail("sent %v's update %s, not its oldest checkpointed (%+v)", k, s.Status.UUID, rec)
		return
	}
	want := ""
	if n := len(rec.Pending); n > 1 {
		want = rec.Pending[n-1].State
	}
	if s.LatestState != want {
		d.fail("%v: latest_state %q, want %q", k, s.LatestState, want)
	}
	if inReady[k] {
		d.fail("%v sent twice in one Ready", k)
	}
	inReady[k] = true
	last := d.lastSent[k]
	if last.gen == gen && last.uuid == s.Status.UUID && last.latest == s.LatestState && d.now.Sub(last.at) < DefaultRetryMin {
		d.fail("%v's update %s sent again after %v", k, s.Status.UUID, d.now.Sub(last.at))
	}
	d.lastSent[k] = sent{gen: gen, uuid: s.Status.UUID, latest: s.LatestState, at: d.now}
}

func TestPropertyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := newDriver(func(label string, n int) int { return rapid.IntRange(0, n-1).Draw(t, label) }, 1, t.Fatalf)
		steps := rapid.IntRange(1, 300).Draw(t, "steps")
		for range steps {
			d.step()
		}
	})
}

func TestDeterminism(t *testing.T) {
	run := func(seed uint64) []Ready {
		rng := rand.New(rand.NewPCG(seed, 7))
		d := newDriver(func(_ string, n int) int { return rng.IntN(n) }, seed, t.Fatalf)
		for range 2000 {
			d.step()
		}
		return d.readys
	}
	for seed := range uint64(5) {
		a, b := run(seed), run(seed)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		if n := countMessages(a); n < 50 {
			t.Errorf("seed %d: only %d messages in 2000 steps; the test exercises little", seed, n)
		}
	}
}

func countMessages(rs []Ready) int {
	n := 0
	for _, r := range rs {
		n += len(r.Messages)
	}
	return n
}
