package core

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// What Mesos' v1 scheduler API has that apron answers as Mesos does: its
// framework info's fields, suppressed roles and role changes, and the
// calls apron serves as Mesos serves one it cannot act on (no executors,
// inverse offers or resource providers).

// SetMasterInfo gives the master's description for SUBSCRIBED events: the
// shell knows its address, the core does not.
func (c *Core) SetMasterInfo(mi *api.MasterInfo) { c.masterInfo = mi }

// MaxGrace bounds a task's kill policy grace period.
const MaxGrace = time.Hour

// checkMesosInfo checks the fields of a framework info apron keeps or
// refuses: bounded labels and names, and no offer filters (apron's
// allocator has no per-framework minimum allocatable resources).
func (c *Core) checkMesosInfo(field string, info *api.FrameworkInfo) *Refusal {
	lim := c.cfg.Limits
	if len(info.OfferFilters) > 0 {
		return c.refuse(http.StatusBadRequest, field+".offer_filters", "%s.offer_filters: apron's allocator has no minimum allocatable resources per role; leave it out", field)
	}
	for name, v := range map[string]string{"webui_url": info.WebUIURL, "principal": info.Principal, "role": info.Role} {
		if len(v) > lim.MaxName {
			return c.refuse(http.StatusBadRequest, field+"."+name, "%s.%s: %d bytes; at most %d", field, name, len(v), lim.MaxName)
		}
	}
	if msg := checkLabels(field+".labels", info.Labels, lim); msg != "" {
		return c.refuse(http.StatusBadRequest, field+".labels", "%s", msg)
	}
	return nil
}

func checkLabels(field string, l *api.Labels, lim Limits) string {
	if l == nil {
		return ""
	}
	if len(l.Labels) > lim.MaxAttributes {
		return fmt.Sprintf("%s: %d labels; at most %d", field, len(l.Labels), lim.MaxAttributes)
	}
	for i, x := range l.Labels {
		if len(x.Key)+len(x.Value) > lim.MaxName {
			return fmt.Sprintf("%s.labels[%d]: %d bytes; at most %d", field, i, len(x.Key)+len(x.Value), lim.MaxName)
		}
	}
	return ""
}

// checkSuppressed checks that suppressed roles are roles of the framework,
// and returns them as the allocator names them.
func (c *Core) checkSuppressed(field string, suppressed, roles []string) ([]string, *Refusal) {
	out := make([]string, 0, len(suppressed))
	for i, r := range suppressed {
		if !slices.Contains(roles, wireRole(r)) {
			return nil, c.refuse(http.StatusBadRequest, fmt.Sprintf("%s[%d]", field, i), "%s[%d]: %.64q is not one of the framework's roles %v", field, i, r, mesosRoles(roles))
		}
		out = append(out, wireRole(r))
	}
	return out, nil
}

func mesosRoles(roles []string) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = mesosRole(r)
	}
	return out
}

// suppress stops offers to a framework in roles.
func (c *Core) suppress(f *Framework, roles []string) {
	if len(roles) == 0 {
		return
	}
	_ = c.alloc.Suppress(allocator.FrameworkID(f.ID), roles...)
	for _, r := range roles {
		f.suppressed[r] = true
	}
}

// updateFramework records a framework's new info and roles. New roles are
// offered to at once; a role is dropped only when no task of the
// framework that has not ended runs in it, as apron's allocator keeps a
// running task's resources charged to its role.
func (c *Core) updateFramework(f *Framework, info api.FrameworkInfo, roles []string, field string) *Refusal {
	if !slices.Equal(f.Roles, roles) {
		for _, t := range bySeq(taskList(f.Tasks)) {
			if !Terminal(t.State) && !slices.Contains(roles, t.Role) {
				return c.refuse(http.StatusBadRequest, field, "framework %s runs task %s in role %q: apron drops a role once its tasks have ended (new roles: %v)",
					f.ID, t.Info.TaskID.Value, mesosRole(t.Role), mesosRoles(roles))
			}
		}
		c.changeRoles(f, roles)
	}
	info.ID = &api.ID{Value: f.ID}
	rec := f.FrameworkRecord
	rec.Info, rec.Roles = info, roles
	c.apply(Command{Op: OpUpdateFramework, Framework: &rec})
	return nil
}

