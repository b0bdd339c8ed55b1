package core

import (
	"time"

	"github.com/apronlab/apron/allocator"
)

// Sample is the cluster at one moment, for the last hour's charts.
type Sample struct {
	Time      time.Time          `json:"time"`
	Total     Amounts            `json:"total"`
	Used      Amounts            `json:"used"`
	Offered   Amounts            `json:"offered"`
	Shares    map[string]float64 `json:"shares"` // dominant share by framework id
	Running   int                `json:"running"`
	Completed int                `json:"completed"` // tasks ended since the master started
}

// history keeps the samples of the last hour in a ring.
type history struct {
	every   time.Duration
	samples []Sample
	next    int
	full    bool
}

func newHistory(every, span time.Duration) *history {
	return &history{every: every, samples: make([]Sample, max(int(span/every), 1))}
}

func (h *history) add(s Sample) {
	h.samples[h.next] = s
	h.next = (h.next + 1) % len(h.samples)
	h.full = h.full || h.next == 0
}

// all returns the samples oldest first.
func (h *history) all() []Sample {
	if !h.full {
		return append([]Sample(nil), h.samples[:h.next]...)
	}
	return append(append([]Sample(nil), h.samples[h.next:]...), h.samples[:h.next]...)
}

// sample records the cluster now.
func (c *Core) sample() {
	var offered allocator.Resources
	for _, o := range c.alloc.Offers() {
		offered = offered.Add(o.Resources)
	}
	s := Sample{Time: c.now, Total: amounts(c.alloc.Total()), Used: amounts(c.alloc.Allocated().Sub(offered)),
		Offered: amounts(offered), Shares: map[string]float64{}}
	for _, f := range c.alloc.Frameworks() {
		s.Shares[string(f.ID)] = f.DominantShare
	}
	for state, n := range c.reg.counts {
		switch {
		case state == TaskStaging || state == TaskStarting || state == TaskRunning || state == TaskKilling:
			s.Running += n
		case Terminal(state):
			s.Completed += n
		}
	}
	c.history.add(s)
}

// History returns the last hour's samples, oldest first.
func (c *Core) History() []Sample { return c.history.all() }
