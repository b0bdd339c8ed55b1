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
	// Waiting, if set, is called once when Wait has passed since the
	// framework subscribed and no offer has held the task, with the
	// largest offer seen (nil for none).
	Wait    time.Duration
	Waiting func(largest *framework.Offer)

	launched bool
	largest  *framework.Offer
	final    *framework.Status
}

var _ framework.Scheduler = (*OneTask)(nil)

// Subscribed starts the wait for an offer.
func (o *OneTask) Subscribed(d framework.Driver) {
	if o.Waiting != nil && o.Wait > 0 {
		d.After(o.Wait, func() {
			if !o.launched {
				o.Waiting(o.Largest())
			}
		})
	}
}

// Offers launches the task on the first offer that holds it, using the
// offer's reservations for the role first.
func (o *OneTask) Offers(d framework.Driver, offers []framework.Offer) {
	for _, of := range offers {
		res, fits := Take(of.Resources, o.Resources)
		if o.launched || !fits {
			if !o.launched && (o.largest == nil || cover(of.Resources.Flatten(), o.Resources) > cover(o.largest.Resources.Flatten(), o.Resources)) {
				o.largest = &of
			}
			d.Decline(of.ID, time.Hour)
			continue
		}
		o.launched = true
		d.Launch(of.ID, []framework.Task{{ID: framework.TaskID(o.Name), Resources: res, Command: o.Command, Duration: framework.Forever}}, 0)
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

// Started reports whether the task was launched.
func (o *OneTask) Started() bool { return o.launched }

// Largest is the offer seen that came closest to holding the task, nil
// for none; a copy.
func (o *OneTask) Largest() *framework.Offer {
	if o.largest == nil {
		return nil
	}
	c := *o.largest
	return &c
}

// Final is how the task ended, nil if it has not.
func (o *OneTask) Final() *framework.Status { return o.final }
