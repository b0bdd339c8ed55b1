package api

import (
	"fmt"
	"math"

	"github.com/apronlab/apron/allocator"
)

// Scalar is a scalar resource's value.
type Scalar struct {
	Value float64 `json:"value"`
}

// Resource is one resource as the Mesos v1 API writes it: a name, type
// SCALAR, a value, and how it is reserved: the role it is reserved for
// ("" or "*": none) with Reservation for a dynamic reservation, or the
// Reservations stack (operations.go: ReservationOf).
type Resource struct {
	Name         string            `json:"name"`
	Type         string            `json:"type"`
	Scalar       Scalar            `json:"scalar"`
	Role         string            `json:"role,omitempty"`
	Reservation  *ReservationInfo  `json:"reservation,omitempty"`
	Reservations []ReservationInfo `json:"reservations,omitempty"`
}

// FromResources converts the allocator's resources to the wire form.
func FromResources(r allocator.Resources) []Resource {
	out := make([]Resource, 0, len(r))
	for _, e := range r {
		out = append(out, Resource{Name: e.Name, Type: "SCALAR", Scalar: Scalar{Value: e.Value.Float()}, Role: e.Role})
	}
	return out
}

// ToResources converts wire resources to the allocator's; field names the
// list in errors (e.g. "accept.operations[0].launch.task_infos[1].resources").
func ToResources(field string, rs []Resource) (allocator.Resources, error) {
	var out allocator.Resources
	for i, r := range rs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if r.Type != "" && r.Type != "SCALAR" {
			return nil, fmt.Errorf("%s.type: %q; only SCALAR resources are supported", f, r.Type)
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
		amount := q.String()
		text := r.Name + ":" + amount
		if role != "" {
			text = r.Name + "(" + role + "):" + amount
		}
		one, err := allocator.ParseResources(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = out.Add(one)
	}
	return out, nil
}
