package scheduler

import (
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
)

// OneTask is the framework behind apron execute: it launches one command
// on the first offer that holds its resources, declines every other offer,
// and is done when the task ends.
type OneTask struct {
	Name      string
	Command   string
	Resources allocator.Resources
	// Launched and Updated report progress (may be nil).
	Launched func(agent string)
	Updated  func(s framework.Status)

	launched bool
	final    *framework.Status
}

var _ framework.Scheduler = (*OneTask)(nil)

// Subscribed does nothing: the task waits for an offer.
func (o *OneTask) Subscribed(framework.Driver) {}

// Offers launches the task on the first offer that holds it.
func (o *OneTask) Offers(d framework.Driver, offers []framework.Offer) {
	for _, of := range offers {
		if o.launched || !of.Resources.Flatten().Contains(o.Resources) {
			d.Decline(of.ID, time.Hour)
			continue
		}
		o.launched = true
		d.Launch(of.ID, []framework.Task{{ID: framework.TaskID(o.Name), Resources: o.Resources, Command: o.Command, Duration: framework.Forever}}, 0)
		if o.Launched != nil {
			o.Launched(of.Agent)
		}
	}
}

// Rescinded needs nothing: an unused offer is simply gone.
func (o *OneTask) Rescinded(framework.Driver, framework.OfferID) {}

// Update reports a status and keeps the final one.
func (o *OneTask) Update(_ framework.Driver, s framework.Status) {
	if o.Updated != nil {
		o.Updated(s)
	}
	if s.State.Terminal() {
		o.final = &s
	}
}

// Done reports whether the task ended.
func (o *OneTask) Done() bool { return o.final != nil }

// Final is how the task ended, nil if it has not.
func (o *OneTask) Final() *framework.Status { return o.final }
