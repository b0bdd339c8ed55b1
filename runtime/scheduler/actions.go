package scheduler

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/sim/framework"
)

// The framework.Driver methods; they run on the event loop.

// Now is the framework's time since it subscribed, compressed.
func (d *Driver) Now() time.Duration {
	return time.Duration(float64(time.Since(d.start)) * d.opts.Compress)
}

func (d *Driver) wall(v time.Duration) time.Duration {
	return time.Duration(float64(v) / d.opts.Compress)
}

// Launch accepts an offer with tasks.
func (d *Driver) Launch(offer framework.OfferID, tasks []framework.Task, refuse time.Duration) {
	agent := d.offers[offer]
	delete(d.offers, offer)
	infos := make([]api.TaskInfo, 0, len(tasks))
	for _, t := range tasks {
		cmd := t.Command
		if cmd == "" {
			wall := time.Duration(-1)
			if t.Duration >= 0 {
				wall = d.wall(t.Duration)
			}
			cmd = d.opts.Command(t, wall)
		}
		infos = append(infos, api.TaskInfo{Name: string(t.ID), TaskID: api.ID{Value: d.ids.wire(t.ID)}, AgentID: api.ID{Value: agent},
			Resources: api.FromResources(t.Resources), Command: &api.CommandInfo{Value: cmd}, Labels: jobLabel(t.Job)})
		d.opts.Observe.Launched(d.opts.Name, t, agent, d.Now())
	}
	d.post(api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{{Value: string(offer)}},
		Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}, Filters: d.filters(refuse)}})
}

func (d *Driver) filters(refuse time.Duration) *api.Filters {
	if refuse == 0 {
		return nil
	}
	s := d.wall(refuse).Seconds()
	return &api.Filters{RefuseSeconds: &s}
}

// Decline returns an offer.
func (d *Driver) Decline(offer framework.OfferID, refuse time.Duration) {
	delete(d.offers, offer)
	d.opts.Observe.Declined(d.opts.Name)
	d.post(api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: []api.ID{{Value: string(offer)}}, Filters: d.filters(refuse)}})
}

// Suppress stops offers.
func (d *Driver) Suppress() { d.post(api.Call{Type: api.CallSuppress, Suppress: &api.Roles{}}) }

// Revive resumes offers and clears filters.
func (d *Driver) Revive() { d.post(api.Call{Type: api.CallRevive, Revive: &api.Roles{}}) }

// Kill stops a task; one that ended already needs nothing.
func (d *Driver) Kill(id framework.TaskID) {
	if w, ok := d.ids.toWire[id]; ok {
		d.post(api.Call{Type: api.CallKill, Kill: &api.Kill{TaskID: api.ID{Value: w}}})
	}
}

// After runs fn on the event loop after v of the framework's time.
func (d *Driver) After(v time.Duration, fn func()) {
	time.AfterFunc(d.wall(v), func() { d.push(fn) })
}

// Submitted checks that a job can run on the cluster as it was when the
// framework subscribed.
func (d *Driver) Submitted(j framework.JobInfo) error {
	fits := false
	var total allocator.Resources
	for _, a := range d.cluster {
		fits = fits || a.Contains(j.Largest.Flatten())
		total = total.Add(a)
	}
	why := ""
	switch {
	case !fits:
		why = fmt.Sprintf("no agent can hold a task of %s", j.Largest)
	case !j.Gang.IsEmpty() && !total.Contains(j.Gang.Flatten()):
		why = fmt.Sprintf("its %d tasks together need %s, more than the cluster", j.Tasks, j.Gang)
	}
	d.opts.Observe.Submitted(d.opts.Name, j, why, d.Now())
	if why != "" {
		return fmt.Errorf("job %s is unschedulable: %s", j.ID, why)
	}
	return nil
}

// jobLabel names a task's job in its labels (api.JobLabel), if it has one.
func jobLabel(job string) *api.Labels {
	if job == "" {
		return nil
	}
	return &api.Labels{Labels: []api.Label{{Key: api.JobLabel, Value: job}}}
}
