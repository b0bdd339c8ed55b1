package master

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/apronlab/apron/internal/sorted"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
)

const (
	agentActive      = "active"
	agentUnreachable = "unreachable"
)

type taskKey struct{ fw, task string }

// agent is a registered agent.
type agent struct {
	id, hostname, url, isolation string
	total                        allocator.Resources
	attrs                        map[string]string
	state                        string
	out                          *outbox
	registered, lastSeen         time.Time
	tasks                        map[taskKey]*task
}

func (m *Master) serveAgent(w http.ResponseWriter, r *http.Request) {
	var c api.AgentCall
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		refuse(w, http.StatusBadRequest, jsonField(err), "the call is not valid JSON for an agent call: %v", err)
		return
	}
	switch c.Type {
	case api.AgentCallSubscribe:
		m.agentSubscribe(w, r, &c)
	case api.AgentCallHeartbeat, api.AgentCallStatus:
		m.mu.Lock()
		defer m.mu.Unlock()
		ag := m.agents[c.AgentID]
		if ag == nil || ag.state != agentActive {
			refuse(w, http.StatusNotFound, "agent_id", "agent %q is not registered or was marked unreachable; subscribe again", c.AgentID)
			return
		}
		ag.lastSeen = m.opts.Now()
		for _, s := range c.Statuses {
			m.agentStatus(ag, s)
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		refuse(w, http.StatusBadRequest, "type", "unknown agent call type %q; known: SUBSCRIBE, HEARTBEAT, STATUS", c.Type)
	}
}

// agentStatus applies one status update from an agent. A status of a
// framework that is gone is acknowledged at once, so the agent stops
// sending it.
func (m *Master) agentStatus(ag *agent, s api.AgentStatus) {
	f := m.fws[s.FrameworkID]
	var t *task
	if f != nil {
		t = f.tasks[s.Status.TaskID.Value]
	}
	if t == nil || t.agent != ag.id {
		if f == nil || f.finished(s.Status.TaskID.Value) != nil || s.Status.UUID == "" {
			m.ackAgent(ag, s)
			return
		}
	}
	s.Status.AgentID = &api.ID{Value: ag.id}
	s.Status.Source = "SOURCE_AGENT"
	if t != nil && t.agent == ag.id && !terminal(t.state) {
		m.setState(t, s.Status)
		return
	}
	f.send(api.Event{Type: api.EventUpdate, Update: &api.Update{Status: s.Status}}) // a retry: the framework acknowledges it again
}

func (m *Master) ackAgent(ag *agent, s api.AgentStatus) {
	if ag.out != nil && s.Status.UUID != "" {
		ag.out.send(api.AgentEvent{Type: api.AgentEventAck, Ack: &api.AgentAckStatus{FrameworkID: s.FrameworkID, TaskID: s.Status.TaskID.Value, UUID: s.Status.UUID}})
	}
}

// agentSubscribe registers an agent or takes one back, and serves its
// event stream.
func (m *Master) agentSubscribe(w http.ResponseWriter, r *http.Request, c *api.AgentCall) {
	s := c.Subscribe
	if s == nil || s.Name == "" {
		refuse(w, http.StatusBadRequest, "subscribe.name", "an agent SUBSCRIBE needs subscribe.name")
		return
	}
	if err := api.ValidName(s.Name); err != nil {
		refuse(w, http.StatusBadRequest, "subscribe.name", "agent name: %v", err)
		return
	}
	total, err := api.ToResources("subscribe.resources", s.Resources)
	if err != nil || total.IsEmpty() {
		refuse(w, http.StatusBadRequest, "subscribe.resources", "an agent offers some resources: %v", err)
		return
	}
	m.mu.Lock()
	ag, err := m.registerAgent(s, total)
	if err != nil {
		m.mu.Unlock()
		refuse(w, http.StatusConflict, "subscribe", "%v", err)
		return
	}
	out := newOutbox()
	if ag.out != nil {
		ag.out.close()
	}
	ag.out = out
	out.send(api.AgentEvent{Type: api.AgentEventRegistered, Registered: &api.AgentRegistered{AgentID: ag.id, HeartbeatIntervalSeconds: (m.opts.AgentTimeout / 4).Seconds()}})
	m.adoptTasks(ag, s.Tasks)
	m.mu.Unlock()
	m.soon()
	serveStream(w, r, out, func() {
		m.mu.Lock()
		if ag.out == out {
			ag.out = nil
		}
		m.mu.Unlock()
	})
}

