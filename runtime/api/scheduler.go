package api

import "encoding/json"

// The scheduler API, modelled on Mesos v1 (mesos/v1/scheduler.proto in its
// JSON form). Fields apron does not use are left out; apron adds Job to
// TaskInfo, for accounting.

// ID is a Mesos-style identifier object.
type ID struct {
	Value string `json:"value"`
}

// StreamIDHeader carries a subscription's stream id; later calls present
// it. Mesos-Stream-Id is accepted too.
const StreamIDHeader = "Apron-Stream-Id"

// Scheduler call types.
const (
	CallSubscribe   = "SUBSCRIBE"
	CallTeardown    = "TEARDOWN"
	CallAccept      = "ACCEPT"
	CallDecline     = "DECLINE"
	CallRevive      = "REVIVE"
	CallSuppress    = "SUPPRESS"
	CallKill        = "KILL"
	CallAcknowledge = "ACKNOWLEDGE"
	CallReconcile   = "RECONCILE"
)

// Call is one scheduler call.
type Call struct {
	FrameworkID *ID          `json:"framework_id,omitempty"`
	Type        string       `json:"type"`
	Subscribe   *Subscribe   `json:"subscribe,omitempty"`
	Accept      *Accept      `json:"accept,omitempty"`
	Decline     *Decline     `json:"decline,omitempty"`
	Revive      *Roles       `json:"revive,omitempty"`
	Suppress    *Roles       `json:"suppress,omitempty"`
	Kill        *Kill        `json:"kill,omitempty"`
	Acknowledge *Acknowledge `json:"acknowledge,omitempty"`
	Reconcile   *Reconcile   `json:"reconcile,omitempty"`
}

// FrameworkInfo describes a framework as it subscribes.
type FrameworkInfo struct {
	ID   *ID    `json:"id,omitempty"` // set when resubscribing
	Name string `json:"name"`
	User string `json:"user,omitempty"`
	// Principal is who subscribed the framework, as the master
	// authenticated it; every later call must come from it.
	Principal       string   `json:"principal,omitempty"`
	Roles           []string `json:"roles,omitempty"` // default ["*"]
	FailoverTimeout float64  `json:"failover_timeout,omitempty"`
	Hostname        string   `json:"hostname,omitempty"`
	// Capabilities as Mesos names them; apron reads PARTITION_AWARE (an
	// unreachable agent's tasks are TASK_UNREACHABLE, not TASK_LOST, and
	// resume if it comes back).
	Capabilities []Capability `json:"capabilities,omitempty"`
}

// Capability is one capability of a framework.
type Capability struct {
	Type string `json:"type"`
}

// PartitionAware is the capability of a framework that handles
// TASK_UNREACHABLE.
const PartitionAware = "PARTITION_AWARE"

// Has reports whether the framework declared capability c.
func (f *FrameworkInfo) Has(c string) bool {
	for _, x := range f.Capabilities {
		if x.Type == c {
			return true
		}
	}
	return false
}

// Subscribe registers a framework, or re-registers it with its id.
type Subscribe struct {
	FrameworkInfo FrameworkInfo `json:"framework_info"`
}

// Filters say how long resources a framework returned stay away from it.
type Filters struct {
	RefuseSeconds *float64 `json:"refuse_seconds,omitempty"`
}

// Accept uses offers (all on one agent) for operations.
type Accept struct {
	OfferIDs   []ID        `json:"offer_ids"`
	Operations []Operation `json:"operations"`
	Filters    *Filters    `json:"filters,omitempty"`
}

// Operation is what an accept does (operations.go has the types of all
// but LAUNCH). ID asks for the operation's status (UPDATE_OPERATION_STATUS).
// The volume and disk operations apron does not do are kept raw, to be
// answered OPERATION_ERROR.
type Operation struct {
	Type         string          `json:"type"`
	ID           *ID             `json:"id,omitempty"`
	Launch       *Launch         `json:"launch,omitempty"`
	LaunchGroup  *LaunchGroup    `json:"launch_group,omitempty"`
	Reserve      *Reserve        `json:"reserve,omitempty"`
	Unreserve    *Unreserve      `json:"unreserve,omitempty"`
	Create       json.RawMessage `json:"create,omitempty"`
	Destroy      json.RawMessage `json:"destroy,omitempty"`
	GrowVolume   json.RawMessage `json:"grow_volume,omitempty"`
	ShrinkVolume json.RawMessage `json:"shrink_volume,omitempty"`
	CreateDisk   json.RawMessage `json:"create_disk,omitempty"`
	DestroyDisk  json.RawMessage `json:"destroy_disk,omitempty"`
}

// Launch starts tasks.
type Launch struct {
	TaskInfos []TaskInfo `json:"task_infos"`
}

