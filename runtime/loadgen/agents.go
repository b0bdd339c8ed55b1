package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

// Fleet is a set of simulated agents.
type Fleet struct {
	Launched atomic.Int64 // tasks the agents were sent
	wg       sync.WaitGroup
}

// StartAgents registers n simulated agents named prefix-1..prefix-n, each
// with res, and returns once every one is registered. They answer every
// LAUNCH with TASK_RUNNING and keep their streams open until ctx ends.
func StartAgents(ctx context.Context, master string, n int, res allocator.Resources, prefix string) (*Fleet, error) {
	f := &Fleet{}
	errs := make(chan error, n)
	sem := make(chan struct{}, 64) // registrations in flight
	for i := range n {
		sem <- struct{}{}
		name := fmt.Sprintf("%s-%d", prefix, i+1)
		f.wg.Go(func() { f.run(ctx, master, name, res, errs, sem) })
	}
	for range n {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Wait waits for the agents to stop after their context ends.
func (f *Fleet) Wait() { f.wg.Wait() }

func (f *Fleet) run(ctx context.Context, master, name string, res allocator.Resources, registered chan<- error, sem chan struct{}) {
	call := api.AgentCall{Type: api.AgentCallSubscribe, Subscribe: &api.AgentSubscribe{Name: name, Hostname: name,
		Resources: api.FromResources(res), Isolation: "simulated"}}
	resp, err := stream(ctx, master+"/api/v1/agent", call)
	<-sem
	if err != nil {
		registered <- fmt.Errorf("agent %s: %w", name, err)
		return
	}
	defer resp.Body.Close()
	rr := api.NewRecordReader(resp.Body)
	for {
		var e api.AgentEvent
		if err := rr.Decode(&e); err != nil {
			return
		}
		switch e.Type {
		case api.AgentEventRegistered:
			registered <- nil
		case api.AgentEventLaunch:
			f.Launched.Add(1)
			s := api.AgentStatus{FrameworkID: e.Launch.FrameworkID, Status: api.TaskStatus{TaskID: e.Launch.Task.TaskID, State: "TASK_RUNNING", UUID: name + "/" + e.Launch.Task.TaskID.Value}}
			_, _ = post(ctx, master+"/api/v1/agent", api.AgentCall{Type: api.AgentCallStatus, AgentID: name, Statuses: []api.AgentStatus{s}}, nil)
		}
	}
}