// changeRoles gives the allocator a framework's new roles: it is added
// anew, its running tasks' resources charged again, its offers rescinded.
func (c *Core) changeRoles(f *Framework, roles []string) {
	id := allocator.FrameworkID(f.ID)
	c.rescindAll(f)
	_ = c.alloc.RemoveFramework(id)
	if err := c.alloc.AddFramework(id, roles...); err != nil {
		c.applyErrors = append(c.applyErrors, err)
		return
	}
	for _, t := range bySeq(taskList(f.Tasks)) {
		if t.charged {
			if err := c.alloc.Restore(id, t.Role, allocator.AgentID(t.AgentID), t.res); err != nil {
				c.applyErrors = append(c.applyErrors, err)
			}
		}
	}
	for r := range f.suppressed {
		if !slices.Contains(roles, r) {
			delete(f.suppressed, r)
		}
	}
	if f.stream == "" {
		_ = c.alloc.Suppress(id)
		return
	}
	c.suppress(f, sortedKeys(f.suppressed))
	c.soon = true
}

// updateFrameworkCall is UPDATE_FRAMEWORK: the info of a subscribed
// framework and its suppressed roles change as a resubscription would
// change them, but its principal, user and checkpoint may not.
func (c *Core) updateFrameworkCall(f *Framework, u *api.UpdateFramework) *Refusal {
	const field = "update_framework.framework_info"
	if u == nil {
		return c.refuse(http.StatusBadRequest, "update_framework", "an UPDATE_FRAMEWORK call needs update_framework.framework_info")
	}
	info := u.FrameworkInfo
	switch {
	case !api.IsNull(u.OfferConstraints):
		return c.refuse(http.StatusBadRequest, "update_framework.offer_constraints", NoOfferConstraints)
	case info.ID == nil || info.ID.Value != f.ID:
		return c.refuse(http.StatusBadRequest, field+".id", "%s.id must be the framework's id, %s", field, f.ID)
	case info.Principal != "" && info.Principal != f.Info.Principal:
		return c.refuse(http.StatusBadRequest, field+".principal", "%s.principal: a framework's principal may not change (it is %q)", field, f.Info.Principal)
	case info.User != f.Info.User || info.Checkpoint != f.Info.Checkpoint:
		return c.refuse(http.StatusBadRequest, field+".user", "%s: user and checkpoint may not change (they are %q and %v)", field, f.Info.User, f.Info.Checkpoint)
	}
	info.Principal = f.Info.Principal
	roles, r := c.checkFrameworkInfo(field, &info)
	var suppressed []string
	if r == nil {
		suppressed, r = c.checkSuppressed("update_framework.suppressed_roles", u.SuppressedRoles, roles)
	}
	for _, role := range roles {
		if r == nil && !slices.Contains(f.Roles, role) {
			r = c.authorize(info.Principal, auth.RegisterFrameworks, mesosRole(role), field+".roles")
		}
	}
	if r == nil {
		r = c.updateFramework(f, info, roles, field+".roles")
	}
	if r != nil {
		return r
	}
	var revive []string
	for _, role := range roles {
		if f.suppressed[role] && !slices.Contains(suppressed, role) {
			revive = append(revive, role)
			f.suppressed[role] = false
		}
	}
	if len(revive) > 0 {
		_ = c.alloc.Revive(allocator.FrameworkID(f.ID), revive...)
		c.soon = true
	}
	c.suppress(f, suppressed)
	return nil
}

// noExecutorCall checks SHUTDOWN, MESSAGE, REQUEST and the inverse offer
// calls as Mesos checks them. Then, but for a SHUTDOWN of a task group's
// executor (shutdownExecutor), nothing is done: Mesos' master drops a
// message for an executor that is not there (apron's only executors are
// task groups' DEFAULT ones, which the agent plays and which take no
// messages), its allocator ignores REQUEST, and apron makes no inverse
// offers.
func (c *Core) noExecutorCall(call *api.Call) *Refusal {
	var missing string
	switch call.Type {
	case api.CallShutdown:
		if s := call.Shutdown; s == nil || s.ExecutorID.Value == "" || s.AgentID.Value == "" {
			missing = "shutdown.executor_id and shutdown.agent_id"
		}
	case api.CallMessage:
		if m := call.Message; m == nil || m.ExecutorID.Value == "" || m.AgentID.Value == "" {
			missing = "message.agent_id, message.executor_id and message.data"
		}
	case api.CallRequest:
		if call.Request == nil {
			missing = "request"
		}
	case api.CallAcceptInverseOffers:
		if call.AcceptInverseOffers == nil {
			missing = "accept_inverse_offers"
		}
	case api.CallDeclineInverseOffers:
		if call.DeclineInverseOffers == nil {
			missing = "decline_inverse_offers"
		}
	}
	if missing != "" {
		return c.refuse(http.StatusBadRequest, call.Type, "a %s call needs %s", call.Type, missing)
	}
	return nil
}

