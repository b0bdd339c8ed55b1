package api

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Offer operations, as mesos.proto's Offer.Operation.Type names them.
const (
	OpLaunch       = "LAUNCH"
	OpLaunchGroup  = "LAUNCH_GROUP"
	OpReserve      = "RESERVE"
	OpUnreserve    = "UNRESERVE"
	OpCreate       = "CREATE"
	OpDestroy      = "DESTROY"
	OpGrowVolume   = "GROW_VOLUME"
	OpShrinkVolume = "SHRINK_VOLUME"
	OpCreateDisk   = "CREATE_DISK"
	OpDestroyDisk  = "DESTROY_DISK"
)

// OperationTypes are the operation types of mesos.proto; an ACCEPT naming
// another is malformed (400), as Mesos cannot parse it either.
var OperationTypes = []string{OpLaunch, OpLaunchGroup, OpReserve, OpUnreserve, OpCreate, OpDestroy, OpGrowVolume, OpShrinkVolume, OpCreateDisk, OpDestroyDisk}

// LaunchGroup starts a task group: tasks that start together on one agent
// under one executor (Mesos' Offer.Operation.LaunchGroup).
type LaunchGroup struct {
	Executor  *ExecutorInfo  `json:"executor"`
	TaskGroup *TaskGroupInfo `json:"task_group"`
}

// TaskGroupInfo is the tasks of a group.
type TaskGroupInfo struct {
	Tasks []TaskInfo `json:"tasks"`
}

// Executor types of ExecutorInfo.type.
const (
	ExecutorDefault = "DEFAULT"
	ExecutorCustom  = "CUSTOM"
)

// ExecutorInfo is Mesos' ExecutorInfo. apron runs the DEFAULT executor's
// behaviour itself (the agent starts a group's command tasks and ends them
// together); Command and Container are kept only to refuse what apron
// cannot run.
type ExecutorInfo struct {
	Type        string          `json:"type,omitempty"`
	ExecutorID  ID              `json:"executor_id"`
	FrameworkID *ID             `json:"framework_id,omitempty"`
	Name        string          `json:"name,omitempty"`
	Resources   []Resource      `json:"resources,omitempty"`
	Command     json.RawMessage `json:"command,omitempty"`
	Container   json.RawMessage `json:"container,omitempty"`
}

// Reserve reserves resources of an offer dynamically, for a role (Mesos'
// Offer.Operation.Reserve). Source is Mesos' re-reservation (1.10), which
// apron does not do.
type Reserve struct {
	Source    []Resource `json:"source,omitempty"`
	Resources []Resource `json:"resources"`
}

// Unreserve gives dynamically reserved resources of an offer back to the
// unreserved pool.
type Unreserve struct {
	Resources []Resource `json:"resources"`
}

// Reservation is how a wire resource is reserved.
type Reservation struct {
	Role      string // "" for unreserved
	Dynamic   bool
	Principal string
}

