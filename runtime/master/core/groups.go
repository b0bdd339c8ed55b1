package core

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Mesos' MIN_CPUS and MIN_MEM, which the DEFAULT executor of a task group
// must ask for at least.
const (
	minExecutorCPUs   = 0.01
	minExecutorMemMiB = 32
)

// launchGroup launches a task group (LAUNCH_GROUP): all its tasks or none.
// The executor and the tasks are checked together, and their resources
// must fit together in what is left of the offers. If anything is wrong,
// every task is refused TASK_ERROR with reason REASON_TASK_GROUP_INVALID
// (REASON_TASK_GROUP_UNAUTHORIZED for a user the framework may not run
// tasks as) and the same message, as Mesos' master refuses a group.
func (run *acceptRun) launchGroup(field string, op api.Operation) {
	var infos []api.TaskInfo
	if g := op.LaunchGroup.TaskGroup; g != nil {
		infos = g.Tasks
	}
	exec, res, reason, msg := run.checkGroup(field, op, infos)
	if msg != "" {
		told := map[string]bool{}
		for _, ti := range infos {
			if id := ti.TaskID.Value; run.fresh(id) && !told[id] {
				told[id] = true
				run.c.refuseTask(run.f, ti, run.agent.ID, TaskError, reason, msg)
			} else {
				run.c.stats.Invalid++
			}
		}
		return
	}
	unit := launchUnit{exec: exec}
	for j, ti := range infos {
		ti.Executor = &exec.Info
		unit.tasks = append(unit.tasks, run.task(ti, res[j]))
		run.take(res[j])
		run.seen[ti.TaskID.Value] = true
	}
	run.take(exec.res())
	run.launch = append(run.launch, unit)
}

func (e *ExecutorRecord) res() allocator.Resources {
	r, _ := allocator.ParseResources(e.Resources) // written from parsed resources
	return r
}

// checkGroup checks a task group and returns its executor and each task's
// resources, or the reason and message that refuse it.
func (run *acceptRun) checkGroup(field string, op api.Operation, infos []api.TaskInfo) (*ExecutorRecord, []allocator.Resources, string, string) {
	const invalid = "REASON_TASK_GROUP_INVALID"
	if msg := run.noFeedback(field, op); msg != "" {
		return nil, nil, invalid, msg
	}
	field += ".launch_group"
	exec, total, msg := run.checkExecutor(field+".executor", op.LaunchGroup.Executor)
	if msg != "" {
		return nil, nil, invalid, msg
	}
	lim := run.c.cfg.Limits
	switch {
	case len(infos) == 0:
		return nil, nil, invalid, field + ".task_group.tasks: empty; a task group has at least one task"
	case len(run.f.Tasks)+len(run.seen)+len(infos) > lim.MaxTasksPerFramework:
		return nil, nil, invalid, fmt.Sprintf("%s.task_group: %d tasks more would pass the framework's limit of %d tasks not completed (--max-tasks-per-framework)", field, len(infos), lim.MaxTasksPerFramework)
	}
	var res []allocator.Resources
	names := map[string]bool{}
	for j, ti := range infos {
		tf := fmt.Sprintf("%s.task_group.tasks[%d]", field, j)
		id := ti.TaskID.Value
		if !run.fresh(id) || names[id] {
			return nil, nil, invalid, fmt.Sprintf("%s.task_id: %.64q runs already, or is named twice: a task group's ids are new", tf, id)
		}
		names[id] = true
		if e := ti.Executor; e != nil && (e.ExecutorID != exec.Info.ExecutorID || cmp.Or(e.Type, api.ExecutorDefault) != api.ExecutorDefault) {
			return nil, nil, invalid, fmt.Sprintf("%s.executor: executor %.64q is not the group's executor %q", tf, e.ExecutorID.Value, exec.Info.ExecutorID.Value)
		}
		ti.Executor = nil
		r, reason, msg := run.c.checkTask(run.f, ti, tf, run.agent.ID, run.role)
		if reason == api.ReasonTaskUnauthorized {
			return nil, nil, "REASON_TASK_GROUP_UNAUTHORIZED", msg
		}
		if msg != "" {
			return nil, nil, invalid, msg
		}
		res = append(res, r)
		total = total.Add(r)
	}
	if !run.left.Contains(total) {
		return nil, nil, invalid, fmt.Sprintf("%s: the task group and its executor need %s, more than what is left of the offers, %s", field, total, run.left)
	}
	return exec, res, "", ""
}