// shutdownExecutor is SHUTDOWN of a task group's executor: its tasks are
// killed, as Mesos' agent shuts the default executor down with them. An
// executor the framework does not have on that agent is ignored, as
// Mesos' agent ignores it.
func (c *Core) shutdownExecutor(f *Framework, s *api.Shutdown) {
	e := c.reg.executors[execKey{f.ID, s.AgentID.Value, s.ExecutorID.Value}]
	if e == nil {
		return
	}
	for _, t := range e.tasks {
		if !Terminal(t.State) {
			c.kill(f, &api.Kill{TaskID: t.Info.TaskID, AgentID: &api.ID{Value: t.AgentID}})
		}
	}
}

// acknowledgeOperation is ACKNOWLEDGE_OPERATION_STATUS: checked as Mesos
// checks it; the operation statuses apron sends (answers to
// RECONCILE_OPERATIONS) carry no uuid, so there is nothing to
// acknowledge, and Mesos ignores an acknowledgement of an unknown
// operation.
func (c *Core) acknowledgeOperation(a *api.AcknowledgeOperationStatus) *Refusal {
	switch {
	case a == nil || a.OperationID.Value == "":
		return c.refuse(http.StatusBadRequest, "acknowledge_operation_status", "an ACKNOWLEDGE_OPERATION_STATUS call needs acknowledge_operation_status.operation_id, agent_id and uuid")
	case a.AgentID == nil || a.AgentID.Value == "":
		return c.refuse(http.StatusBadRequest, "acknowledge_operation_status.agent_id", "acknowledge_operation_status.agent_id is required")
	case len(a.UUID) != api.UUIDLen:
		return c.refuse(http.StatusBadRequest, "acknowledge_operation_status.uuid", "acknowledge_operation_status.uuid: %d bytes; a uuid is %d bytes (base64 in JSON)", len(a.UUID), api.UUIDLen)
	}
	return nil
}

// reconcileOperations answers RECONCILE_OPERATIONS as Mesos' master
// answers for operations it does not know: by what it knows of the agent
// named, OPERATION_UNREACHABLE, OPERATION_GONE_BY_OPERATOR,
// OPERATION_RECOVERING (an agent of the registry not yet back) or
// OPERATION_UNKNOWN. apron's operations ask for no feedback, so the
// framework has none to reconcile when it names none.
func (c *Core) reconcileOperations(f *Framework, r *api.ReconcileOperations) *Refusal {
	if r == nil {
		return c.refuse(http.StatusBadRequest, "reconcile_operations", "a RECONCILE_OPERATIONS call needs reconcile_operations")
	}
	if len(r.Operations) > c.cfg.Limits.MaxReconcile {
		return c.refuse(http.StatusBadRequest, "reconcile_operations.operations", "reconcile_operations.operations: %d; at most %d in one call", len(r.Operations), c.cfg.Limits.MaxReconcile)
	}
	for _, op := range r.Operations {
		st := api.OperationStatus{OperationID: &api.ID{Value: op.OperationID.Value}, State: "OPERATION_UNKNOWN", AgentID: op.AgentID, ResourceProviderID: op.ResourceProviderID}
		if op.AgentID != nil {
			if ag := c.reg.agents[op.AgentID.Value]; ag != nil {
				_, waiting := c.reregister[ag.ID]
				switch {
				case ag.State == AgentUnreachable:
					st.State = "OPERATION_UNREACHABLE"
				case ag.State == AgentGone:
					st.State = "OPERATION_GONE_BY_OPERATOR"
				case waiting || c.recovering() && ag.stream == "":
					st.State = "OPERATION_RECOVERING"
				}
			}
		}
		c.toFw(f, api.Event{Type: api.EventUpdateOperationStatus, UpdateOperationStatus: &api.UpdateOperationStatus{Status: st}})
	}
	return nil
}

