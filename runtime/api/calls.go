package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The scheduler calls apron answers as Mesos answers one it cannot serve
// (it has no executors, inverse offers or resource providers), and the
// operation statuses of RECONCILE_OPERATIONS.

// InverseOffersCall accepts or declines inverse offers.
type InverseOffersCall struct {
	InverseOfferIDs []ID     `json:"inverse_offer_ids"`
	Filters         *Filters `json:"filters,omitempty"`
}

// Shutdown asks an agent to shut a custom executor down.
type Shutdown struct {
	ExecutorID ID `json:"executor_id"`
	AgentID    ID `json:"agent_id"`
}

// Message is data for an executor.
type Message struct {
	AgentID    ID     `json:"agent_id"`
	ExecutorID ID     `json:"executor_id"`
	Data       []byte `json:"data"`
}

// RequestCall asks the allocator for resources (Mesos' allocator ignores
// it, and so does apron's).
type RequestCall struct {
	Requests []json.RawMessage `json:"requests,omitempty"`
}

// AcknowledgeOperationStatus acknowledges an operation status that
// carried a uuid.
type AcknowledgeOperationStatus struct {
	AgentID            *ID  `json:"agent_id,omitempty"`
	ResourceProviderID *ID  `json:"resource_provider_id,omitempty"`
	UUID               UUID `json:"uuid"`
	OperationID        ID   `json:"operation_id"`
}

// ReconcileOperations asks for the latest state of operations; none: all
// of the framework's.
type ReconcileOperations struct {
	Operations []ReconcileOperation `json:"operations,omitempty"`
}

// ReconcileOperation is one operation to reconcile.
type ReconcileOperation struct {
	OperationID        ID  `json:"operation_id"`
	AgentID            *ID `json:"agent_id,omitempty"`
	ResourceProviderID *ID `json:"resource_provider_id,omitempty"`
}

// UpdateFramework changes a subscribed framework's info and suppressed
// roles, as a resubscription would.
type UpdateFramework struct {
	FrameworkInfo    FrameworkInfo   `json:"framework_info"`
	SuppressedRoles  []string        `json:"suppressed_roles,omitempty"`
	OfferConstraints json.RawMessage `json:"offer_constraints,omitempty"`
}

// UpdateOperationStatus carries an operation's status.
type UpdateOperationStatus struct {
	Status OperationStatus `json:"status"`
}

// OperationStatus is an operation's state (OperationStates).
type OperationStatus struct {
	OperationID        *ID        `json:"operation_id,omitempty"`
	State              string     `json:"state"`
	Message            string     `json:"message,omitempty"`
	ConvertedResources []Resource `json:"converted_resources,omitempty"`
	UUID               *UUIDValue `json:"uuid,omitempty"`
	AgentID            *ID        `json:"agent_id,omitempty"`
	ResourceProviderID *ID        `json:"resource_provider_id,omitempty"`
}

// UUIDValue is Mesos' UUID message: {"value": base64 bytes}.
type UUIDValue struct {
	Value UUID `json:"value"`
}

// IsNull says whether a raw JSON field was absent or null: Mesos takes
// null as unset.
func IsNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// DecodeCall reads a scheduler call as Mesos reads one: fields it does
// not know are ignored and null is unset, but the JSON must be one object
// of the call's shape, with a known type and enum values Mesos knows. The
// error names the field that is wrong and what is allowed; Field gives
// that field alone.
func DecodeCall(data []byte) (*Call, error) {
	var c Call
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return nil, &CallError{Field: JSONField(err), Err: err}
	}
	if dec.More() {
		return nil, &CallError{Err: errors.New("more than one JSON value; send one call object")}
	}
	if err := c.checkEnums(); err != nil {
		return nil, err
	}
	return &c, nil
}

// CallError is a call that is not a scheduler call: Field names where.
type CallError struct {
	Field string
	Err   error
}

func (e *CallError) Error() string { return e.Err.Error() }

func (e *CallError) Unwrap() error { return e.Err }

// JSONField names the field a JSON decoding error is about, if it says:
// a value of the wrong type, or an unknown field (of a decoder that
// disallows them).
func JSONField(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return ute.Field
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(name, `"`)
	}
	return ""
}

// checkEnums checks the enum values a Mesos master would fail to parse.
func (c *Call) checkEnums() error {
	if err := oneOf("type", c.Type, CallTypes); err != nil {
		return &CallError{Field: "type", Err: err}
	}
	var infos []*FrameworkInfo
	if c.Subscribe != nil {
		infos = append(infos, &c.Subscribe.FrameworkInfo)
	}
	if c.UpdateFramework != nil {
		infos = append(infos, &c.UpdateFramework.FrameworkInfo)
	}
	for _, fi := range infos {
		for i, cp := range fi.Capabilities {
			field := fmt.Sprintf("framework_info.capabilities[%d].type", i)
			if err := oneOf(field, cp.Type, Capabilities); err != nil {
				return &CallError{Field: field, Err: err}
			}
		}
	}
	if c.Accept == nil {
		return nil
	}
	for i, op := range c.Accept.Operations {
		field, tasks := fmt.Sprintf("accept.operations[%d].launch.task_infos", i), []TaskInfo(nil)
		switch {
		case op.Launch != nil:
			tasks = op.Launch.TaskInfos
		case op.LaunchGroup != nil && op.LaunchGroup.TaskGroup != nil:
			field, tasks = fmt.Sprintf("accept.operations[%d].launch_group.task_group.tasks", i), op.LaunchGroup.TaskGroup.Tasks
		}
		for j, ti := range tasks {
			if err := ti.checkEnums(fmt.Sprintf("%s[%d]", field, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// valueTypes are Mesos' Value.Type names.
var valueTypes = []string{ValueScalar, ValueRanges, ValueSet, ValueText}

func (ti *TaskInfo) checkEnums(field string) error {
	for k, r := range ti.Resources {
		f := fmt.Sprintf("%s.resources[%d].type", field, k)
		if err := oneOf(f, r.Type, valueTypes); r.Type != "" && err != nil {
			return &CallError{Field: f, Err: err}
		}
	}
	if ti.Command == nil || ti.Command.Environment == nil {
		return nil
	}
	for k, v := range ti.Command.Environment.Variables {
		f := fmt.Sprintf("%s.command.environment.variables[%d].type", field, k)
		if err := oneOf(f, v.Type, []string{"UNKNOWN", "VALUE", "SECRET"}); v.Type != "" && err != nil {
			return &CallError{Field: f, Err: err}
		}
	}
	return nil
}

// AcceptsJSON says whether a request's Accept header lets the answer be
// JSON: no header, or one that names application/json, application/* or
// */* (with any parameters, and a q that is not 0).
func AcceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	return acceptsAny(accept, "application/json", "application/*", "*/*")
}

// AcceptsRecordIO says whether a request's Accept header names
// application/recordio (apron's own clients' stream, with JSON records).
func AcceptsRecordIO(accept string) bool { return acceptsAny(accept, "application/recordio") }

func acceptsAny(accept string, types ...string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		if !slices.Contains(types, mt) {
			continue
		}
		zero := false
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") && strings.Trim(strings.TrimSpace(v), "0.") == "" {
				zero = true
			}
		}
		if !zero {
			return true
		}
	}
	return false
}
