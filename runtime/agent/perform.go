package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
)

// perform does what the core asks, in order: the checkpoint is durable
// before any effect or message. If it cannot be written, tasks are not
// started (they fail) and no status goes out: the core sends them again
// later, once the journal is whole again. Called with a.mu held.
func (a *Agent) perform(r core.Ready) {
	err := a.store.apply(r.Checkpoint)
	if err != nil {
		a.opts.Log.Error("checkpoint failed: holding status updates and launches until it works again", "err", err)
	}
	for _, e := range r.Effects {
		if err != nil && e.Kind == core.EffectStart {
			k, why := e.Task, fmt.Sprintf("checkpoint: %v", err)
			go a.step(func(c *core.Core, now time.Time) { c.StartFailed(now, k, why) })
			continue
		}
		a.effect(e)
	}
	for _, m := range r.Messages {
		if err != nil && m.Call.Type == api.AgentCallStatus {
			continue
		}
		a.send(m)
	}
}

func (a *Agent) effect(e core.Effect) {
	switch e.Kind {
	case core.EffectStart:
		go a.start(e.Task, *e.Start)
	case core.EffectSignal:
		if p := a.procs[e.Task]; p != nil {
			p.signal(e.Signal)
		}
	case core.EffectRemoveSandbox:
		a.removeSandbox(e.Task)
	case core.EffectCloseStream:
		a.opts.Log.Warn("leaving the master's stream", "generation", e.Gen, "why", e.Reason)
		a.closeGen(e.Gen)
	}
}

// removeSandbox moves a task's sandbox out of the way at once (so a task
// of the same id launched next gets a new one) and deletes it in the
// background.
func (a *Agent) removeSandbox(k core.TaskKey) {
	dir, err := a.sandbox(k)
	if err != nil {
		return
	}
	trash := filepath.Join(a.opts.WorkDir, "gc")
	if err := os.MkdirAll(trash, 0o700); err != nil {
		a.opts.Log.Error("sandbox gc", "task", k, "err", err)
		return
	}
	tmp, err := os.MkdirTemp(trash, "sandbox-")
	if err != nil {
		a.opts.Log.Error("sandbox gc", "task", k, "err", err)
		return
	}
	if err := os.Rename(dir, filepath.Join(tmp, "sandbox")); err != nil && !os.IsNotExist(err) {
		a.opts.Log.Error("sandbox gc", "task", k, "err", err)
	}
	_ = os.Remove(filepath.Dir(dir)) // the framework's folder, once empty
	go func() { _ = os.RemoveAll(tmp) }()
}

// send sends a message: a SUBSCRIBE opens its generation's stream, the
// other calls are posted in it. Nothing goes out once Run has returned.
func (a *Agent) send(m core.Message) {
	if a.ctx == nil || a.ctx.Err() != nil {
		return
	}
	if m.Call.Type == api.AgentCallSubscribe {
		for g := range a.gens {
			if g < m.Gen {
				a.closeGen(g) // only older ones: never the new stream
			}
		}
		ctx, cancel := context.WithCancel(a.ctx)
		a.gens[m.Gen] = generation{ctx, cancel}
		go a.stream(ctx, m)
		return
	}
	g, ok := a.gens[m.Gen]
	if !ok {
		return // its stream was closed: the core ignores what it would report
	}
	go a.post(g.ctx, m)
}

func (a *Agent) closeGen(gen uint64) {
	if g, ok := a.gens[gen]; ok {
		g.cancel()
		delete(a.gens, gen)
	}
}

// signal sends sig to a task's process group, and SIGKILL to everything
// left in its cgroup.
func (p *proc) signal(sig syscall.Signal) {
	if p.exited {
		return
	}
	_ = syscall.Kill(-p.pid, sig)
	if sig == syscall.SIGKILL {
		p.killAll()
	}
}
