package api

import (
	"fmt"
	"slices"
	"strings"
)

// The enums of Mesos' v1 API that apron's scheduler API uses, by their
// names: everything apron sends is one of these, so a Mesos client can
// decode it.

// TaskStates are Mesos' TaskState names.
var TaskStates = []string{"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
	"TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE",
	"TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"}

// Reasons are Mesos' TaskStatus.Reason names.
var Reasons = []string{"REASON_COMMAND_EXECUTOR_FAILED", "REASON_CONTAINER_LAUNCH_FAILED",
	"REASON_CONTAINER_LIMITATION", "REASON_CONTAINER_LIMITATION_DISK", "REASON_CONTAINER_LIMITATION_MEMORY",
	"REASON_CONTAINER_PREEMPTED", "REASON_CONTAINER_UPDATE_FAILED", "REASON_MAX_COMPLETION_TIME_REACHED",
	"REASON_EXECUTOR_REGISTRATION_TIMEOUT", "REASON_EXECUTOR_REREGISTRATION_TIMEOUT", "REASON_EXECUTOR_TERMINATED",
	"REASON_EXECUTOR_UNREGISTERED", "REASON_FRAMEWORK_REMOVED", "REASON_GC_ERROR", "REASON_INVALID_FRAMEWORKID",
	"REASON_INVALID_OFFERS", "REASON_IO_SWITCHBOARD_EXITED", "REASON_MASTER_DISCONNECTED", "REASON_RECONCILIATION",
	"REASON_RESOURCES_UNKNOWN", "REASON_AGENT_DISCONNECTED", "REASON_AGENT_DRAINING", "REASON_AGENT_REMOVED",
	"REASON_AGENT_REMOVED_BY_OPERATOR", "REASON_AGENT_REREGISTERED", "REASON_AGENT_RESTARTED", "REASON_AGENT_UNKNOWN",
	"REASON_TASK_KILLED_DURING_LAUNCH", "REASON_TASK_CHECK_STATUS_UPDATED", "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
	"REASON_TASK_GROUP_INVALID", "REASON_TASK_GROUP_UNAUTHORIZED", "REASON_TASK_INVALID", "REASON_TASK_UNAUTHORIZED",
	"REASON_TASK_UNKNOWN"}

// The reasons apron gives, by what happened (docs/api.md has the table).
const (
	ReasonMemoryLimit       = "REASON_CONTAINER_LIMITATION_MEMORY" // the kernel's OOM killer, at the task's cgroup limit
	ReasonExecutorFailed    = "REASON_COMMAND_EXECUTOR_FAILED"     // a non-zero exit or a signal
	ReasonLaunchFailed      = "REASON_CONTAINER_LAUNCH_FAILED"
	ReasonExecutorEnded     = "REASON_EXECUTOR_TERMINATED" // it ended while its agent was down, leaving no status
	ReasonTaskInvalid       = "REASON_TASK_INVALID"
	ReasonTaskUnauthorized  = "REASON_TASK_UNAUTHORIZED"
	ReasonInvalidOffers     = "REASON_INVALID_OFFERS"
	ReasonFrameworkRemoved  = "REASON_FRAMEWORK_REMOVED"
	ReasonAgentRemoved      = "REASON_AGENT_REMOVED" // unreachable (Mesos' REASON_SLAVE_REMOVED), then gone
	ReasonAgentRestarted    = "REASON_AGENT_RESTARTED"
	ReasonReconciliation    = "REASON_RECONCILIATION"
	ReasonKilledDuringStart = "REASON_TASK_KILLED_DURING_LAUNCH"
)

// Sources of a status (TaskStatus.Source).
const (
	SourceMaster   = "SOURCE_MASTER"
	SourceAgent    = "SOURCE_AGENT"
	SourceExecutor = "SOURCE_EXECUTOR"
)

// Capabilities are Mesos' FrameworkInfo.Capability.Type names.
var Capabilities = []string{"UNKNOWN", "REVOCABLE_RESOURCES", "TASK_KILLING_STATE", "GPU_RESOURCES",
	"SHARED_RESOURCES", PartitionAware, "MULTI_ROLE", ReservationRefinement, "REGION_AWARE"}

// ReservationRefinement is the capability of a framework that reads
// reservations as Resource.reservations (a stack) rather than
// Resource.role.
const ReservationRefinement = "RESERVATION_REFINEMENT"

// OperationStates are Mesos' OperationState names.
var OperationStates = []string{"OPERATION_UNSUPPORTED", "OPERATION_PENDING", "OPERATION_FINISHED",
	"OPERATION_FAILED", "OPERATION_ERROR", "OPERATION_DROPPED", "OPERATION_UNREACHABLE",
	"OPERATION_GONE_BY_OPERATOR", "OPERATION_RECOVERING", "OPERATION_UNKNOWN"}

// CallTypes are the scheduler call types of Mesos' v1 API.
var CallTypes = []string{CallSubscribe, CallTeardown, CallAccept, CallDecline, CallAcceptInverseOffers,
	CallDeclineInverseOffers, CallRevive, CallKill, CallShutdown, CallAcknowledge, CallAcknowledgeOperationStatus,
	CallReconcile, CallReconcileOperations, CallMessage, CallRequest, CallSuppress, CallUpdateFramework}

// EventTypes are the scheduler event types of Mesos' v1 API.
var EventTypes = []string{EventSubscribed, EventOffers, EventInverseOffers, EventRescind, EventRescindInverseOffer,
	EventUpdate, EventUpdateOperationStatus, EventMessage, EventFailure, EventError, EventHeartbeat}

// oneOf checks that v is one of the names of an enum; field names it in
// the error, which lists what is allowed.
func oneOf(field, v string, names []string) error {
	if slices.Contains(names, v) {
		return nil
	}
	return fmt.Errorf("%s: %.64q is not one of Mesos' names: %s", field, v, strings.Join(names, ", "))
}
