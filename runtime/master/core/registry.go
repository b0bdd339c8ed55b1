package core

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Registry is the part of the master's state that survives a failover:
// what a replicated log holds. It changes only through Apply, so every
// replica that applies the same commands holds the same registry.
type Registry struct {
	frameworks map[string]*Framework // not removed
	gone       []*Framework          // removed, the last Limits.KeepGone
	agents     map[string]*Agent
	agentOrder []string // agent ids in the order first registered
	executors  map[execKey]*Executor
	nextFw     int   // frameworks ever added
	launches   int64 // tasks ever launched or adopted
	policy     PolicyRecord
	policies   []PolicyRecord // the history, oldest first, the last Limits.PolicyHistory
	counts     map[string]int // tasks by state, since the registry began
	limits     Limits
}

// NewRegistry returns an empty registry that keeps what limits say.
func NewRegistry(limits Limits) *Registry {
	limits.defaults()
	return &Registry{frameworks: map[string]*Framework{}, agents: map[string]*Agent{}, executors: map[execKey]*Executor{}, counts: map[string]int{}, limits: limits}
}

// FrameworkRecord is a framework as the registry keeps it.
type FrameworkRecord struct {
	ID         string            `json:"id"`
	Info       api.FrameworkInfo `json:"info"`
	Roles      []string          `json:"roles"` // the allocator's names ("*" is "default")
	Registered time.Time         `json:"registered"`
	Removed    time.Time         `json:"removed,omitzero"`
	Why        string            `json:"why,omitempty"`
}

// AgentRecord is an agent as the registry keeps it.
type AgentRecord struct {
	ID         string            `json:"id"`
	Hostname   string            `json:"hostname"`
	URL        string            `json:"url"`
	Isolation  string            `json:"isolation"`
	Resources  string            `json:"resources"` // text form
	Attributes map[string]string `json:"attributes,omitempty"`
	State      string            `json:"state"` // active or unreachable
	Registered time.Time         `json:"registered"`
	Principal  string            `json:"principal,omitempty"` // who registered it; its calls must come from it
	// The last subscription taken: an older one that arrives late is
	// refused.
	Incarnation uint64 `json:"incarnation,omitempty"`
	Generation  uint64 `json:"generation,omitempty"`
}

// TaskRecord is a task as the registry keeps it.
type TaskRecord struct {
	FrameworkID string       `json:"framework_id"`
	AgentID     string       `json:"agent_id"`
	Role        string       `json:"role"`
	Info        api.TaskInfo `json:"info"`
	Resources   string       `json:"resources"` // text form
	Seq         int64        `json:"seq"`       // launch order
}

// PolicyRecord is a policy that was in force.
type PolicyRecord struct {
	Config    allocator.Config `json:"config"`
	Source    string           `json:"source"`
	AppliedAt time.Time        `json:"applied_at"`
}

