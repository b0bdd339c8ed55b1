package api

import "encoding/json"

// The scheduler API: Mesos v1's (mesos/v1/scheduler/scheduler.proto and
// mesos.proto in the JSON form of Mesos' protobuf mapping). Fields apron
// does not act on are decoded where a request needs an answer for them
// (TASK_ERROR for a task that asks for a container, say), and ignored
// otherwise, as Mesos ignores unknown fields; docs/api.md's "Mesos
// compatibility" says which.

// ID is a Mesos-style identifier object.
type ID struct {
	Value string `json:"value"`
}

// StreamIDHeader carries a subscription's stream id; later calls present
// it. Mesos-Stream-Id is accepted too.
const StreamIDHeader = "Apron-Stream-Id"

// Scheduler call types.
const (
	CallSubscribe                  = "SUBSCRIBE"
	CallTeardown                   = "TEARDOWN"
	CallAccept                     = "ACCEPT"
	CallDecline                    = "DECLINE"
	CallAcceptInverseOffers        = "ACCEPT_INVERSE_OFFERS"
	CallDeclineInverseOffers       = "DECLINE_INVERSE_OFFERS"
	CallRevive                     = "REVIVE"
	CallSuppress                   = "SUPPRESS"
	CallKill                       = "KILL"
	CallShutdown                   = "SHUTDOWN"
	CallAcknowledge                = "ACKNOWLEDGE"
	CallAcknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS"
	CallReconcile                  = "RECONCILE"
	CallReconcileOperations        = "RECONCILE_OPERATIONS"
	CallMessage                    = "MESSAGE"
	CallRequest                    = "REQUEST"
	CallUpdateFramework            = "UPDATE_FRAMEWORK"
)

// Call is one scheduler call.
type Call struct {
	FrameworkID                *ID                         `json:"framework_id,omitempty"`
	Type                       string                      `json:"type"`
	Subscribe                  *Subscribe                  `json:"subscribe,omitempty"`
	Accept                     *Accept                     `json:"accept,omitempty"`
	Decline                    *Decline                    `json:"decline,omitempty"`
	AcceptInverseOffers        *InverseOffersCall          `json:"accept_inverse_offers,omitempty"`
	DeclineInverseOffers       *InverseOffersCall          `json:"decline_inverse_offers,omitempty"`
	Revive                     *Roles                      `json:"revive,omitempty"`
	Suppress                   *Roles                      `json:"suppress,omitempty"`
	Kill                       *Kill                       `json:"kill,omitempty"`
	Shutdown                   *Shutdown                   `json:"shutdown,omitempty"`
	Acknowledge                *Acknowledge                `json:"acknowledge,omitempty"`
	AcknowledgeOperationStatus *AcknowledgeOperationStatus `json:"acknowledge_operation_status,omitempty"`
	Reconcile                  *Reconcile                  `json:"reconcile,omitempty"`
	ReconcileOperations        *ReconcileOperations        `json:"reconcile_operations,omitempty"`
	Message                    *Message                    `json:"message,omitempty"`
	Request                    *RequestCall                `json:"request,omitempty"`
	UpdateFramework            *UpdateFramework            `json:"update_framework,omitempty"`
}

