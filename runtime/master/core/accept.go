package core

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// accept applies the operations of an ACCEPT to its offers, in order
// (operations.go). As in Mesos, the offers an ACCEPT names are used up
// whatever happens: what its operations do not take goes back to the
// allocator with the call's filter. A bad offer drops every task
// (TASK_DROPPED) and every other operation; a bad task is refused alone
// (TASK_ERROR), a bad task group whole.
func (c *Core) accept(f *Framework, a *api.Accept) *Refusal {
	refuse, r := c.refuseOf("accept.filters", a.Filters)
	offers, agent, why, foreign := c.acceptedOffers(f, a.OfferIDs)
	if r == nil {
		r = c.checkOperations(a)
	}
	if r != nil || why != "" {
		if r != nil {
			refuse = 0
		}
		c.useOffers(offers, nil, refuse)
		if r != nil {
			return r
		}
		c.dropAll(f, a, agent, why, foreign)
		return nil
	}
	run := c.newRun(f, offers, agent)
	for i, op := range a.Operations {
		run.operation(i, op)
	}
	c.useOffers(run.offers, run.used, refuse)
	c.stats.Accepted++
	for _, u := range run.launch {
		if u.exec != nil {
			c.launchGroupOnAgent(f, u)
		} else {
			c.launch(f, u.tasks[0])
		}
	}
	return nil
}

// dropAll answers an ACCEPT whose offers cannot be used: its tasks are
// TASK_DROPPED (TASK_LOST to a framework that is not partition aware, as
// Mesos) and its other operations OPERATION_ERROR.
func (c *Core) dropAll(f *Framework, a *api.Accept, agent, why string, foreign bool) {
	for _, op := range a.Operations {
		infos := launchedBy(op)
		if infos == nil && !foreign {
			c.operationStatus(f, op, api.OperationError, why, "", nil)
		}
		for _, ti := range infos {
			// A task the framework ran under this id (an ACCEPT sent
			// again, late) gets no update: it would speak of that
			// task.
			if id := ti.TaskID.Value; f.Tasks[id] == nil && !c.completed(f, id) && !foreign {
				c.refuseTask(f, ti, agent, lostOrDropped(f), api.ReasonInvalidOffers, why)
			}
		}
	}
}

// launchedBy is the tasks an operation launches (nil for one that
// launches none).
func launchedBy(op api.Operation) []api.TaskInfo {
	switch {
	case op.Type == api.OpLaunch && op.Launch != nil:
		return op.Launch.TaskInfos
	case op.Type == api.OpLaunchGroup && op.LaunchGroup != nil && op.LaunchGroup.TaskGroup != nil:
		return op.LaunchGroup.TaskGroup.Tasks
	}
	return nil
}

// checkOperations checks an ACCEPT's operations: each of a type of
// mesos.proto, with its object, and not too many tasks in all.
func (c *Core) checkOperations(a *api.Accept) *Refusal {
	if len(a.OfferIDs) == 0 {
		return c.refuse(http.StatusBadRequest, "accept.offer_ids", "an ACCEPT names at least one offer")
	}
	n := 0
	for i, op := range a.Operations {
		field := fmt.Sprintf("accept.operations[%d]", i)
		switch {
		case !api.ValidOperationType(op.Type):
			return c.refuse(http.StatusBadRequest, field+".type", "operation type %.64q; known: %s", op.Type, strings.Join(api.OperationTypes, ", "))
		case op.Type == api.OpLaunch && op.Launch == nil:
			return c.refuse(http.StatusBadRequest, field+".launch", "a LAUNCH operation needs its launch object")
		case op.Type == api.OpLaunchGroup && op.LaunchGroup == nil:
			return c.refuse(http.StatusBadRequest, field+".launch_group", "a LAUNCH_GROUP operation needs its launch_group object")
		}
		n += len(launchedBy(op))
	}
	if n > c.cfg.Limits.MaxTasksPerAccept {
		return c.refuse(http.StatusBadRequest, "accept.operations", "%d tasks in one ACCEPT; at most %d", n, c.cfg.Limits.MaxTasksPerAccept)
	}
	return nil
}

