package sim

import (
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/sim/framework"
)

// fw is one simulated framework: the scheduler, and the driver through
// which it acts. Actions a callback takes are collected and applied after
// the framework's decision time, t_job + t_task x tasks (the Omega paper's
// model); while it decides, the framework is busy and new offers wait.
type fw struct {
	s        *Sim
	id       allocator.FrameworkID
	role     string
	ref      allocator.ClientRef
	sched    framework.Scheduler
	decision Decision // in time.Duration units

	busyUntil   time.Duration
	busy        time.Duration // total time spent deciding
	waiting     []framework.Offer
	acts        []action   // collected during the current callback
	spare       [][]action // emptied acts, to collect in again
	inCall      bool
	cycle       []framework.Offer // the offers of the allocation cycle being handed out
	offered     int               // how many of them
	spareOffers []framework.Offer // the last offers handed to the scheduler, emptied, to hand out again

	stats fwStats
}

type fwStats struct {
	offers, launched, declined, rescinded int
	tasks                                 int
}

type action struct {
	offer  allocator.OfferID
	tasks  []framework.Task // nil for a decline
	refuse time.Duration
}

var _ framework.Driver = (*fw)(nil)

// call runs one scheduler callback and applies what it decided.
func (f *fw) call(cb func()) {
	f.inCall = true
	cb()
	f.inCall = false
	if len(f.acts) == 0 {
		return
	}
	acts := f.acts
	f.acts = nil
	if k := len(f.spare) - 1; k >= 0 {
		f.acts, f.spare = f.spare[k], f.spare[:k]
	}
	n := 0
	for _, a := range acts {
		n += len(a.tasks)
	}
	dt := time.Duration(f.decision.Job) + time.Duration(n)*time.Duration(f.decision.Task)
	f.busyUntil = f.s.eng.Now() + dt
	f.busy += dt
	f.s.eng.After(dt, func() {
		for _, a := range acts {
			f.apply(a)
		}
		clear(acts)
		f.spare = append(f.spare, acts[:0])
		f.deliverWaiting()
	})
}

func (f *fw) deliver(offers []framework.Offer) {
	f.stats.offers += len(offers)
	if len(f.waiting) == 0 {
		f.waiting = offers // the cycle's own slice
	} else {
		f.waiting = append(f.waiting, offers...)
	}
	f.deliverWaiting()
}

// deliverWaiting hands the waiting offers to the scheduler unless it is
// busy deciding.
func (f *fw) deliverWaiting() {
	if len(f.waiting) == 0 || f.s.eng.Now() < f.busyUntil {
		return
	}
	offers := f.waiting
	f.waiting = nil
	f.call(func() { f.sched.Offers(f, offers) })
	clear(offers)
	f.spareOffers = offers[:0]
}

// offerBuf returns an empty slice for n offers: the spare one if it holds
// them.
func (f *fw) offerBuf(n int) []framework.Offer {
	if buf := f.spareOffers; cap(buf) >= n {
		f.spareOffers = nil
		return buf
	}
	return make([]framework.Offer, 0, n)
}

func (f *fw) apply(a action) {
	if a.tasks == nil {
		f.stats.declined++
		_ = f.s.alloc.Decline(a.offer, a.refuse, f.s.clock()) // a rescinded offer is simply gone
		return
	}
	f.stats.launched++
	f.s.launch(f, a)
}

// Driver.

func (f *fw) Now() time.Duration { return f.s.eng.Now() }

func (f *fw) Launch(offer framework.OfferID, tasks []framework.Task, refuse time.Duration) {
	f.acts = append(f.acts, action{offer: parseOfferID(offer), tasks: append([]framework.Task{}, tasks...), refuse: refuse})
}

func (f *fw) Decline(offer framework.OfferID, refuse time.Duration) {
	f.acts = append(f.acts, action{offer: parseOfferID(offer), refuse: refuse})
}

func (f *fw) Suppress() { _ = f.s.alloc.Suppress(f.id) }
func (f *fw) Revive()   { _ = f.s.alloc.Revive(f.id) }

func (f *fw) Kill(id framework.TaskID) { f.s.kill(f, id) }

func (f *fw) After(d time.Duration, fn func()) {
	f.s.eng.After(d, func() { f.call(fn) })
}

func (f *fw) Submitted(j framework.JobInfo) error { return f.s.submitted(f, j) }

func offerID(id allocator.OfferID) framework.OfferID {
	return framework.OfferID(strconv.FormatUint(uint64(id), 10))
}

func parseOfferID(id framework.OfferID) allocator.OfferID {
	n, _ := strconv.ParseUint(string(id), 10, 64) // an unknown id is offer 0: gone
	return allocator.OfferID(n)
}