// FrameworkInfo describes a framework as it subscribes.
type FrameworkInfo struct {
	User string `json:"user"` // "": the agents' --task-user
	Name string `json:"name"`
	ID   *ID    `json:"id,omitempty"` // set when resubscribing
	// FailoverTimeout is how long, in seconds, the master keeps a
	// disconnected framework (0: it is torn down at once).
	FailoverTimeout float64 `json:"failover_timeout,omitempty"`
	// Checkpoint is taken as given; apron's agents always checkpoint.
	Checkpoint bool `json:"checkpoint,omitempty"`
	// Role is Mesos' deprecated single role, taken when Roles is empty.
	Role     string   `json:"role,omitempty"`
	Roles    []string `json:"roles,omitempty"` // default ["*"]
	Hostname string   `json:"hostname,omitempty"`
	// Principal is who subscribed the framework, as the master
	// authenticated it; every later call must come from it.
	Principal string `json:"principal,omitempty"`
	WebUIURL  string `json:"webui_url,omitempty"`
	// Capabilities as Mesos names them; apron reads PARTITION_AWARE (an
	// unreachable agent's tasks are TASK_UNREACHABLE, not TASK_LOST, and
	// resume if it comes back) and RESERVATION_REFINEMENT (reservations
	// as Resource.reservations).
	Capabilities []Capability `json:"capabilities,omitempty"`
	Labels       *Labels      `json:"labels,omitempty"`
	// OfferFilters (Mesos' minimum allocatable resources per role) asks
	// for what apron's allocator does not do: a SUBSCRIBE that gives any
	// is refused.
	OfferFilters map[string]json.RawMessage `json:"offer_filters,omitempty"`
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

// Subscribe registers a framework, or re-registers it with its id, with
// the roles it wants no offers for yet. OfferConstraints (Mesos 1.11's
// attribute constraints on offers) asks for what apron's allocator does
// not do: a SUBSCRIBE that gives them is refused.
type Subscribe struct {
	FrameworkInfo    FrameworkInfo   `json:"framework_info"`
	SuppressedRoles  []string        `json:"suppressed_roles,omitempty"`
	OfferConstraints json.RawMessage `json:"offer_constraints,omitempty"`
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

// TaskInfo is a task to launch. Container, HealthCheck, Check,
// MaxCompletionTime and Limits ask for what apron's agents do not do: a
// task that gives any is refused (TASK_ERROR, REASON_TASK_INVALID), and
// so is a LAUNCH task with an Executor (a custom one); a task of a
// LAUNCH_GROUP names its group's executor there. Data
// and Discovery are taken and not kept, as apron's command tasks have no
// executor to read them and no service discovery. Labels are kept.
type TaskInfo struct {
	Name              string                     `json:"name"`
	TaskID            ID                         `json:"task_id"`
	AgentID           ID                         `json:"agent_id"`
	Resources         []Resource                 `json:"resources"`
	Executor          *ExecutorInfo              `json:"executor,omitempty"`
	Command           *CommandInfo               `json:"command,omitempty"`
	Container         json.RawMessage            `json:"container,omitempty"`
	HealthCheck       json.RawMessage            `json:"health_check,omitempty"`
	Check             json.RawMessage            `json:"check,omitempty"`
	KillPolicy        *KillPolicy                `json:"kill_policy,omitempty"`
	Data              []byte                     `json:"data,omitempty"`
	Labels            *Labels                    `json:"labels,omitempty"`
	Discovery         json.RawMessage            `json:"discovery,omitempty"`
	MaxCompletionTime *DurationInfo              `json:"max_completion_time,omitempty"`
	Limits            map[string]json.RawMessage `json:"limits,omitempty"`
}

// JobLabel is the label apron's scheduler driver puts the job of a task
// in, for accounting.
const JobLabel = "apron.job"

// CommandInfo is a task's command (Mesos' CommandInfo). With Shell (the
// default) the agent runs Value with /bin/sh -c; without, it runs the
// executable Value with Arguments[1:] as its arguments (Arguments[0] is
// argv[0] by Mesos' convention; apron's agent passes Value there). It
// runs as User (else the framework's user, else the agent's
// --task-user), with Environment added to the clean environment the agent
// gives every task. URIs (Mesos' fetcher) are not fetched: a command
// that names any is refused.
type CommandInfo struct {
	URIs        json.RawMessage `json:"uris,omitempty"`
	Environment *Environment    `json:"environment,omitempty"`
	Shell       *bool           `json:"shell,omitempty"`
	Value       string          `json:"value,omitempty"`
	Arguments   []string        `json:"arguments,omitempty"`
	User        string          `json:"user,omitempty"`
}

// IsShell says whether the command runs through the shell (Mesos'
// default).
func (c *CommandInfo) IsShell() bool { return c.Shell == nil || *c.Shell }

// Environment is a command's environment variables, as Mesos has it.
type Environment struct {
	Variables []EnvVariable `json:"variables,omitempty"`
}

// EnvVariable is one environment variable. Type is VALUE (or unset);
// apron has no secret store, so a SECRET is refused.
type EnvVariable struct {
	Name   string          `json:"name"`
	Type   string          `json:"type,omitempty"`
	Value  string          `json:"value"`
	Secret json.RawMessage `json:"secret,omitempty"`
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

// Kill stops a task. A kill policy's grace period is taken as given;
// apron's agents use their --grace.
type Kill struct {
	TaskID     ID          `json:"task_id"`
	AgentID    *ID         `json:"agent_id,omitempty"`
	KillPolicy *KillPolicy `json:"kill_policy,omitempty"`
}

// Acknowledge acknowledges a status update that carried a uuid.
type Acknowledge struct {
	AgentID ID   `json:"agent_id"`
	TaskID  ID   `json:"task_id"`
	UUID    UUID `json:"uuid"`
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
	EventSubscribed            = "SUBSCRIBED"
	EventOffers                = "OFFERS"
	EventInverseOffers         = "INVERSE_OFFERS"
	EventRescind               = "RESCIND"
	EventRescindInverseOffer   = "RESCIND_INVERSE_OFFER"
	EventUpdate                = "UPDATE"
	EventUpdateOperationStatus = "UPDATE_OPERATION_STATUS"
	EventMessage               = "MESSAGE"
	EventFailure               = "FAILURE"
	EventError                 = "ERROR"
	EventHeartbeat             = "HEARTBEAT"
)

// Event is one event on a subscription's stream. apron never sends
// INVERSE_OFFERS, RESCIND_INVERSE_OFFER (it has no maintenance
// schedules) or MESSAGE (it has no executors to send one).
type Event struct {
	Type                  string                 `json:"type"`
	Subscribed            *Subscribed            `json:"subscribed,omitempty"`
	Offers                *Offers                `json:"offers,omitempty"`
	Rescind               *Rescind               `json:"rescind,omitempty"`
	Update                *Update                `json:"update,omitempty"`
	UpdateOperationStatus *UpdateOperationStatus `json:"update_operation_status,omitempty"`
	Failure               *Failure               `json:"failure,omitempty"`
	Error                 *Error                 `json:"error,omitempty"`
}

// Subscribed answers a SUBSCRIBE.
type Subscribed struct {
	FrameworkID              ID          `json:"framework_id"`
	HeartbeatIntervalSeconds float64     `json:"heartbeat_interval_seconds"`
	MasterInfo               *MasterInfo `json:"master_info,omitempty"`
}

// Offers carries new offers.
type Offers struct {
	Offers []Offer `json:"offers"`
}

// Offer is resources of one agent for one framework in one role: the
// role is the offer's allocation_info, and each resource's.
type Offer struct {
	ID             ID              `json:"id"`
	FrameworkID    ID              `json:"framework_id"`
	AgentID        ID              `json:"agent_id"`
	Hostname       string          `json:"hostname"`
	Resources      []Resource      `json:"resources"`
	Attributes     []Attribute     `json:"attributes,omitempty"`
	AllocationInfo *AllocationInfo `json:"allocation_info,omitempty"`
}

// Role is the role the offer is made to.
func (o *Offer) Role() string {
	if o.AllocationInfo == nil {
		return ""
	}
	return o.AllocationInfo.Role
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
// until it is, the agent sends it again. State, Reason and Source are
// names of Mesos' enums (TaskStates, Reasons); apron's own detail is in
// Message.
type TaskStatus struct {
	TaskID          ID        `json:"task_id"`
	State           string    `json:"state"`
	Message         string    `json:"message,omitempty"`
	Source          string    `json:"source,omitempty"` // SOURCE_MASTER or SOURCE_AGENT
	Reason          string    `json:"reason,omitempty"`
	AgentID         *ID       `json:"agent_id,omitempty"`
	Timestamp       float64   `json:"timestamp"`
	UUID            UUID      `json:"uuid,omitempty"`
	UnreachableTime *TimeInfo `json:"unreachable_time,omitempty"`
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

// ErrorBody is the JSON body of a refused call (HTTP 400, 403, 404, 409):
// Mesos answers with the message as text; apron's JSON carries it and the
// field it is about.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}