// acceptedOffers looks up the offers of an accept; why says why they
// cannot be used (with the offers that could, which are used up all the
// same); foreign says some are another master's.
func (c *Core) acceptedOffers(f *Framework, ids []api.ID) (offers []allocator.Offer, agent, why string, foreign bool) {
	seen := map[allocator.OfferID]bool{}
	for _, id := range ids {
		foreign = foreign || !c.ownOffer(id.Value)
		oid, ok := c.parseOfferID(id.Value)
		o, found := c.alloc.Offer(oid)
		switch {
		case ok && seen[oid]:
			why = fmt.Sprintf("offer %s is named twice", id.Value)
		case !ok || !found || string(o.Framework) != f.ID:
			why = fmt.Sprintf("offer %.64s is not outstanding for this framework (it was used, declined, rescinded or never made)", id.Value)
		case len(offers) > 0 && o.Agent != offers[0].Agent:
			why = fmt.Sprintf("offer %s is on agent %s, not %s: one ACCEPT uses offers of one agent", id.Value, o.Agent, offers[0].Agent)
			seen[oid] = true
			_ = c.alloc.Decline(oid, 0, c.now)
		case len(offers) > 0 && o.Role != offers[0].Role:
			why = fmt.Sprintf("offer %s is for role %s, not %s", id.Value, o.Role, offers[0].Role)
			seen[oid] = true
			_ = c.alloc.Decline(oid, 0, c.now)
		default:
			seen[oid] = true
			offers = append(offers, o)
		}
	}
	if len(offers) == 0 {
		return nil, "", why, foreign
	}
	return offers, string(offers[0].Agent), why, foreign
}

// checkTask checks one task of an accept, for role; the message says what
// is wrong, and the reason is Mesos' for it ("": REASON_TASK_INVALID).
func (c *Core) checkTask(f *Framework, ti api.TaskInfo, field, agent, role string) (res allocator.Resources, reason, msg string) {
	id := ti.TaskID.Value
	lim := c.cfg.Limits
	res, err := api.ToResources(field+".resources", ti.Resources)
	if err == nil {
		err = api.CheckAllocation(field+".resources", ti.Resources, mesosRole(role))
	}
	idErr := api.ValidName(id)
	switch {
	case idErr != nil:
		return nil, "", fmt.Sprintf("%s.task_id: %v (it names the task's sandbox)", field, idErr)
	case len(f.Tasks) >= lim.MaxTasksPerFramework:
		return nil, "", fmt.Sprintf("%s: the framework has %d tasks not completed, the limit (--max-tasks-per-framework)", field, len(f.Tasks))
	case ti.AgentID.Value != "" && ti.AgentID.Value != agent:
		return nil, "", fmt.Sprintf("%s.agent_id: %.64q, but the offers are on %s", field, ti.AgentID.Value, agent)
	case len(ti.Name) > lim.MaxName:
		return nil, "", fmt.Sprintf("%s.name: %d bytes; at most %d", field, len(ti.Name), lim.MaxName)
	case err != nil:
		return nil, "", err.Error()
	case res.IsEmpty():
		return nil, "", field + ".resources: empty; a task asks for some cpus or mem"
	}
	if msg := checkMesosTask(field, &ti, lim); msg != "" {
		return nil, "", msg
	}
	if user := cmp.Or(ti.Command.User, f.Info.User); user != "" {
		if r := c.authorize(f.Info.Principal, auth.RunTasks, user, field+".command.user"); r != nil {
			return nil, api.ReasonTaskUnauthorized, r.Message
		}
	}
	return res, "", ""
}

// useOffers accepts each offer with its part of used; the rest of each
// goes back with the filter.
func (c *Core) useOffers(offers []allocator.Offer, used allocator.Resources, refuse time.Duration) {
	left := used
	for _, o := range offers {
		part := overlap(o.Resources, left)
		left = left.Sub(part)
		if err := c.alloc.Accept(o.ID, part, refuse, c.now); err != nil {
			c.applyErrors = append(c.applyErrors, err)
		}
	}
}

// overlap is the most of want that fits in have, entry by entry.
func overlap(have, want allocator.Resources) allocator.Resources {
	var out allocator.Resources
	for _, w := range want {
		q := min(w.Value, have.Get(w.Name, w.Role))
		if q > 0 {
			out = out.Add(allocator.Resources{{Name: w.Name, Role: w.Role, Value: q}})
		}
	}
	return out
}

// launch records a task (its resources are charged already) and sends it
// to its agent.
func (c *Core) launch(f *Framework, t *Task) {
	t = c.record(f, t)
	info := f.Info
	c.toAgent(c.reg.agents[t.AgentID], api.AgentEvent{Type: api.AgentEventLaunch, Launch: &api.AgentLaunchTask{
		FrameworkID: f.ID, Framework: &info, Role: t.Role, Task: t.Info}})
}

// record adds a launched task to the registry, its resources charged.
func (c *Core) record(f *Framework, t *Task) *Task {
	c.apply(Command{Op: OpAddTask, Task: &t.TaskRecord, Ref: Ref{State: TaskStaging}})
	t = f.Tasks[t.Info.TaskID.Value]
	t.charged = true
	c.stats.Launched++
	return t
}
