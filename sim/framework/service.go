package framework

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
)

// Service is a long-running service (Marathon like): it keeps Instances
// copies of one task running, starts new ones as old ones are lost, and
// suppresses offers while it is at its target.
type Service struct {
	Name      string
	Instances int
	Task      allocator.Resources
	Refuse    time.Duration
	d         Driver
	running   map[TaskID]bool
	next      int
	active    bool
}

var _ Scheduler = (*Service)(nil)

// NewService returns a service of n instances of task.
func NewService(name string, n int, task allocator.Resources) *Service {
	return &Service{Name: name, Instances: n, Task: task, running: map[TaskID]bool{}, active: true}
}

// Running returns how many instances run now.
func (s *Service) Running() int { return len(s.running) }

func (s *Service) Subscribed(d Driver) {
	s.d = d
	_ = d.Submitted(JobInfo{ID: s.Name, Tasks: s.Instances, Largest: s.Task})
}

func (s *Service) Offers(d Driver, offers []Offer) {
	for _, o := range offers {
		left := o.Resources
		var launch []Task
		for len(s.running)+len(launch) < s.Instances {
			rest, _, ok := Take(left, s.Task)
			if !ok {
				break
			}
			left = rest
			s.next++
			launch = append(launch, Task{ID: TaskID(fmt.Sprintf("%s/%d", s.Name, s.next)), Job: s.Name, Resources: s.Task, Duration: Forever})
		}
		for _, t := range launch {
			s.running[t.ID] = true
		}
		if len(launch) > 0 {
			d.Launch(o.ID, launch, s.Refuse)
		} else {
			d.Decline(o.ID, s.Refuse)
		}
	}
	if s.active && len(s.running) >= s.Instances {
		s.active = false
		d.Suppress()
	}
}

func (s *Service) Rescinded(Driver, OfferID) {}

func (s *Service) Update(d Driver, st Status) {
	if !st.State.Terminal() || !s.running[st.Task] {
		return
	}
	delete(s.running, st.Task)
	if !s.active {
		s.active = true
		d.Revive()
	}
}