// unreachableTime is when a task's agent became unreachable, for the
// statuses that say so, as Mesos gives it.
func (c *Core) unreachableTime(agent string) *api.TimeInfo {
	if ag := c.reg.agents[agent]; ag != nil && ag.State != AgentActive && !ag.unreachable.IsZero() {
		return &api.TimeInfo{Nanoseconds: ag.unreachable.UnixNano()}
	}
	return nil
}

// checkAgentStatus checks what an agent's status update passes on to a
// framework: a reason of Mesos' enum (or none), and a uuid of 16 bytes
// (or none), which a Mesos framework's acknowledgement must give back.
func checkAgentStatus(s api.TaskStatus) error {
	if s.Reason != "" && !slices.Contains(api.Reasons, s.Reason) {
		return fmt.Errorf("reason: %.64q is not one of Mesos' TaskStatus reasons", s.Reason)
	}
	if s.UUID != "" && len(s.UUID) != api.UUIDLen {
		return fmt.Errorf("uuid: %d bytes; an update's uuid is %d bytes", len(s.UUID), api.UUIDLen)
	}
	return nil
}

// checkMesosTask checks what a task asks of its agent: apron's agents run
// a command (through the shell, or an executable with arguments) as a
// user with an environment, in a cgroup of its resources, with a grace
// period on kill. What else Mesos' TaskInfo can ask for is refused with a
// message that says so, as a Mesos master refuses what it cannot do.
func checkMesosTask(field string, ti *api.TaskInfo, lim Limits) string {
	unsupported := []struct {
		given      bool
		name, what string
	}{
		{ti.Executor != nil, "executor", "apron runs command tasks, with no custom executor; give command only, or launch a task group (LAUNCH_GROUP) with the DEFAULT executor"},
		{!api.IsNull(ti.Container), "container", "apron's agents run tasks in cgroups, with no container image, volume or network"},
		{!api.IsNull(ti.HealthCheck), "health_check", "apron's agents run no health checks"},
		{!api.IsNull(ti.Check), "check", "apron's agents run no checks"},
		{ti.MaxCompletionTime != nil, "max_completion_time", "apron's agents kill no task at a deadline"},
		{len(ti.Limits) > 0, "limits", "a task is limited to its resources"},
		{ti.Command != nil && !api.IsNull(ti.Command.URIs) && string(ti.Command.URIs) != "[]", "command.uris", "apron's agents fetch nothing (no fetcher)"},
	}
	for _, u := range unsupported {
		if u.given {
			return fmt.Sprintf("%s.%s: %s; leave it out", field, u.name, u.what)
		}
	}
	cmd := ti.Command
	if cmd == nil || cmd.Value == "" {
		return field + ".command.value: empty; give the shell command, or with shell false the executable, to run"
	}
	n := len(cmd.Value)
	for _, a := range cmd.Arguments {
		n += len(a) + 1
	}
	if n > lim.MaxCommand {
		return fmt.Sprintf("%s.command: value and arguments of %d bytes; at most %d", field, n, lim.MaxCommand)
	}
	if cmd.Environment != nil {
		for i, v := range cmd.Environment.Variables {
			if v.Type == "SECRET" || !api.IsNull(v.Secret) {
				return fmt.Sprintf("%s.command.environment.variables[%d]: a SECRET; apron has no secret store, give its value", field, i)
			}
		}
	}
	if kp := ti.KillPolicy; kp != nil && kp.GracePeriod != nil {
		if g := kp.GracePeriod.Nanoseconds; g < 0 || g > int64(MaxGrace) {
			return fmt.Sprintf("%s.kill_policy.grace_period: %dns; want 0 to %v", field, g, MaxGrace)
		}
	}
	return checkLabels(field+".labels", ti.Labels, lim)
}

// lostOrDropped is the state of a task launched on offers that cannot be
// used, as Mesos gives it: TASK_DROPPED to a partition-aware framework,
// TASK_LOST to another.
func lostOrDropped(f *Framework) string {
	if f.Info.Has(api.PartitionAware) {
		return TaskDropped
	}
	return TaskLost
}

// ID is the master's id, which prefixes its frameworks' and offers' ids.
func (c *Core) ID() string { return c.cfg.ID }

// NoOfferConstraints refuses Mesos' offer constraints, in SUBSCRIBE and UPDATE_FRAMEWORK.
const NoOfferConstraints = "offer_constraints: apron's allocator has no attribute constraints on offers; leave them out"
