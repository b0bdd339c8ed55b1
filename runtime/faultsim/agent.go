package faultsim

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	acore "github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
)

// agentNode runs an agent's core as its shell would: its checkpoint is a
// map that survives crashes (the disk), its tasks are simulated processes
// that outlive it.
type agentNode struct {
	w        *world
	name     string
	res      []api.Resource
	c        *acore.Core
	up       bool
	paused   bool     // SIGSTOPped: inputs wait until SIGCONT
	deferred []func() // inputs that came while paused
	epoch    int
	disk     map[acore.TaskKey]*acore.Record
	tick     ticker
	target   int // the master it talks to
	rand     *rand.ChaCha8
}

func (a *agentNode) config() acore.Config {
	return acore.Config{Name: a.name, Hostname: a.name, URL: "http://" + a.name, Resources: a.res, Isolation: "sim", Incarnation: uint64(a.epoch),
		Grace: time.Second, GCDelay: time.Minute, Rand: a.rand}
}

// start starts the agent on its disk: the tasks it checkpointed, and
// whether their processes still run.
func (a *agentNode) start() {
	w := a.w
	if a.up {
		return
	}
	a.epoch++
	a.rand = rand.NewChaCha8(seed32(w.rng))
	var rec acore.Recovery
	for _, k := range sortedTaskKeys(a.disk) {
		r := *a.disk[k]
		p := w.procs[procKey{a.name, k}]
		alive := p != nil && p.pid == r.Pid && !p.ended
		exit := acore.Exit{Code: -1}
		if p != nil && p.pid == r.Pid && p.ended {
			exit.Code = p.exitFile
		}
		rec.Tasks = append(rec.Tasks, acore.Recovered{Record: r, Alive: alive, Exit: exit})
	}
	c, err := acore.New(a.config(), w.now, rec)
	if err != nil {
		w.fail("agent %s: %v", a.name, err)
		return
	}
	a.c, a.up, a.paused, a.deferred = c, true, false, nil
	w.logf("agent %s up (%d tasks recovered)", a.name, len(rec.Tasks))
	a.flush()
}

// crash kills the agent process (kill -9): its tasks run on; its streams
// break.
func (a *agentNode) crash() {
	if !a.up {
		return
	}
	a.w.logf("agent %s crashes", a.name)
	a.up, a.paused, a.deferred = false, false, nil
	a.tick.stop()
	a.cutStreams("the agent died")
}

func (a *agentNode) cutStreams(why string) { a.cutStreamGen(0, why) }

// pause stops the agent process (SIGSTOP): nothing it receives is handled
// until resume, and its timers stand still. Its connections stay open.
func (a *agentNode) pause() {
	if a.up && !a.paused {
		a.w.logf("agent %s stopped", a.name)
		a.paused = true
		a.tick.stop()
	}
}

func (a *agentNode) resume() {
	if !a.up || !a.paused {
		return
	}
	a.w.logf("agent %s continues", a.name)
	a.paused = false
	queued := a.deferred
	a.deferred = nil
	for _, fn := range queued {
		fn()
		if !a.up || a.paused {
			return
		}
	}
	a.c.Tick(a.w.now)
	a.flush()
}

// input runs an input to the core: now if the agent runs, after SIGCONT
// if it is stopped, never if it is down (the epoch tells an input meant
// for an agent that crashed since).
func (a *agentNode) input(fn func()) { a.inputAt(a.epoch, fn) }

// inputAt runs an input meant for the process of one epoch: never if
// that process is gone (a reply to a connection that died with it).
func (a *agentNode) inputAt(epoch int, fn func()) {
	run := func() {
		if !a.up || a.epoch != epoch {
			return
		}
		fn()
		a.flush()
	}
	if a.paused {
		a.deferred = append(a.deferred, run)
		return
	}
	run()
}

func (a *agentNode) onTick() {
	if !a.up || a.paused {
		return
	}
	a.c.Tick(a.w.now)
	a.flush()
}

// flush carries out the core's Ready: checkpoint, effects, messages.
func (a *agentNode) flush() {
	w := a.w
	for range 100 {
		rd := a.c.Ready()
		if rd.Empty() {
			break
		}
		for _, wr := range rd.Checkpoint {
			if wr.Record == nil {
				delete(a.disk, wr.Key)
			} else {
				a.disk[wr.Key] = wr.Record
			}
		}
		a.checkGroups()
		for _, e := range rd.Effects {
			a.effect(e)
		}
		for _, msg := range rd.Messages {
			a.send(msg)
		}
	}
	a.tick.arm(w, a.c.Deadline(), a.onTick)
}