// checkExecutor checks a task group's ExecutorInfo: apron does what
// Mesos' DEFAULT executor does, and no other.
func (run *acceptRun) checkExecutor(field string, e *api.ExecutorInfo) (*ExecutorRecord, allocator.Resources, string) {
	if e == nil {
		return nil, nil, field + ": missing; a task group names its executor, of type DEFAULT"
	}
	id := e.ExecutorID.Value
	switch {
	case e.Type == "":
		return nil, nil, field + ".type: not set; give DEFAULT ('ExecutorInfo.type' must be set)"
	case e.Type == api.ExecutorCustom:
		return nil, nil, field + ".type: CUSTOM is not supported: apron runs no custom executor; give DEFAULT"
	case e.Type != api.ExecutorDefault:
		return nil, nil, fmt.Sprintf("%s.type: %.32q; want DEFAULT", field, e.Type)
	case len(e.Command) > 0 && string(e.Command) != "null":
		return nil, nil, field + ".command: 'ExecutorInfo.command' must not be set for 'DEFAULT' executor"
	case !mesosContainer(e.Container):
		return nil, nil, field + ".container: apron runs tasks without containers (no images, networks or volumes); leave it unset or {\"type\":\"MESOS\"}"
	case e.FrameworkID != nil && e.FrameworkID.Value != run.f.ID:
		return nil, nil, fmt.Sprintf("%s.framework_id: %.64q; the framework is %s", field, e.FrameworkID.Value, run.f.ID)
	case len(e.Name) > run.c.cfg.Limits.MaxName:
		return nil, nil, fmt.Sprintf("%s.name: %d bytes; at most %d", field, len(e.Name), run.c.cfg.Limits.MaxName)
	}
	if err := api.ValidName(id); err != nil {
		return nil, nil, fmt.Sprintf("%s.executor_id: %v", field, err)
	}
	if run.c.reg.executors[execKey{run.f.ID, run.agent.ID, id}] != nil {
		return nil, nil, fmt.Sprintf("%s.executor_id: executor %q of this framework has tasks on agent %s still: apron starts one task group per executor; give a new executor_id", field, id, run.agent.ID)
	}
	res, err := api.ToResources(field+".resources", e.Resources)
	if err != nil {
		return nil, nil, err.Error()
	}
	if cpus, mem := res.Sum("cpus").Float(), res.Sum("mem").Float(); cpus < minExecutorCPUs || mem < minExecutorMemMiB {
		return nil, nil, fmt.Sprintf("%s.resources: executor %q uses cpus %v and mem %v; the minimum is %v cpus and %v MiB mem (Mesos' MIN_CPUS, MIN_MEM)", field, id, cpus, mem, minExecutorCPUs, minExecutorMemMiB)
	}
	info := api.ExecutorInfo{Type: api.ExecutorDefault, ExecutorID: e.ExecutorID, FrameworkID: &api.ID{Value: run.f.ID}, Name: e.Name}
	return &ExecutorRecord{FrameworkID: run.f.ID, AgentID: run.agent.ID, Role: run.role, Info: info, Resources: res.String()}, res, ""
}

// mesosContainer says whether an executor's container asks for nothing
// apron does not do: none, or {"type": "MESOS"} alone.
func mesosContainer(raw json.RawMessage) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var c map[string]json.RawMessage
	if json.Unmarshal(raw, &c) != nil || len(c) > 1 {
		return false
	}
	t, ok := c["type"]
	return len(c) == 0 || ok && bytes.Equal(bytes.TrimSpace(t), []byte(`"MESOS"`))
}

// launchGroupOnAgent records a task group, its executor first, and sends
// it to its agent in one event, so that its tasks start together.
func (c *Core) launchGroupOnAgent(f *Framework, u launchUnit) {
	c.apply(Command{Op: OpAddExecutor, Executor: u.exec})
	if e := c.reg.executors[u.exec.key()]; e != nil {
		e.charged = true
	}
	ev := &api.AgentLaunchGroup{FrameworkID: f.ID, Role: u.exec.Role}
	info := f.Info
	ev.Framework = &info
	for _, t := range u.tasks {
		c.record(f, t)
		ev.Tasks = append(ev.Tasks, t.Info)
	}
	c.toAgent(c.reg.agents[u.exec.AgentID], api.AgentEvent{Type: api.AgentEventLaunchGroup, LaunchGroup: ev})
}
