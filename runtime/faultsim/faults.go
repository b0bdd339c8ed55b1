package faultsim

import (
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// fault is one kind of fault the plan injects, with its weight.
type fault struct {
	name   string
	weight int
	inject func(w *world)
}

var faultKinds = []fault{
	{"agent kill -9 and restart", 3, func(w *world) {
		a := w.agents[w.rng.IntN(len(w.agents))]
		if !a.up {
			return
		}
		a.crash()
		w.after(w.between(500*time.Millisecond, 8*time.Second), a.start)
	}},
	{"agent SIGSTOP/SIGCONT", 3, func(w *world) {
		a := w.agents[w.rng.IntN(len(w.agents))]
		if !a.up || a.paused {
			return
		}
		a.pause()
		// Both shorter and longer than the agent timeout.
		w.after(w.between(time.Second, 3*w.opts.AgentTimeout), a.resume)
	}},
	{"master kill -9 and restart", 1, func(w *world) {
		// Most often the leader: the failover is what matters.
		m := w.leader()
		if m == nil || w.chance(0.25) {
			m = w.masters[w.rng.IntN(len(w.masters))]
		}
		if !m.up {
			return
		}
		m.crash()
		w.after(w.between(200*time.Millisecond, 3*time.Second), m.start)
	}},
	{"master partitioned from the others", 1, func(w *world) {
		if len(w.masters) < 2 {
			return
		}
		m := w.leader()
		if m == nil || w.chance(0.25) {
			m = w.masters[w.rng.IntN(len(w.masters))]
		}
		if m.isolated {
			return
		}
		m.isolated = true
		w.after(w.between(time.Second, 8*time.Second), func() { m.isolated = false })
	}},
	{"agent stream cut", 2, func(w *world) {
		a := w.agents[w.rng.IntN(len(w.agents))]
		a.cutStreams("a network fault")
	}},
	{"framework disconnect", 2, func(w *world) {
		f := w.fws[w.rng.IntN(len(w.fws))]
		if f.stream != nil {
			w.cutStream(f.stream, "a network fault")
		}
	}},
	{"framework crash and failover", 1, func(w *world) {
		f := w.fws[w.rng.IntN(len(w.fws))]
		f.crash()
		w.after(w.between(100*time.Millisecond, 3*time.Second), f.start)
	}},
	{"duplicate ACCEPT", 2, func(w *world) {
		f := w.fws[w.rng.IntN(len(w.fws))]
		if len(f.accepts) > 0 && f.stream != nil {
			f.call(f.accepts[w.rng.IntN(len(f.accepts))])
		}
	}},
	{"stale offer in an ACCEPT", 1, func(w *world) {
		f := w.fws[w.rng.IntN(len(w.fws))]
		if f.stream == nil {
			return
		}
		// A new task on an offer long used: it must be dropped, and
		// nothing else changed.
		t := f.newTask(program{run: time.Second})
		t.launched, t.launchedAt, t.lastHeard = true, w.now, w.now
		f.w.programs[fwTaskKey{f.id, t.id}] = t.prog
		f.call(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{{Value: "O1-1"}},
			Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: []api.TaskInfo{{Name: t.id, TaskID: api.ID{Value: t.id},
				Resources: api.FromResources(t.res), Command: &api.CommandInfo{Value: "true"}}}}}}}})
	}},
	{"duplicate ACKNOWLEDGE", 1, func(w *world) {
		f := w.fws[w.rng.IntN(len(w.fws))]
		if len(f.acks) > 0 && f.stream != nil {
			f.call(f.acks[w.rng.IntN(len(f.acks))])
		}
	}},
	{"KILL of a task that ended", 1, func(w *world) {
		f := w.fws[w.rng.IntN(len(w.fws))]
		for _, id := range sortedKeys(f.tasks) {
			if isTerminal(f.tasks[id].state) && f.stream != nil {
				f.call(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: id}}})
				return
			}
		}
	}},
}

// planFaults schedules faults at random moments of the fault phase, about
// one every FaultEvery on average.
func (w *world) planFaults() {
	kinds := append(append([]fault(nil), faultKinds...), hostileKinds...)
	total := 0
	for _, f := range kinds {
		total += f.weight
	}
	t := time.Duration(0)
	for {
		t += time.Duration(w.rng.ExpFloat64() * float64(w.opts.FaultEvery))
		if t >= w.opts.FaultPhase {
			break
		}
		pick := w.rng.IntN(total)
		var k fault
		for _, f := range kinds {
			if pick < f.weight {
				k = f
				break
			}
			pick -= f.weight
		}
		w.at(epoch.Add(t), func() {
			if w.healed {
				return
			}
			w.faults[k.name]++
			w.logf("fault: %s", k.name)
			k.inject(w)
		})
	}
	w.at(epoch.Add(w.opts.FaultPhase), w.heal)
}

// heal ends the faults: the master and every agent run again, stopped
// agents continue, frameworks reconnect; the network is reliable again.
func (w *world) heal() {
	w.healed = true
	w.logf("heal")
	for _, m := range w.masters {
		m.isolated = false
		if !m.up {
			m.start()
		}
	}
	for _, a := range w.agents {
		switch {
		case !a.up:
			a.start()
		case a.paused:
			a.resume()
		}
	}
	for _, f := range w.fws {
		if !f.up {
			f.start()
		}
	}
}