// ReservationOf reads how r is reserved, in either of Mesos' formats: role
// and reservation, or the reservations stack (whose last entry is the
// reservation in force). field names r in errors. apron does not refine
// reservations (a stack of more than one) nor keep labels.
func ReservationOf(field string, r Resource) (Reservation, error) {
	if len(r.Reservations) > 0 {
		if r.Reservation != nil || r.Role != "" && r.Role != "*" {
			return Reservation{}, fmt.Errorf("%s: both reservations and role/reservation; Mesos' two formats cannot be mixed", field)
		}
		if len(r.Reservations) > 1 {
			return Reservation{}, fmt.Errorf("%s.reservations: %d; apron does not refine reservations (RESERVATION_REFINEMENT), give one", field, len(r.Reservations))
		}
		ri := r.Reservations[0]
		if ri.Labels != nil && len(ri.Labels.Labels) > 0 {
			return Reservation{}, fmt.Errorf("%s.reservations[0].labels: apron keeps no reservation labels", field)
		}
		if ri.Role == "" || ri.Role == "*" {
			return Reservation{}, fmt.Errorf("%s.reservations[0].role: %q; a reservation is for a role other than *", field, ri.Role)
		}
		switch ri.Type {
		case ReservationStatic:
			return Reservation{Role: ri.Role, Principal: ri.Principal}, nil
		case ReservationDynamic:
			return Reservation{Role: ri.Role, Dynamic: true, Principal: ri.Principal}, nil
		}
		return Reservation{}, fmt.Errorf("%s.reservations[0].type: %q; want STATIC or DYNAMIC", field, ri.Type)
	}
	role := r.Role
	if role == "*" {
		role = ""
	}
	if r.Reservation == nil {
		return Reservation{Role: role}, nil
	}
	if role == "" {
		return Reservation{}, fmt.Errorf("%s.reservation: set on an unreserved resource (role %q)", field, r.Role)
	}
	if l := r.Reservation.Labels; l != nil && len(l.Labels) > 0 {
		return Reservation{}, fmt.Errorf("%s.reservation.labels: apron keeps no reservation labels", field)
	}
	return Reservation{Role: role, Dynamic: true, Principal: r.Reservation.Principal}, nil
}

// DynamicPart is an amount of a resource reserved dynamically by one
// principal, for writing offers: see MarkReservations.
type DynamicPart struct {
	Principal string
	Amount    float64
}

// MarkReservations writes how each reserved resource of rs is reserved,
// in the format a framework reads: role and reservation without the
// RESERVATION_REFINEMENT capability, the reservations stack with it. dyn
// gives the dynamically reserved parts of a (name, role), by principal;
// what a resource holds beyond them is static. A resource reserved by
// several principals, or partly static, is split into one resource each,
// as Mesos keeps resources of distinct reservations apart.
func MarkReservations(rs []Resource, refinement bool, dyn func(name, role string) []DynamicPart) []Resource {
	out := make([]Resource, 0, len(rs))
	for _, r := range rs {
		role := r.Role
		if role == "" || role == "*" {
			out = append(out, r)
			continue
		}
		left := r.Scalar.Value
		for _, d := range dyn(r.Name, role) {
			q := min(d.Amount, left)
			if q <= 0 {
				break
			}
			left -= q
			out = append(out, reserved(r, q, refinement, ReservationInfo{Type: ReservationDynamic, Role: role, Principal: d.Principal}))
		}
		if left > 1e-9 {
			out = append(out, reserved(r, left, refinement, ReservationInfo{Type: ReservationStatic, Role: role}))
		}
	}
	return out
}

func reserved(r Resource, q float64, refinement bool, ri ReservationInfo) Resource {
	r.Scalar = Scalar{Value: q}
	r.Reservation, r.Reservations = nil, nil
	switch {
	case refinement:
		r.Role = ""
		r.Reservations = []ReservationInfo{ri}
	case ri.Type == ReservationDynamic:
		r.Reservation = &ReservationInfo{Principal: ri.Principal}
	}
	return r
}

// Operation states of OperationStatus.state that apron sends.
const (
	OperationFinished = "OPERATION_FINISHED"
	OperationError    = "OPERATION_ERROR"
)

// AgentEventLaunchGroup is the agent event that starts a task group.
const AgentEventLaunchGroup = "LAUNCH_GROUP"

// AgentLaunchGroup starts a task group on an agent: every task at once,
// and when one fails or is killed the others are killed (Mesos' default
// executor). Each task's TaskInfo names the group's executor.
type AgentLaunchGroup struct {
	FrameworkID string         `json:"framework_id"`
	Framework   *FrameworkInfo `json:"framework,omitempty"`
	Role        string         `json:"role"`
	Tasks       []TaskInfo     `json:"tasks"`
}

// ValidOperationType says whether t is an operation type of mesos.proto.
func ValidOperationType(t string) bool { return slices.Contains(OperationTypes, t) }
