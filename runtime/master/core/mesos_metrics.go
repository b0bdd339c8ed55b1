package core

import (
	"strings"
	"time"
)

// CycleStats are what the shell measures of the allocation cycles: how
// many ran and how long the last took.
type CycleStats struct {
	Runs uint64
	Last time.Duration
}

// MesosMetrics returns /metrics/snapshot: the figures apron keeps, under
// Mesos' names (docs/monitoring.md of Mesos), for a leading master that
// has run for uptime.
func (c *Core) MesosMetrics(uptime time.Duration, cycles CycleStats) map[string]float64 {
	m := map[string]float64{"master/elected": 1, "master/uptime_secs": uptime.Seconds()}
	st := c.Summary()
	for _, kind := range []struct {
		of     string
		amount Amounts
	}{{"total", st.Resources.Total}, {"used", st.Resources.Used}} {
		for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
			m["master/"+name+"_"+kind.of] = 0
		}
		for k, v := range kind.amount {
			name, _, _ := strings.Cut(k, "(") // reservations summed by name
			m["master/"+name+"_"+kind.of] += v
		}
	}
	for _, name := range []string{"cpus", "mem", "disk", "gpus"} {
		total, used := m["master/"+name+"_total"], m["master/"+name+"_used"]
		m["master/"+name+"_percent"] = 0
		if total > 0 {
			m["master/"+name+"_percent"] = used / total
		}
		offered := 0.0
		for k, v := range st.Resources.Offered {
			if n, _, _ := strings.Cut(k, "("); n == name {
				offered += v
			}
		}
		if name != "gpus" { // Mesos' allocator counts cpus, mem and disk
			m["allocator/mesos/resources/"+name+"/total"] = total
			m["allocator/mesos/resources/"+name+"/offered_or_allocated"] = used + offered
		}
	}
	c.agentMetrics(m)
	c.frameworkMetrics(m)
	for _, state := range []string{TaskStaging, TaskStarting, TaskRunning, TaskKilling, TaskUnreachable, TaskFinished, TaskFailed,
		TaskKilled, TaskLost, TaskError, TaskDropped, TaskGone} {
		m["master/tasks_"+strings.ToLower(strings.TrimPrefix(state, "TASK_"))] = float64(c.reg.counts[state])
	}
	m["master/outstanding_offers"] = float64(len(c.alloc.Offers()))
	m["master/messages_decline_offers"] = float64(c.stats.Declined)
	m["master/messages_launch_tasks"] = float64(c.stats.Accepted)
	m["master/slave_unreachable_completed"] = float64(c.stats.AgentsLost)
	m["allocator/mesos/allocation_runs"] = float64(cycles.Runs)
	m["allocator/mesos/allocation_run_ms"] = float64(cycles.Last.Microseconds()) / 1e3
	m["allocator/mesos/allocation_run_ms/count"] = float64(cycles.Runs)
	for _, r := range st.Roles {
		role := mesosRole(r.Name)
		m["allocator/mesos/roles/"+role+"/shares/dominant"] = r.DominantShare
		for _, q := range []struct {
			of string
			a  Amounts
		}{{"guarantee", r.Guarantee}, {"limit", r.Limit}} {
			for name, v := range q.a {
				m["allocator/mesos/quota/roles/"+role+"/resources/"+name+"/"+q.of] = v
			}
		}
		if len(r.Guarantee)+len(r.Limit) > 0 {
			for _, e := range c.consumed(r.Name).Flatten() {
				m["allocator/mesos/quota/roles/"+role+"/resources/"+e.Name+"/consumed"] = e.Value.Float()
			}
		}
	}
	return m
}

// agentMetrics counts agents as Mesos does: registered ones are active
// while connected, inactive while not.
func (c *Core) agentMetrics(m map[string]float64) {
	for _, k := range []string{"active", "inactive", "connected", "disconnected", "unreachable"} {
		m["master/slaves_"+k] = 0
	}
	for _, id := range c.reg.agentOrder {
		ag := c.reg.agents[id]
		switch {
		case ag.State == AgentUnreachable:
			m["master/slaves_unreachable"]++
		case ag.State == AgentActive && ag.stream != "":
			m["master/slaves_active"]++
			m["master/slaves_connected"]++
		case ag.State == AgentActive:
			m["master/slaves_inactive"]++
			m["master/slaves_disconnected"]++
		}
	}
}

// frameworkMetrics counts frameworks: one is active while connected.
func (c *Core) frameworkMetrics(m map[string]float64) {
	for _, k := range []string{"active", "inactive", "connected", "disconnected"} {
		m["master/frameworks_"+k] = 0
	}
	for _, f := range c.reg.frameworks {
		if f.stream != "" {
			m["master/frameworks_active"]++
			m["master/frameworks_connected"]++
		} else {
			m["master/frameworks_inactive"]++
			m["master/frameworks_disconnected"]++
		}
	}
}
