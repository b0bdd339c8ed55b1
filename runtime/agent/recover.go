package agent

import (
	"os"
	"path/filepath"
	"time"

	"github.com/apronlab/apron/runtime/agent/core"
)

// recover reads the checkpoint, finds what became of each task's process
// and of the sandboxes, makes the core from that and watches the
// processes that still run.
func (a *Agent) recover() error {
	recs, errs := a.store.load()
	for _, err := range errs {
		a.opts.Log.Error("recover", "err", err)
	}
	var rec core.Recovery
	watch := map[core.TaskKey]int{} // pidfds
	for _, r := range recs {
		t, fd := a.recoverTask(r)
		rec.Tasks = append(rec.Tasks, t)
		if t.Alive {
			watch[r.Key()] = fd
		}
	}
	rec.Sandboxes = a.orphanSandboxes(recs)
	c, err := core.New(a.config(), time.Now(), rec)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.core = c
	for k, fd := range watch {
		p := a.procs[k]
		go func() {
			waitPidfd(fd)
			a.ended(k, p, a.exitOf(k))
		}()
	}
	a.perform(c.Ready())
	if len(recs) > 0 {
		a.opts.Log.Info("recovered tasks", "count", len(recs), "running", len(watch))
	}
	go func() { _ = os.RemoveAll(filepath.Join(a.opts.WorkDir, "gc")) }() // sandboxes a crash left half collected
	return nil
}

// recoverTask finds whether a task's process still runs (then it returns
// a pidfd on it, and the agent watches it) and, if not, how it ended:
// its exit file, whether the OOM killer struck in its cgroup, which is
// then emptied and removed.
func (a *Agent) recoverTask(r core.Record) (core.Recovered, int) {
	out := core.Recovered{Record: r, Exit: core.Exit{Code: -1}}
	if core.Terminal(r.State) {
		return out, -1
	}
	p := &proc{pid: r.Pid}
	if r.Container != "" {
		if ctr, err := a.opts.Isolator.Recover(r.Container); err == nil {
			p.ctr = ctr
		}
	}
	if fd, ok := pidfdIfSame(r.Pid, r.PidStart); ok {
		out.Alive = true
		a.procs[r.Key()] = p
		return out, fd
	}
	out.Exit.Code = a.exitOf(r.Key())
	if p.ctr != nil {
		out.Exit.OOM, _ = p.ctr.OOMKilled()
		p.killAll() // a process started but not checkpointed (STAGING), or stragglers
		_ = p.ctr.Delete()
	}
	return out, -1
}

// orphanSandboxes lists the sandboxes of no checkpointed task, to be
// collected after the GC delay from when they last changed.
func (a *Agent) orphanSandboxes(recs []core.Record) []core.Sandbox {
	have := map[core.TaskKey]bool{}
	for _, r := range recs {
		have[r.Key()] = true
	}
	root := filepath.Join(a.opts.WorkDir, "sandboxes")
	fws, _ := os.ReadDir(root)
	var out []core.Sandbox
	for _, fw := range fws {
		tasks, _ := os.ReadDir(filepath.Join(root, fw.Name()))
		for _, t := range tasks {
			k := core.TaskKey{Framework: fw.Name(), Task: t.Name()}
			info, err := t.Info()
			if err != nil || !t.IsDir() || have[k] {
				continue
			}
			out = append(out, core.Sandbox{Task: k, Modified: info.ModTime()})
		}
	}
	return out
}
