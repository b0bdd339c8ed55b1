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
// SCALAR, a value, and the role it is reserved for ("" or "*": none).
// Device is apron's own field (Mesos has none): the GPU device an amount
// is on, or the devices a request allows, as the resource text form writes
// it in brackets ("T4:3", "V100M16|V100M32", "*"; docs/design.md).
type Resource struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Scalar Scalar `json:"scalar"`
	Role   string `json:"role,omitempty"`
	Device string `json:"device,omitempty"`
}

// FromResources converts the allocator's resources to the wire form.
func FromResources(r allocator.Resources) []Resource {
	out := make([]Resource, 0, len(r))
	for _, e := range r {
		out = append(out, Resource{Name: e.Name, Type: "SCALAR", Scalar: Scalar{Value: e.Value.Float()}, Role: e.Role, Device: e.Device})
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
		role := r.Role
		if role == "*" {
			role = ""
		}
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
