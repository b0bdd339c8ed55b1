package core

import (
	"fmt"

	"github.com/apronlab/apron/allocator"
)

// CheckBooks verifies the core's books, as tests and the fault-injection
// suite do after every step: the allocator holds exactly the outstanding
// offers and the resources of the tasks that have not ended on connected
// agents, no agent is allocated more than it has, and every command the
// core made fitted its registry. It returns the first discrepancy.
func (c *Core) CheckBooks() error {
	if len(c.applyErrors) > 0 {
		return fmt.Errorf("commands that did not fit the registry: %v", c.applyErrors)
	}
	perAgent := map[allocator.AgentID]allocator.Resources{}
	for _, id := range sortedKeys(c.reg.frameworks) {
		for _, tk := range c.reg.frameworks[id].active() {
			ag := c.reg.agents[tk.AgentID]
			switch {
			case tk.charged && (Terminal(tk.State) || !ag.inAlloc):
				return fmt.Errorf("task %s (%s) is charged on agent %s (in the allocator: %v)", tk.Info.TaskID.Value, tk.State, tk.AgentID, ag.inAlloc)
			case !tk.charged && !Terminal(tk.State) && ag.inAlloc:
				return fmt.Errorf("task %s (%s) runs on connected agent %s but holds nothing", tk.Info.TaskID.Value, tk.State, tk.AgentID)
			case tk.charged:
				perAgent[allocator.AgentID(tk.AgentID)] = perAgent[allocator.AgentID(tk.AgentID)].Add(tk.res)
			}
		}
	}
	for _, e := range sortedExecutors(c.reg.executors) {
		ag := c.reg.agents[e.AgentID]
		switch {
		case e.charged && (e.ended() || !ag.inAlloc):
			return fmt.Errorf("executor %s of %s is charged on agent %s (ended: %v, in the allocator: %v)", e.Info.ExecutorID.Value, e.FrameworkID, e.AgentID, e.ended(), ag.inAlloc)
		case !e.charged && !e.ended() && ag.inAlloc:
			return fmt.Errorf("executor %s of %s runs tasks on connected agent %s but holds nothing", e.Info.ExecutorID.Value, e.FrameworkID, e.AgentID)
		case e.charged:
			perAgent[allocator.AgentID(e.AgentID)] = perAgent[allocator.AgentID(e.AgentID)].Add(e.res)
		}
	}
	for _, o := range c.alloc.Offers() {
		perAgent[o.Agent] = perAgent[o.Agent].Add(o.Resources)
	}
	for _, v := range c.alloc.Agents() {
		if !v.Total.Contains(v.Allocated) {
			return fmt.Errorf("agent %s: allocated %s exceeds its total %s", v.ID, v.Allocated, v.Total)
		}
		if !v.Allocated.Equal(perAgent[v.ID]) {
			return fmt.Errorf("agent %s: the allocator holds %s, the tasks and offers %s", v.ID, v.Allocated, perAgent[v.ID])
		}
		ag := c.reg.agents[string(v.ID)]
		if ag == nil || !ag.inAlloc {
			return fmt.Errorf("agent %s is in the allocator but not connected", v.ID)
		}
		if !v.Total.Contains(ag.Total().Reserved()) {
			return fmt.Errorf("agent %s: the allocator holds %s, which lacks its reservations %s", v.ID, v.Total, ag.Total().Reserved())
		}
	}
	return nil
}
