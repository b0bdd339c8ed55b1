package loadgen

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/masters"
)

// Fleet is a set of simulated agents.
type Fleet struct {
	Launched atomic.Int64 // tasks the agents were sent
	// Registrations counts REGISTERED events: one per agent when
	// StartAgents returns, and one more each time an agent registers
	// again (after a failover, with the new leader).
	Registrations atomic.Int64
	wg            sync.WaitGroup
}

// StartAgents registers n simulated agents named prefix-1..prefix-n, each
// with res, with the leader of ms (whose credential they use), and
// returns once every one is
// registered. They answer every LAUNCH with TASK_RUNNING and keep their
// streams open until ctx ends; when a stream ends (the master died or
// stepped down) the agent registers again, with the tasks it runs.
func StartAgents(ctx context.Context, ms *masters.List, n int, res allocator.Resources, prefix string) (*Fleet, error) {
	c := newConn(ms)
	f := &Fleet{}
	errs := make(chan error, n)
	sem := make(chan struct{}, 64) // registrations in flight
	for i := range n {
		sem <- struct{}{}
		a := &simAgent{name: fmt.Sprintf("%s-%d", prefix, i+1), res: res, tasks: map[string]api.AgentTask{}, fws: map[string]api.FrameworkInfo{}}
		f.wg.Go(func() {
			release := sync.OnceFunc(func() { <-sem })
			defer release()
			resubscribe(ctx, errs, func(ok func()) error { return f.serve(ctx, c, a, release, ok) })
		})
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

// simAgent is one simulated agent and the tasks it was launched, which it
// reports when it registers again.
type simAgent struct {
	name  string
	res   allocator.Resources
	gen   uint64                       // subscriptions so far
	tasks map[string]api.AgentTask     // by framework and task id
	fws   map[string]api.FrameworkInfo // the frameworks of tasks, by id
}

// subscribe is the agent's next SUBSCRIBE: a later generation, with its
// tasks, in a fixed order.
func (a *simAgent) subscribe() api.AgentCall {
	s := &api.AgentSubscribe{Name: a.name, Hostname: a.name, Resources: api.FromResources(a.res), Isolation: "simulated", Generation: a.gen}
	a.gen++
	for _, k := range slices.Sorted(maps.Keys(a.tasks)) {
		s.Tasks = append(s.Tasks, a.tasks[k])
	}
	for _, k := range slices.Sorted(maps.Keys(a.fws)) {
		s.Frameworks = append(s.Frameworks, a.fws[k])
	}
	return api.AgentCall{Type: api.AgentCallSubscribe, Subscribe: s}
}

// serve subscribes the agent and serves its stream until it ends;
// answered is called once the master answered the SUBSCRIBE, ok on
// REGISTERED.
func (f *Fleet) serve(ctx context.Context, c conn, a *simAgent, answered, ok func()) error {
	resp, err := c.stream(ctx, "/api/v1/agent", a.subscribe())
	answered()
	if err != nil {
		return fmt.Errorf("agent %s: %w", a.name, err)
	}
	defer resp.Body.Close()
	rr := api.NewRecordReader(resp.Body)
	for {
		var e api.AgentEvent
		if err := rr.Decode(&e); err != nil {
			return fmt.Errorf("agent %s: %w", a.name, err)
		}
		switch e.Type {
		case api.AgentEventRegistered:
			f.Registrations.Add(1)
			ok()
		case api.AgentEventLaunch:
			f.Launched.Add(1)
			l := e.Launch
			a.tasks[l.FrameworkID+"/"+l.Task.TaskID.Value] = api.AgentTask{FrameworkID: l.FrameworkID, Task: l.Task, State: "TASK_RUNNING", Role: l.Role}
			if l.Framework != nil {
				a.fws[l.FrameworkID] = *l.Framework
			}
			s := api.AgentStatus{FrameworkID: l.FrameworkID, Status: api.TaskStatus{TaskID: l.Task.TaskID, State: "TASK_RUNNING", UUID: fakeUUID(a.name + "/" + l.Task.TaskID.Value)}}
			_, _ = c.post(ctx, "/api/v1/agent", api.AgentCall{Type: api.AgentCallStatus, AgentID: a.name, Statuses: []api.AgentStatus{s}}, nil)
		}
	}
}

// fakeUUID is a status uuid of 16 bytes, as the master wants one, that
// names the update it belongs to.
func fakeUUID(name string) api.UUID {
	sum := sha256.Sum256([]byte(name))
	return api.UUID(sum[:api.UUIDLen])
}
