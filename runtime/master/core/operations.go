package core

import (
	"cmp"
	"fmt"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// acceptRun applies an ACCEPT's operations to its offers in order, as
// Mesos' master does: each operation sees what the ones before it left of
// the offers (a RESERVE's resources may be launched on by a later LAUNCH
// of the same call), and an operation that is not valid is dropped alone.
type acceptRun struct {
	c      *Core
	f      *Framework
	agent  *Agent
	role   string            // the offers' allocation role
	offers []allocator.Offer // as converted so far
	left   allocator.Resources
	used   allocator.Resources
	seen   map[string]bool // task ids of this call
	launch []launchUnit
}

// launchUnit is a task, or a task group with its executor, to launch once
// the offers are accepted.
type launchUnit struct {
	tasks []*Task
	exec  *ExecutorRecord
}

func (c *Core) newRun(f *Framework, offers []allocator.Offer, agent string) *acceptRun {
	run := &acceptRun{c: c, f: f, agent: c.reg.agents[agent], role: offers[0].Role, offers: offers, seen: map[string]bool{}}
	for _, o := range offers {
		run.left = run.left.Add(o.Resources)
	}
	return run
}

// operation applies one operation of the call (the i-th).
func (run *acceptRun) operation(i int, op api.Operation) {
	field := fmt.Sprintf("accept.operations[%d]", i)
	switch op.Type {
	case api.OpLaunch:
		run.launchTasks(field, op)
	case api.OpLaunchGroup:
		run.launchGroup(field, op)
	case api.OpReserve:
		run.reserve(field, op)
	case api.OpUnreserve:
		run.unreserve(field, op)
	default:
		run.drop(op, fmt.Sprintf("%s: %s is not supported: apron has no persistent volumes, disk profiles or resource providers; the operation is dropped and its resources go back", field, op.Type))
	}
}

// drop answers an operation that is not applied: OPERATION_ERROR, if the
// operation asked for its status with an id (Mesos' master drops it so).
func (run *acceptRun) drop(op api.Operation, msg string) {
	run.c.stats.Invalid++
	run.c.operationStatus(run.f, op, api.OperationError, msg, "", nil)
}

// operationStatus sends an operation's status to a framework that asked
// for it (the operation has an id).
func (c *Core) operationStatus(f *Framework, op api.Operation, state, msg, agent string, converted []api.Resource) {
	if op.ID == nil {
		return
	}
	s := api.OperationStatus{OperationID: op.ID, State: state, Message: msg, ConvertedResources: converted}
	if agent != "" {
		s.AgentID = &api.ID{Value: agent}
	}
	c.toFw(f, api.Event{Type: api.EventUpdateOperationStatus, UpdateOperationStatus: &api.UpdateOperationStatus{Status: s}})
}

// noFeedback refuses an id on a LAUNCH or LAUNCH_GROUP: tasks have their
// own status updates, and Mesos gives no operation feedback for launches.
func (run *acceptRun) noFeedback(field string, op api.Operation) string {
	if op.ID == nil {
		return ""
	}
	msg := fmt.Sprintf("%s.id: operation feedback is not supported for %s (its tasks have their own status updates); leave id unset", field, op.Type)
	run.c.operationStatus(run.f, op, api.OperationError, msg, "", nil)
	return msg
}

// fresh says whether a task id may be told of: one the framework runs, or
// ran among its completed tasks kept, or that the call named already,
// gets no update, which would speak of the other task.
func (run *acceptRun) fresh(id string) bool {
	return run.f.Tasks[id] == nil && !run.seen[id]
}

// launchTasks launches the tasks of a LAUNCH, each on its own: a task
// that is not valid or does not fit is refused alone (TASK_ERROR).
func (run *acceptRun) launchTasks(field string, op api.Operation) {
	c, agent := run.c, run.agent.ID
	bad := run.noFeedback(field, op)
	for j, ti := range op.Launch.TaskInfos {
		tf := fmt.Sprintf("%s.launch.task_infos[%d]", field, j)
		if !run.fresh(ti.TaskID.Value) {
			c.stats.Invalid++
			continue
		}
		res, reason, msg := c.checkTask(run.f, ti, tf, agent, run.role)
		switch {
		case bad != "":
			reason, msg = "", bad
		case msg == "" && !run.left.Contains(res):
			msg = fmt.Sprintf("%s.resources: %s do not fit in what is left of the offers, %s", tf, res, run.left)
		}
		if msg != "" {
			c.refuseTask(run.f, ti, agent, TaskError, cmp.Or(reason, api.ReasonTaskInvalid), msg)
			continue
		}
		run.take(res)
		run.seen[ti.TaskID.Value] = true
		run.launch = append(run.launch, launchUnit{tasks: []*Task{run.task(ti, res)}})
	}
}

// take charges resources to the call's launches.
func (run *acceptRun) take(res allocator.Resources) {
	run.used = run.used.Add(res)
	run.left = run.left.Sub(res)
}

func (run *acceptRun) task(ti api.TaskInfo, res allocator.Resources) *Task {
	ti.AgentID = api.ID{Value: run.agent.ID}
	ti.Data, ti.Discovery = nil, nil // nothing reads them; not kept
	return &Task{TaskRecord: TaskRecord{FrameworkID: run.f.ID, AgentID: run.agent.ID, Role: run.role, Info: ti, Resources: res.String()}}
}

// convert applies a reservation change to the offers: from (which is in
// what is left of them) becomes reserved for role ("" unreserved), offer
// by offer. Any part of the offers will do: the launches of the call take
// theirs when the offers are accepted, entry by entry, and what is left
// holds them.
func (run *acceptRun) convert(from allocator.Resources, role string) {
	want := from
	for i := range run.offers {
		o := &run.offers[i]
		part := overlap(o.Resources, want)
		if part.IsEmpty() {
			continue
		}
		want = want.Sub(part)
		if err := run.c.alloc.Convert(o.ID, part, withRole(part, role)); err != nil {
			run.c.applyErrors = append(run.c.applyErrors, err)
			continue
		}
		o.Resources = o.Resources.Sub(part).Add(withRole(part, role))
	}
	run.left = run.left.Sub(from).Add(withRole(from, role))
}

// withRole is r with every entry reserved for role ("" unreserved).
func withRole(r allocator.Resources, role string) allocator.Resources {
	var out allocator.Resources
	for _, e := range r {
		out = out.Add(allocator.Resources{{Name: e.Name, Role: role, Value: e.Value}})
	}
	return out
}
