package core

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
)

// snapshot is a registry as JSON: what a replicated master writes instead
// of its log's prefix, and what a new replica starts from.
type snapshot struct {
	Frameworks []frameworkSnap `json:"frameworks"` // by id
	Gone       []frameworkSnap `json:"gone"`       // oldest first
	Agents     []AgentRecord   `json:"agents"`     // in registration order
	NextFw     int             `json:"next_framework"`
	Launches   int64           `json:"launches"`
	Policy     PolicyRecord    `json:"policy"`
	Policies   []PolicyRecord  `json:"policies"`
	Counts     map[string]int  `json:"counts"`

	Reservations []ReservationRecord `json:"reservations,omitempty"` // by agent in registration order, role, principal
	Executors    []ExecutorRecord    `json:"executors,omitempty"`    // by framework, agent, id
}

type frameworkSnap struct {
	FrameworkRecord
	Tasks []taskSnap `json:"tasks"` // in launch order
	Done  []taskSnap `json:"done"`
}

type taskSnap struct {
	TaskRecord
	State     string       `json:"state"`
	Reason    string       `json:"reason,omitempty"`
	Message   string       `json:"message,omitempty"`
	Updated   time.Time    `json:"updated"`
	KillAsked bool         `json:"kill_asked,omitempty"`
	History   []Transition `json:"history,omitempty"`
}

// Snapshot returns the registry as JSON; the same registry gives the same
// bytes.
func (r *Registry) Snapshot() []byte {
	s := snapshot{NextFw: r.nextFw, Launches: r.launches, Policy: r.policy, Policies: r.policies, Counts: map[string]int{}}
	for _, id := range sortedKeys(r.frameworks) {
		s.Frameworks = append(s.Frameworks, snapFramework(r.frameworks[id]))
	}
	for _, f := range r.gone {
		s.Gone = append(s.Gone, snapFramework(f))
	}
	for _, id := range r.agentOrder {
		s.Agents = append(s.Agents, r.agents[id].AgentRecord)
		s.Reservations = append(s.Reservations, r.agents[id].reservations()...)
	}
	for _, e := range sortedExecutors(r.executors) {
		s.Executors = append(s.Executors, e.ExecutorRecord)
	}
	for k, n := range r.counts {
		if n != 0 {
			s.Counts[k] = n
		}
	}
	data, _ := json.Marshal(s) // plain data: always marshals
	return data
}

func snapFramework(f *Framework) frameworkSnap {
	fs := frameworkSnap{FrameworkRecord: f.FrameworkRecord}
	for _, t := range f.active() {
		fs.Tasks = append(fs.Tasks, snapTask(t))
	}
	for _, t := range f.Done {
		fs.Done = append(fs.Done, snapTask(t))
	}
	return fs
}

func snapTask(t *Task) taskSnap {
	return taskSnap{TaskRecord: t.TaskRecord, State: t.State, Reason: t.Reason, Message: t.Message, Updated: t.Updated, KillAsked: t.KillAsked, History: t.History}
}

// LoadRegistry reads a registry from a Snapshot.
func LoadRegistry(data []byte, limits Limits) (*Registry, error) {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("registry snapshot: %w", err)
	}
	r := NewRegistry(limits)
	r.nextFw, r.launches, r.policy, r.policies = s.NextFw, s.Launches, s.Policy, s.Policies
	for k, n := range s.Counts {
		r.counts[k] = n
	}
	for _, a := range s.Agents {
		total, err := allocator.ParseResources(a.Resources)
		if err != nil {
			return nil, fmt.Errorf("registry snapshot: agent %s: %w", a.ID, err)
		}
		ag := newAgent()
		ag.AgentRecord, ag.total = a, total
		r.agents[a.ID] = ag
		r.agentOrder = append(r.agentOrder, a.ID)
	}
	for _, res := range s.Reservations {
		if err := r.applyReservation(Command{Op: OpReserve, Reservation: &res}); err != nil {
			return nil, fmt.Errorf("registry snapshot: %w", err)
		}
	}
	for _, id := range r.agentOrder {
		r.agents[id].reshape()
	}
	for _, fs := range s.Frameworks {
		f, err := r.loadFramework(fs)
		if err != nil {
			return nil, err
		}
		r.frameworks[f.ID] = f
	}
	for _, fs := range s.Gone {
		f, err := r.loadFramework(fs)
		if err != nil {
			return nil, err
		}
		r.gone = append(r.gone, f)
	}
	for _, e := range s.Executors {
		if err := r.addExecutor(Command{Op: OpAddExecutor, Executor: &e}); err != nil {
			return nil, fmt.Errorf("registry snapshot: %w", err)
		}
	}
	for _, id := range sortedKeys(r.frameworks) {
		for _, t := range r.frameworks[id].active() {
			r.joinExecutor(t)
		}
	}
	return r, nil
}

func (r *Registry) loadFramework(fs frameworkSnap) (*Framework, error) {
	f := &Framework{FrameworkRecord: fs.FrameworkRecord, Tasks: map[string]*Task{}, suppressed: map[string]bool{}}
	load := func(ts taskSnap) (*Task, error) {
		res, err := allocator.ParseResources(ts.Resources)
		if err != nil {
			return nil, fmt.Errorf("registry snapshot: task %s: %w", ts.Info.TaskID.Value, err)
		}
		t := &Task{TaskRecord: ts.TaskRecord, State: ts.State, Reason: ts.Reason, Message: ts.Message, Updated: ts.Updated,
			KillAsked: ts.KillAsked, History: ts.History, fw: f, res: res}
		t.refresh()
		return t, nil
	}
	for _, ts := range fs.Tasks {
		t, err := load(ts)
		if err != nil {
			return nil, err
		}
		f.Tasks[t.Info.TaskID.Value] = t
		if ag := r.agents[t.AgentID]; ag != nil && f.Removed.IsZero() {
			ag.Tasks[taskKey{f.ID, t.Info.TaskID.Value}] = t
		}
	}
	for _, ts := range fs.Done {
		t, err := load(ts)
		if err != nil {
			return nil, err
		}
		f.Done = append(f.Done, t)
	}
	return f, nil
}
