package faultsim

import (
	"slices"
	"strings"

	mcore "github.com/apronlab/apron/runtime/master/core"
)

// check verifies, once the cluster settled, what it promises: every task
// the frameworks launched ended for them exactly once, in its true state;
// no process runs on; the master holds no resources for ended tasks and
// has every agent back.
func (w *world) check() {
	if len(w.errs) > 0 {
		return
	}
	if !w.settled() {
		w.fail("the cluster did not settle within %v after the faults: %s", w.opts.Settle, w.unsettled())
		return
	}
	for _, f := range w.fws {
		for _, id := range sortedKeys(f.tasks) {
			w.checkTask(f, f.tasks[id])
		}
	}
	for _, k := range sortedProcKeys(w.procs) {
		if p := w.procs[k]; !p.ended {
			w.fail("process %s on %s still runs after every task ended", p, k.agent)
		}
	}
	st := w.leader().c.Summary()
	for name, v := range st.Resources.Used {
		if v != 0 {
			w.fail("the master holds %s %g for tasks after every task ended", name, v)
		}
	}
	for _, a := range st.Agents {
		if a.State != mcore.AgentActive || !a.Connected {
			w.fail("agent %s is %s (connected %v) at the end", a.ID, a.State, a.Connected)
		}
	}
}

// checkTask compares what a framework was told of a task with how its
// process really ended.
func (w *world) checkTask(f *fwNode, t *fwTask) {
	var p *proc
	for _, a := range w.agents {
		if q := w.procs[procKey{a.name, taskKey(f.id, t.id)}]; q != nil {
			p = q
		}
	}
	if t.state == mcore.TaskUnknown && len(t.terminals) == 0 {
		if p != nil {
			w.fail("task %s of %s: the master does not know it, but its process %s", t.id, f.name, describe(p))
		}
		return
	}
	if len(t.terminals) != 1 {
		w.fail("task %s of %s: told %d terminal states %v; want exactly one", t.id, f.name, len(t.terminals), t.terminals)
		return
	}
	got := t.terminals[0]
	want := w.truth(f, t, p)
	if !slices.Contains(want, got) {
		w.fail("task %s of %s ended %s, but its process %s: want %s", t.id, f.name, got, describe(p), strings.Join(want, " or "))
	}
}

// truth is what a task may truly be told, from its process's fate.
func (w *world) truth(f *fwNode, t *fwTask, p *proc) []string {
	switch {
	case p == nil:
		// Never started: refused, dropped, lost in transit, or failed
		// as its agent restarted before starting it.
		return []string{mcore.TaskDropped, mcore.TaskError, mcore.TaskLost, mcore.TaskFailed, mcore.TaskKilled, mcore.TaskGone}
	case !p.ended:
		return nil
	case p.cause == "exit" && (t.killRequested || f.groupEnded(t)):
		// It ended on its own while its kill (asked, or its group's)
		// was under way (a task that exits 0 on SIGTERM looks the
		// same): the agent, as Mesos' executor, reports the kill.
		return []string{map[bool]string{true: mcore.TaskFinished, false: mcore.TaskFailed}[p.code == 0], mcore.TaskKilled}
	case p.cause == "exit" && p.code == 0:
		return []string{mcore.TaskFinished}
	case p.cause == "exit":
		return []string{mcore.TaskFailed}
	case t.killRequested || f.groupEnded(t):
		return []string{mcore.TaskKilled, mcore.TaskGone}
	}
	// Killed without the framework asking: only the master kills so,
	// a task it gave up with its unreachable agent.
	return []string{mcore.TaskGone}
}

func describe(p *proc) string {
	switch {
	case p == nil:
		return "never started"
	case !p.ended:
		return "still runs"
	case p.cause == "exit":
		return "exited " + itoa(p.code)
	}
	return "was killed by signal " + itoa(p.code-128)
}

func (w *world) unsettled() string {
	var out []string
	for _, f := range w.fws {
		if len(f.pending) > 0 {
			out = append(out, f.name+": "+itoa(len(f.pending))+" tasks not launched")
		}
		for _, id := range sortedKeys(f.tasks) {
			if t := f.tasks[id]; !isTerminal(t.state) && !slices.Contains(f.pending, t) {
				out = append(out, t.id+" "+t.state)
			}
		}
	}
	for _, a := range w.agents {
		if state, _, _ := a.c.Connection(); state != "registered" {
			out = append(out, a.name+" "+state)
		}
	}
	return strings.Join(out, ", ")
}
