package api

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/apronlab/apron/allocator"
)

// Scalar is a scalar resource's value.
type Scalar struct {
	Value float64 `json:"value"`
}

// Resource is one resource as Mesos' v1 API writes it: a name, type
// SCALAR, a value, and the role it is reserved for, either as Role ("" or
// "*": none; Mesos' pre-refinement form) or as the last of Reservations
// (Mesos' form for frameworks with RESERVATION_REFINEMENT). An offer's
// resources carry the role they are allocated to (AllocationInfo). The
// other kinds of Mesos resources (ranges, sets, disks, revocable,
// shared, of resource providers) are decoded to be refused. Device is
// apron's own field (Mesos has none): the GPU device an amount is on, or
// the devices a request allows, as the resource text form writes it in
// brackets ("T4:3", "V100M16|V100M32", "*"; docs/design.md).
type Resource struct {
	ProviderID     *ID               `json:"provider_id,omitempty"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Scalar         Scalar            `json:"scalar"`
	Ranges         *Ranges           `json:"ranges,omitempty"`
	Set            *Set              `json:"set,omitempty"`
	Role           string            `json:"role,omitempty"`
	AllocationInfo *AllocationInfo   `json:"allocation_info,omitempty"`
	Reservation    *ReservationInfo  `json:"reservation,omitempty"`
	Reservations   []ReservationInfo `json:"reservations,omitempty"`
	Disk           json.RawMessage   `json:"disk,omitempty"`
	Revocable      json.RawMessage   `json:"revocable,omitempty"`
	Shared         json.RawMessage   `json:"shared,omitempty"`
	Device         string            `json:"device,omitempty"`
}

// AllocationInfo is the role resources are allocated to.
type AllocationInfo struct {
	Role string `json:"role"`
}

// ReservationInfo is one reservation of a resource: its type (STATIC:
// made by the agent's configuration or the policy; DYNAMIC: by a
// framework or an operator), its role and who made it.
type ReservationInfo struct {
	Type      string  `json:"type,omitempty"`
	Role      string  `json:"role,omitempty"`
	Principal string  `json:"principal,omitempty"`
	Labels    *Labels `json:"labels,omitempty"`
}

// Reservation types.
const (
	ReservationStatic  = "STATIC"
	ReservationDynamic = "DYNAMIC"
)

// FromResources converts the allocator's resources to the wire form: a
// reserved resource names its role, an unreserved one none.
func FromResources(r allocator.Resources) []Resource {
	out := make([]Resource, 0, len(r))
	for _, e := range r {
		out = append(out, Resource{Name: e.Name, Type: ValueScalar, Scalar: Scalar{Value: e.Value.Float()}, Role: e.Role, Device: e.Device})
	}
	return out
}

// Allocated marks wire resources (FromResources, MarkReservations) as
// allocated to role (allocation_info), as Mesos sends an offer's, an
// unreserved one with role "*".
func Allocated(rs []Resource, role string) []Resource {
	for i := range rs {
		rs[i].AllocationInfo = &AllocationInfo{Role: role}
		if rs[i].Role == "" && len(rs[i].Reservations) == 0 {
			rs[i].Role = "*"
		}
	}
	return rs
}

// unsupported names what a resource asks for that apron has not.
func (r *Resource) unsupported() string {
	switch {
	case r.Type != "" && r.Type != ValueScalar:
		return fmt.Sprintf("type: %.16q; apron has only SCALAR resources", r.Type)
	case r.Ranges != nil || r.Set != nil:
		return "ranges or set given; apron has only SCALAR resources"
	case !IsNull(r.Disk):
		return "disk: apron has no persistent volumes or disk sources"
	case !IsNull(r.Revocable):
		return "revocable: apron offers no revocable resources"
	case !IsNull(r.Shared):
		return "shared: apron offers no shared resources"
	case r.ProviderID != nil:
		return "provider_id: apron has no resource providers"
	}
	return ""
}

// CheckAllocation checks that resources a task asks for, when they say
// which role they are allocated to, say the offer's role.
func CheckAllocation(field string, rs []Resource, role string) error {
	for i, r := range rs {
		if r.AllocationInfo != nil && r.AllocationInfo.Role != role {
			return fmt.Errorf("%s[%d].allocation_info.role: %.64q, but the offers are allocated to role %q", field, i, r.AllocationInfo.Role, role)
		}
	}
	return nil
}

// ToResources converts wire resources to the allocator's; field names the
// list in errors (e.g. "accept.operations[0].launch.task_infos[1].resources").
func ToResources(field string, rs []Resource) (allocator.Resources, error) {
	var out allocator.Resources
	for i, r := range rs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if why := r.unsupported(); why != "" {
			return nil, fmt.Errorf("%s.%s", f, why)
		}
		if r.Scalar.Value < 0 || math.IsNaN(r.Scalar.Value) || math.IsInf(r.Scalar.Value, 0) {
			return nil, fmt.Errorf("%s.scalar.value: %v; want a finite amount of 0 or more", f, r.Scalar.Value)
		}
		rsv, err := ReservationOf(f, r)
		if err != nil {
			return nil, err
		}
		role := rsv.Role
		// Rounded to the allocator's resolution of 0.001, as Mesos rounds
		// scalars, and written in plain decimal (%g wrote 1e+06, which the
		// text form refuses, so an agent of 1 TiB could not register).
		q, err := allocator.QuantityOf(r.Scalar.Value)
		if err != nil {
			return nil, fmt.Errorf("%s.scalar.value: %w", f, err)
		}
		text := r.Name
		if role != "" {
			text += "(" + role + ")"
		}
		if r.Device != "" {
			text += "[" + r.Device + "]"
		}
		text += ":" + q.String()
		one, err := allocator.ParseResources(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = out.Add(one)
	}
	return out, nil
}
