package master

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

// sample records the cluster now. Called with m.mu held.
func (m *Master) sample() {
	var offered allocator.Resources
	for _, o := range m.alloc.Offers() {
		offered = offered.Add(o.Resources)
	}
	s := Sample{Time: m.opts.Now(), Total: amounts(m.alloc.Total()), Used: amounts(m.alloc.Allocated().Sub(offered)),
		Offered: amounts(offered), Shares: map[string]float64{}}
	for _, f := range m.alloc.Frameworks() {
		s.Shares[string(f.ID)] = f.DominantShare
	}
	for state, n := range m.counts {
		switch {
		case state == "TASK_STAGING" || state == "TASK_STARTING" || state == "TASK_RUNNING":
			s.Running += n
		case terminal(state):
			s.Completed += n
		}
	}
	m.history.add(s)
}

// History returns the last hour's samples, oldest first.
func (m *Master) History() []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.history.all()
}