func (a *agentNode) effect(e acore.Effect) {
	w := a.w
	switch e.Kind {
	case acore.EffectStart:
		p := w.spawn(a, e.Task)
		if p == nil {
			a.c.StartFailed(w.now, e.Task, "no such program")
			return
		}
		a.c.Started(w.now, e.Task, p.pid, uint64(p.pid))
	case acore.EffectSignal:
		if p := w.procs[procKey{a.name, e.Task}]; p != nil && p.pid == e.Pid {
			p.signal(e.Signal)
		}
	case acore.EffectCloseStream:
		a.cutStreamGen(e.Gen, e.Reason)
	case acore.EffectRemoveSandbox:
	}
}

// cutStreamGen closes the stream of one subscription generation, from the
// agent's side.
// Generation 0: every stream of the agent.
func (a *agentNode) cutStreamGen(gen uint64, why string) {
	for _, m := range a.w.masters {
		if !m.up {
			continue
		}
		for _, id := range sortedKeys(m.streams) {
			if s := m.streams[id]; s.agent == a && (gen == 0 || s.gen == gen) {
				a.w.cutStream(s, why)
			}
		}
	}
}

func (a *agentNode) send(msg acore.Message) {
	w := a.w
	call := msg.Call
	gen, epoch := msg.Gen, a.epoch
	if call.Type == api.AgentCallSubscribe {
		if !w.healed && w.chance(w.opts.Net.Drop) {
			return // lost: the core's register timeout tries again
		}
		w.route(&a.target, func(m *masterNode) {
			if m == nil {
				w.after(w.netDelay(), func() { a.inputAt(epoch, func() { a.c.StreamClosed(w.now, gen, "no leading master answered") }) })
				return
			}
			m.agentSubscribe(a, epoch, gen, call.Subscribe)
		})
		return
	}
	w.post(&a.target, func(m *masterNode) int {
		if ref := m.c.AgentCall(w.now, a.name, &call); ref != nil {
			m.flush()
			return ref.Code
		}
		m.flush()
		return 202
	}, func(code int) {
		a.inputAt(epoch, func() { a.c.Posted(w.now, acore.PostResult{Gen: gen, Type: call.Type, Code: code}) })
	})
}

// procKey names a task's process on an agent.
type procKey struct {
	agent string
	task  acore.TaskKey
}

// proc is a task's simulated process: it runs its program's time and
// exits with its code, unless signalled first.
type proc struct {
	w        *world
	a        *agentNode
	key      procKey
	pid      int
	prog     program
	ended    bool
	code     int    // how it ended: the exit code, 128+signal when signalled
	exitFile int    // what the wrapper wrote to the sandbox: the code, -1 when killed with its wrapper
	cause    string // "exit", "signal"
}

// program is what a task runs: how long, its exit code, and whether it
// ignores SIGTERM (and so runs until SIGKILL).
type program struct {
	run        time.Duration
	code       int
	ignoreTerm bool
}

// spawn starts a task's process, if the framework gave it a program.
func (w *world) spawn(a *agentNode, k acore.TaskKey) *proc {
	prog, ok := w.programs[fwTaskKey{k.Framework, k.Task}]
	if !ok {
		return nil
	}
	key := procKey{a.name, k}
	if old := w.procs[key]; old != nil && !old.ended {
		w.fail("task %s started twice on agent %s", k, a.name)
	}
	w.pids++
	p := &proc{w: w, a: a, key: key, pid: 1000 + w.pids, prog: prog}
	w.procs[key] = p
	w.logf("agent %s starts %s (pid %d, %v, exit %d)", a.name, k, p.pid, prog.run, prog.code)
	w.after(prog.run, func() { p.exit(prog.code, "exit") })
	return p
}

func (p *proc) signal(sig syscall.Signal) {
	if p.ended {
		return
	}
	if sig == syscall.SIGTERM && p.prog.ignoreTerm {
		return
	}
	p.w.after(p.w.between(time.Millisecond, 50*time.Millisecond), func() { p.exit(128+int(sig), "signal") })
}

// exit ends the process; its agent learns of it if it runs (later if it
// is stopped; from the exit file if it restarts).
func (p *proc) exit(code int, cause string) {
	if p.ended {
		return
	}
	p.ended, p.code, p.cause = true, code, cause
	p.exitFile = code
	if cause == "signal" {
		p.exitFile = -1
	}
	p.w.logf("%s on %s exits %d (%s)", p.key.task, p.key.agent, code, cause)
	a, k := p.a, p.key.task
	a.input(func() { a.c.Exited(p.w.now, k, acore.Exit{Code: code}) })
}

func (p *proc) String() string { return fmt.Sprintf("%s pid %d", p.key.task, p.pid) }
