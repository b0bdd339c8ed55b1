package api

// apron's agent protocol. An agent posts a SUBSCRIBE (REGISTER for a new
// agent, with its previous id and its tasks after a restart) to
// /api/v1/agent and reads the master's events from the response stream;
// HEARTBEAT and STATUS calls are posted separately with the agent's id.

// Agent call types.
const (
	AgentCallSubscribe = "SUBSCRIBE"
	AgentCallHeartbeat = "HEARTBEAT"
	AgentCallStatus    = "STATUS"
)

// AgentCall is one call of an agent.
type AgentCall struct {
	Type      string          `json:"type"`
	AgentID   string          `json:"agent_id,omitempty"`
	Subscribe *AgentSubscribe `json:"subscribe,omitempty"`
	Statuses  []AgentStatus   `json:"statuses,omitempty"`
}

// AgentSubscribe registers an agent, or re-registers one that ran before.
type AgentSubscribe struct {
	Name       string            `json:"name"`
	Hostname   string            `json:"hostname"`
	URL        string            `json:"url"` // where the agent serves /state and sandboxes
	Resources  []Resource        `json:"resources"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Isolation  string            `json:"isolation"`
	// Incarnation counts the agent process's starts on its work dir, and
	// Generation its subscribe attempts since: the master refuses a
	// SUBSCRIBE older than one it took (a late one, from a previous
	// attempt or a previous process), whose task list is stale.
	Incarnation uint64 `json:"incarnation,omitempty"`
	Generation  uint64 `json:"generation,omitempty"`
	// Tasks are every task the agent has that is not terminal and
	// acknowledged, when re-registering, with their latest states.
	Tasks []AgentTask `json:"tasks,omitempty"`
	// Frameworks are the infos of the frameworks those tasks belong to,
	// as the agent received them with LAUNCH: a master that restarted
	// with no memory of them recovers them from here, as Mesos' master
	// does from re-registering agents.
	Frameworks []FrameworkInfo `json:"frameworks,omitempty"`
}

// AgentTask is a task an agent runs, as it reports it when re-registering.
type AgentTask struct {
	FrameworkID string   `json:"framework_id"`
	Task        TaskInfo `json:"task"`
	State       string   `json:"state"`
	Role        string   `json:"role"`
}

// AgentStatus is a status update from an agent, retried until the master
// sends an ACKNOWLEDGE with its uuid. An agent sends a task's oldest
// unacknowledged update; LatestState is the state of the newest one
// queued behind it, if any (Mesos' latest_state): the master keeps the
// task in that state, and frees its resources when it is terminal, before
// the framework acknowledges anything.
type AgentStatus struct {
	FrameworkID string     `json:"framework_id"`
	Status      TaskStatus `json:"status"`
	LatestState string     `json:"latest_state,omitempty"`
}

// Agent event types.
const (
	AgentEventRegistered = "REGISTERED"
	AgentEventLaunch     = "LAUNCH"
	AgentEventKill       = "KILL"
	AgentEventAck        = "ACKNOWLEDGE"
	AgentEventShutdown   = "SHUTDOWN"
	AgentEventPing       = "PING"
)

// AgentEvent is one event on an agent's stream.
type AgentEvent struct {
	Type       string           `json:"type"`
	Registered *AgentRegistered `json:"registered,omitempty"`
	Launch     *AgentLaunchTask `json:"launch,omitempty"`
	Kill       *AgentKillTask   `json:"kill,omitempty"`
	Ack        *AgentAckStatus  `json:"ack,omitempty"`
	Shutdown   *Error           `json:"shutdown,omitempty"`

	// LaunchGroup starts a task group (AgentEventLaunchGroup).
	LaunchGroup *AgentLaunchGroup `json:"launch_group,omitempty"`
}

// AgentRegistered answers a SUBSCRIBE.
type AgentRegistered struct {
	AgentID                  string  `json:"agent_id"`
	HeartbeatIntervalSeconds float64 `json:"heartbeat_interval_seconds"`
}

// AgentLaunchTask starts a task.
type AgentLaunchTask struct {
	FrameworkID string         `json:"framework_id"`
	Framework   *FrameworkInfo `json:"framework,omitempty"` // kept by the agent for re-registration
	Role        string         `json:"role"`
	Task        TaskInfo       `json:"task"`
}

// AgentKillTask stops a task; one the agent does not run is reported LOST.
type AgentKillTask struct {
	FrameworkID string `json:"framework_id"`
	TaskID      string `json:"task_id"`
}

// AgentAckStatus acknowledges a status update.
type AgentAckStatus struct {
	FrameworkID string `json:"framework_id"`
	TaskID      string `json:"task_id"`
	UUID        UUID   `json:"uuid"`
}
