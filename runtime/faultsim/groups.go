package faultsim

import (
	"fmt"
	"slices"

	"github.com/apronlab/apron/allocator"
	acore "github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
	mcore "github.com/apronlab/apron/runtime/master/core"
)

// Task groups and dynamic reservations under faults. Some of a
// framework's tasks are launched as groups (LAUNCH_GROUP, with the
// DEFAULT executor); now and then a framework reserves part of an offer
// for its role or unreserves what it reserved. The checker holds the
// group rule on every agent's checkpoint after every step (once a task of
// a group failed or was killed, every other task of it has ended or is
// being killed) and takes a group's kill into the truth of each task's
// end; the master's books, checked after every step, include the
// executors and the reservations.

// executorRes is what each group's executor asks for.
var executorRes = allocator.MustParseResources("cpus:0.1;mem:32")

// makeGroups makes some runs of the framework's pending tasks task
// groups of two or three.
func (f *fwNode) makeGroups() {
	for i := 0; i+1 < len(f.pending); i++ {
		if !f.w.chance(0.25) {
			continue
		}
		n := min(2+f.w.rng.IntN(2), len(f.pending)-i)
		g := fmt.Sprintf("%s-g%d", f.name, i)
		for _, t := range f.pending[i : i+n] {
			t.group = g
		}
		i += n - 1
	}
}

// groupSize is how many pending tasks from i are of i's group.
func (f *fwNode) groupSize(i int) int {
	n := 1
	for i+n < len(f.pending) && f.pending[i+n].group == f.pending[i].group {
		n++
	}
	return n
}

// groupNeeds is what a group and its executor need together.
func groupNeeds(group []*fwTask) allocator.Resources {
	need := executorRes
	for _, t := range group {
		need = need.Add(t.res)
	}
	return need
}

func (f *fwNode) launchGroup(o api.Offer, group []*fwTask) api.Operation {
	exec := &api.ExecutorInfo{Type: api.ExecutorDefault, ExecutorID: api.ID{Value: group[0].group}, Resources: api.FromResources(executorRes)}
	var infos []api.TaskInfo
	for _, t := range group {
		infos = append(infos, f.taskInfo(o, t))
	}
	return api.Operation{Type: api.OpLaunchGroup, LaunchGroup: &api.LaunchGroup{Executor: exec, TaskGroup: &api.TaskGroupInfo{Tasks: infos}}}
}

// reservations are the RESERVE or UNRESERVE the framework adds to an
// ACCEPT now and then: half of what the launches leave of the offer's
// unreserved cpus, for its role; or all the offer holds reserved for it.
func (f *fwNode) reservations(o api.Offer, offered, free allocator.Resources) []api.Operation {
	role := f.info.Roles[0]
	mine := allocator.Resources{{Name: "cpus", Role: role, Value: offered.Get("cpus", role)}}.Sub(nil)
	switch r := f.w.rng.Float64(); {
	case r < 0.1 && free.Get("cpus", "") >= 2*allocator.Units(1)/10:
		half := allocator.Resources{{Name: "cpus", Value: free.Get("cpus", "") / 2}}
		return []api.Operation{{Type: api.OpReserve, Reserve: &api.Reserve{Resources: dynamicFor(half, role, f.info.Principal)}}}
	case r < 0.4 && !mine.IsEmpty():
		return []api.Operation{{Type: api.OpUnreserve, Unreserve: &api.Unreserve{Resources: dynamicFor(mine.Flatten(), role, f.info.Principal)}}}
	}
	return nil
}

// dynamicFor is amounts reserved dynamically for role by principal.
func dynamicFor(amounts allocator.Resources, role, principal string) []api.Resource {
	rs := api.FromResources(amounts)
	for i := range rs {
		rs[i].Role, rs[i].Reservation = role, &api.ReservationInfo{Principal: principal}
	}
	return rs
}

// groupEnded says whether another task of t's group was told it failed
// or was killed: the agent then kills t, as Mesos' default executor does.
func (f *fwNode) groupEnded(t *fwTask) bool {
	if t.group == "" {
		return false
	}
	for _, s := range f.tasks {
		if s != t && s.group == t.group && (slices.Contains(s.terminals, mcore.TaskFailed) || slices.Contains(s.terminals, mcore.TaskKilled)) {
			return true
		}
	}
	return false
}

// checkGroups holds the group rule on an agent's checkpoint.
func (a *agentNode) checkGroups() {
	ended := map[string]acore.TaskKey{}
	keys := sortedTaskKeys(a.disk)
	for _, k := range keys {
		if r := a.disk[k]; r.Task.Executor != nil && (r.State == acore.TaskFailed || r.State == acore.TaskKilled) {
			ended[k.Framework+"/"+r.Task.Executor.ExecutorID.Value] = k
		}
	}
	for _, k := range keys {
		r := a.disk[k]
		if r.Task.Executor == nil || acore.Terminal(r.State) || r.KillAsked {
			continue
		}
		if e, ok := ended[k.Framework+"/"+r.Task.Executor.ExecutorID.Value]; ok {
			a.w.fail("agent %s: task %s of group %s is %s and not being killed, though %s ended %s", a.name, k, r.Task.Executor.ExecutorID.Value, r.State, e, a.disk[e].State)
		}
	}
}