// TaskInfo is a task to launch.
type TaskInfo struct {
	Name      string       `json:"name"`
	TaskID    ID           `json:"task_id"`
	AgentID   ID           `json:"agent_id"`
	Resources []Resource   `json:"resources"`
	Command   *CommandInfo `json:"command,omitempty"`
	Job       string       `json:"job,omitempty"` // apron: the job it belongs to

	// Executor is the task group's executor, for a task of a
	// LAUNCH_GROUP (a LAUNCH with one is refused: apron runs no custom
	// executor).
	Executor *ExecutorInfo `json:"executor,omitempty"`
}

// CommandInfo is a shell command; the agent runs it with /bin/sh -c, as
// User (else the framework's user, else the agent's --task-user), with
// Environment added to the clean environment the agent gives every task.
type CommandInfo struct {
	Value       string       `json:"value"`
	User        string       `json:"user,omitempty"`
	Environment *Environment `json:"environment,omitempty"`
}

// Environment is a command's environment variables, as Mesos has it.
type Environment struct {
	Variables []EnvVariable `json:"variables,omitempty"`
}

// EnvVariable is one environment variable.
type EnvVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// User runs the command (Mesos' CommandInfo.user); default the
	// framework's, then the agent's unprivileged task user.
	User string `json:"user,omitempty"`
}

// Decline returns offers whole.
type Decline struct {
	OfferIDs []ID     `json:"offer_ids"`
	Filters  *Filters `json:"filters,omitempty"`
}

// Roles names the roles a REVIVE or SUPPRESS applies to; none: all.
type Roles struct {
	Roles []string `json:"roles,omitempty"`
}

// Kill stops a task.
type Kill struct {
	TaskID  ID  `json:"task_id"`
	AgentID *ID `json:"agent_id,omitempty"`
}

// Acknowledge acknowledges a status update that carried a uuid.
type Acknowledge struct {
	AgentID ID     `json:"agent_id"`
	TaskID  ID     `json:"task_id"`
	UUID    string `json:"uuid"`
}

// Reconcile asks for the latest state of tasks; none: all of the
// framework's tasks.
type Reconcile struct {
	Tasks []ReconcileTask `json:"tasks,omitempty"`
}

// ReconcileTask is one task to reconcile.
type ReconcileTask struct {
	TaskID  ID  `json:"task_id"`
	AgentID *ID `json:"agent_id,omitempty"`
}

// Scheduler event types.
const (
	EventSubscribed = "SUBSCRIBED"
	EventOffers     = "OFFERS"
	EventRescind    = "RESCIND"
	EventUpdate     = "UPDATE"
	EventFailure    = "FAILURE"
	EventError      = "ERROR"
	EventHeartbeat  = "HEARTBEAT"
)

// Event is one event on a subscription's stream.
type Event struct {
	Type       string      `json:"type"`
	Subscribed *Subscribed `json:"subscribed,omitempty"`
	Offers     *Offers     `json:"offers,omitempty"`
	Rescind    *Rescind    `json:"rescind,omitempty"`
	Update     *Update     `json:"update,omitempty"`
	Failure    *Failure    `json:"failure,omitempty"`
	Error      *Error      `json:"error,omitempty"`
	// UpdateOperationStatus: EventUpdateOperationStatus (operations.go).
	UpdateOperationStatus *UpdateOperationStatus `json:"update_operation_status,omitempty"`
}

// Subscribed answers a SUBSCRIBE.
type Subscribed struct {
	FrameworkID              ID      `json:"framework_id"`
	HeartbeatIntervalSeconds float64 `json:"heartbeat_interval_seconds"`
}

// Offers carries new offers.
type Offers struct {
	Offers []Offer `json:"offers"`
}

// Offer is resources of one agent for one framework in one role.
type Offer struct {
	ID          ID                `json:"id"`
	FrameworkID ID                `json:"framework_id"`
	AgentID     ID                `json:"agent_id"`
	Hostname    string            `json:"hostname"`
	Role        string            `json:"role"`
	Resources   []Resource        `json:"resources"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// Rescind takes an offer back.
type Rescind struct {
	OfferID ID `json:"offer_id"`
}

// Update carries a task status.
type Update struct {
	Status TaskStatus `json:"status"`
}

// TaskStatus is a task's state. A status with a uuid must be acknowledged;
// until it is, the agent sends it again.
type TaskStatus struct {
	TaskID    ID      `json:"task_id"`
	State     string  `json:"state"`
	Reason    string  `json:"reason,omitempty"`
	Message   string  `json:"message,omitempty"`
	Source    string  `json:"source,omitempty"` // SOURCE_MASTER or SOURCE_AGENT
	AgentID   *ID     `json:"agent_id,omitempty"`
	UUID      string  `json:"uuid,omitempty"`
	Timestamp float64 `json:"timestamp"`
}

// Failure says an agent was lost.
type Failure struct {
	AgentID *ID `json:"agent_id,omitempty"`
}

// Error says the master dropped the framework, or refused a call it could
// not answer on the call's own response.
type Error struct {
	Message string `json:"message"`
}

// ErrorBody is the JSON body of a refused call (HTTP 400, 403, 404, 409).
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}