// registerAgent adds an agent to the allocator, or takes back one that
// re-registers (after a restart, or after it was marked unreachable).
func (m *Master) registerAgent(s *api.AgentSubscribe, total allocator.Resources) (*agent, error) {
	now := m.opts.Now()
	ag := m.agents[s.Name]
	if ag != nil && ag.state == agentActive && !ag.total.Equal(total) {
		m.loseAgent(ag, "re-registered with other resources")
	}
	if ag == nil {
		ag = &agent{id: s.Name, registered: now, tasks: map[taskKey]*task{}}
		m.agents[s.Name] = ag
		m.agentsN = append(m.agentsN, s.Name)
	}
	ag.hostname, ag.url, ag.isolation, ag.attrs, ag.lastSeen = s.Hostname, s.URL, s.Isolation, s.Attributes, now
	if ag.state != agentActive {
		if err := m.alloc.AddAgent(allocator.AgentInfo{ID: allocator.AgentID(ag.id), Attributes: s.Attributes}, total); err != nil {
			return nil, fmt.Errorf("agent %s: %w", ag.id, err)
		}
		ag.total, ag.state = total, agentActive
		m.opts.Log.Info("agent registered", "id", ag.id, "resources", total.String(), "isolation", s.Isolation)
	}
	return ag, nil
}

// adoptTasks reconciles the tasks a re-registering agent reports with the
// master's: a task the master lost track of is killed, a task the master
// thinks runs there but the agent does not report is lost.
func (m *Master) adoptTasks(ag *agent, reported []api.AgentTask) {
	seen := map[taskKey]bool{}
	for _, rt := range reported {
		k := taskKey{rt.FrameworkID, rt.Task.TaskID.Value}
		seen[k] = true
		if ag.tasks[k] != nil {
			continue
		}
		ag.out.send(api.AgentEvent{Type: api.AgentEventKill, Kill: &api.AgentKillTask{FrameworkID: k.fw, TaskID: k.task}})
	}
	for _, k := range sortedTaskKeys(ag.tasks) {
		if !seen[k] && ag.tasks[k].state != "TASK_STAGING" {
			m.setState(ag.tasks[k], api.TaskStatus{TaskID: api.ID{Value: k.task}, State: "TASK_LOST", Reason: "REASON_AGENT_RESTARTED", Message: "the agent re-registered without it", Source: "SOURCE_MASTER"})
		}
	}
}

// checkHealth marks agents not heard of for the agent timeout unreachable
// and tears down frameworks past their failover timeout.
func (m *Master) checkHealth() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	for _, id := range m.agentsN {
		ag := m.agents[id]
		if ag.state == agentActive && now.Sub(ag.lastSeen) > m.opts.AgentTimeout {
			m.loseAgent(ag, fmt.Sprintf("no heartbeat for %v", now.Sub(ag.lastSeen).Round(time.Millisecond)))
		}
	}
	m.failovers(now)
}

// loseAgent removes an agent from the allocator: its offers are rescinded,
// its tasks reported LOST and every framework told of the failure.
func (m *Master) loseAgent(ag *agent, why string) {
	m.opts.Log.Warn("agent unreachable", "id", ag.id, "why", why)
	m.stats.agentsLost++
	ag.state = agentUnreachable
	offers, _ := m.alloc.RemoveAgent(allocator.AgentID(ag.id))
	for _, o := range offers {
		m.rescinded(o)
	}
	for _, k := range sortedTaskKeys(ag.tasks) {
		m.setState(ag.tasks[k], api.TaskStatus{TaskID: api.ID{Value: k.task}, State: "TASK_LOST", Reason: "REASON_AGENT_UNREACHABLE", Message: "agent " + ag.id + " is unreachable: " + why, Source: "SOURCE_MASTER"})
	}
	for _, id := range sorted.Keys(m.fws) {
		m.fws[id].send(api.Event{Type: api.EventFailure, Failure: &api.Failure{AgentID: &api.ID{Value: ag.id}}})
	}
	if ag.out != nil {
		ag.out.close()
		ag.out = nil
	}
}