// Ref names what a command changes and how.
type Ref struct {
	Framework string `json:"framework,omitempty"`
	Agent     string `json:"agent,omitempty"`
	Task      string `json:"task,omitempty"`
	State     string `json:"state,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Command ops.
const (
	OpAddFramework    = "ADD_FRAMEWORK"    // Framework: a new one, or one recovered from an agent
	OpUpdateFramework = "UPDATE_FRAMEWORK" // Framework: its info on resubscription
	OpRemoveFramework = "REMOVE_FRAMEWORK" // Ref.Framework, Ref.Message: why
	OpAddAgent        = "ADD_AGENT"        // Agent: registered or re-registered
	OpAgentState      = "AGENT_STATE"      // Ref.Agent, Ref.State
	OpAddTask         = "ADD_TASK"         // Task and Ref.State: launched, or adopted from an agent
	OpTaskState       = "TASK_STATE"       // Ref: the task's new latest state
	OpCompleteTask    = "COMPLETE_TASK"    // Ref: a terminal task whose end the framework knows
	OpKillTask        = "KILL_TASK"        // Ref: the framework asked to kill it
	OpSetPolicy       = "SET_POLICY"       // Policy
	OpReserve         = "RESERVE"          // Reservation: amounts reserved dynamically
	OpUnreserve       = "UNRESERVE"        // Reservation: amounts unreserved
	OpAddExecutor     = "ADD_EXECUTOR"     // Executor: a task group's, before its tasks
)

// Command is one change to the registry: an entry of the replicated log.
type Command struct {
	Op        string           `json:"op"`
	At        time.Time        `json:"at"`
	Framework *FrameworkRecord `json:"framework,omitempty"`
	Agent     *AgentRecord     `json:"agent,omitempty"`
	Task      *TaskRecord      `json:"task,omitempty"`
	Policy    *PolicyRecord    `json:"policy,omitempty"`
	Ref       Ref              `json:"ref,omitzero"`

	Reservation *ReservationRecord `json:"reservation,omitempty"`
	Executor    *ExecutorRecord    `json:"executor,omitempty"`
}

// Apply changes the registry by one command. An error means the command
// does not fit the registry (it names something that is not there); the
// registry is then unchanged.
func (r *Registry) Apply(c Command) error {
	switch c.Op {
	case OpAddFramework, OpUpdateFramework:
		return r.putFramework(c)
	case OpRemoveFramework:
		return r.removeFramework(c)
	case OpAddAgent:
		return r.putAgent(c)
	case OpAgentState:
		ag := r.agents[c.Ref.Agent]
		if ag == nil {
			return fmt.Errorf("%s: no agent %q", c.Op, c.Ref.Agent)
		}
		ag.State = c.Ref.State
		return nil
	case OpAddTask:
		return r.addTask(c)
	case OpTaskState, OpCompleteTask, OpKillTask:
		return r.changeTask(c)
	case OpSetPolicy:
		if c.Policy == nil {
			return fmt.Errorf("%s: no policy", c.Op)
		}
		r.policy = *c.Policy
		r.policies = appendBounded(r.policies, *c.Policy, r.limits.PolicyHistory)
		return nil
	case OpReserve, OpUnreserve:
		return r.applyReservation(c)
	case OpAddExecutor:
		return r.addExecutor(c)
	}
	return fmt.Errorf("unknown command op %q", c.Op)
}

func (r *Registry) putFramework(c Command) error {
	rec := c.Framework
	if rec == nil || rec.ID == "" {
		return fmt.Errorf("%s: no framework", c.Op)
	}
	if f := r.frameworks[rec.ID]; f != nil {
		f.FrameworkRecord = *rec
		return nil
	}
	if c.Op == OpUpdateFramework {
		return fmt.Errorf("%s: no framework %q", c.Op, rec.ID)
	}
	r.nextFw++
	r.frameworks[rec.ID] = &Framework{FrameworkRecord: *rec, Tasks: map[string]*Task{}, suppressed: map[string]bool{}}
	return nil
}

func (r *Registry) removeFramework(c Command) error {
	f := r.frameworks[c.Ref.Framework]
	if f == nil {
		return fmt.Errorf("%s: no framework %q", c.Op, c.Ref.Framework)
	}
	for _, id := range sortedKeys(f.Tasks) {
		r.complete(f.Tasks[id])
	}
	delete(r.frameworks, f.ID)
	f.Removed, f.Why = c.At, c.Ref.Message
	r.gone = appendBounded(r.gone, f, r.limits.KeepGone)
	return nil
}

func (r *Registry) putAgent(c Command) error {
	rec := c.Agent
	if rec == nil || rec.ID == "" {
		return fmt.Errorf("%s: no agent", c.Op)
	}
	total, err := allocator.ParseResources(rec.Resources)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.Op, rec.ID, err)
	}
	ag := r.agents[rec.ID]
	if ag == nil {
		ag = newAgent()
		r.agents[rec.ID] = ag
		r.agentOrder = append(r.agentOrder, rec.ID)
	}
	ag.AgentRecord, ag.total = *rec, total
	ag.reshape()
	return nil
}

func (r *Registry) addTask(c Command) error {
	rec := c.Task
	if rec == nil {
		return fmt.Errorf("%s: no task", c.Op)
	}
	f, ag := r.frameworks[rec.FrameworkID], r.agents[rec.AgentID]
	if f == nil || ag == nil {
		return fmt.Errorf("%s: task %s of framework %q on agent %q: no such framework or agent", c.Op, rec.Info.TaskID.Value, rec.FrameworkID, rec.AgentID)
	}
	res, err := allocator.ParseResources(rec.Resources)
	if err != nil {
		return fmt.Errorf("%s: task %s: %w", c.Op, rec.Info.TaskID.Value, err)
	}
	id := rec.Info.TaskID.Value
	if f.Tasks[id] != nil {
		return fmt.Errorf("%s: framework %s already has task %s", c.Op, f.ID, id)
	}
	r.launches++
	t := &Task{TaskRecord: *rec, fw: f, res: res}
	t.Seq = r.launches
	f.Tasks[id] = t
	ag.Tasks[taskKey{f.ID, id}] = t
	r.joinExecutor(t)
	r.setState(t, c.Ref, c.At)
	return nil
}

func (r *Registry) changeTask(c Command) error {
	f := r.frameworks[c.Ref.Framework]
	var t *Task
	if f != nil {
		t = f.Tasks[c.Ref.Task]
	}
	if t == nil {
		return fmt.Errorf("%s: framework %q has no task %q", c.Op, c.Ref.Framework, c.Ref.Task)
	}
	switch c.Op {
	case OpTaskState:
		r.setState(t, c.Ref, c.At)
	case OpKillTask:
		t.KillAsked = true
	case OpCompleteTask:
		r.complete(t)
	}
	return nil
}

// setState moves a task to a new latest state and records the
// transition.
func (r *Registry) setState(t *Task, s Ref, at time.Time) {
	if t.State != "" {
		r.counts[t.State]--
	}
	r.counts[s.State]++
	t.State, t.Reason, t.Message, t.Updated = s.State, s.Reason, s.Message, at
	t.History = appendBounded(t.History, Transition{State: s.State, Reason: s.Reason, Message: s.Message, Time: at}, r.limits.Transitions)
	t.refresh()
}

// complete moves a task from its framework's tasks to the completed ones.
func (r *Registry) complete(t *Task) {
	f := t.fw
	r.leaveExecutor(t)
	delete(f.Tasks, t.Info.TaskID.Value)
	if ag := r.agents[t.AgentID]; ag != nil {
		delete(ag.Tasks, taskKey{f.ID, t.Info.TaskID.Value})
	}
	f.Done = appendBounded(f.Done, t, r.limits.Retain)
}

// appendBounded appends x and keeps the last n.
func appendBounded[T any](s []T, x T, n int) []T {
	s = append(s, x)
	if over := len(s) - n; over > 0 {
		clear(s[:over])
		s = append(s[:0], s[over:]...)
	}
	return s
}
