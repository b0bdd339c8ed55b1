package loadgen

import (
	"context"
	"fmt"
	"sync"

	"github.com/apronlab/apron/allocator"

	"github.com/apronlab/apron/runtime/api"
)

// Framework is a simulated framework: Act decides what to do with each
// OFFERS event's offers.
type Framework struct {
	ID, streamID string
	master       string
	Act          func(f *Framework, offers []api.Offer)
}

// StartFrameworks subscribes n frameworks named prefix-1..prefix-n in
// role, each acting on its offers with act, and returns once all are
// subscribed. Their streams stay open until ctx ends.
func StartFrameworks(ctx context.Context, master string, n int, prefix, role string, act func(*Framework, []api.Offer)) ([]*Framework, *sync.WaitGroup, error) {
	var wg sync.WaitGroup
	out := make([]*Framework, n)
	errs := make(chan error, n)
	for i := range n {
		f := &Framework{master: master, Act: act}
		out[i] = f
		name := fmt.Sprintf("%s-%d", prefix, i+1)
		wg.Go(func() { f.run(ctx, name, role, errs) })
	}
	for range n {
		if err := <-errs; err != nil {
			return nil, nil, err
		}
	}
	return out, &wg, nil
}

func (f *Framework) run(ctx context.Context, name, role string, subscribed chan<- error) {
	call := api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{Name: name, Roles: []string{role}}}}
	resp, err := stream(ctx, f.master+"/api/v1/scheduler", call)
	if err != nil {
		subscribed <- fmt.Errorf("framework %s: %w", name, err)
		return
	}
	defer resp.Body.Close()
	f.streamID = resp.Header.Get(api.StreamIDHeader)
	rr := api.NewRecordReader(resp.Body)
	for {
		var e api.Event
		if err := rr.Decode(&e); err != nil {
			return
		}
		switch e.Type {
		case api.EventSubscribed:
			f.ID = e.Subscribed.FrameworkID.Value
			subscribed <- nil
		case api.EventOffers:
			f.Act(f, e.Offers.Offers)
		}
	}
}

// Call posts a call of the framework.
func (f *Framework) Call(ctx context.Context, c api.Call) error {
	c.FrameworkID = &api.ID{Value: f.ID}
	_, err := post(ctx, f.master+"/api/v1/scheduler", c, map[string]string{api.StreamIDHeader: f.streamID})
	return err
}

// DeclineAll declines every offer with no filter, so that the next cycle
// offers the same resources again: the most work for the allocator.
func DeclineAll(ctx context.Context) func(*Framework, []api.Offer) {
	return func(f *Framework, offers []api.Offer) {
		ids := make([]api.ID, len(offers))
		for i, o := range offers {
			ids[i] = o.ID
		}
		zero := 0.0
		_ = f.Call(ctx, api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: ids, Filters: &api.Filters{RefuseSeconds: &zero}}})
	}
}

// Fill launches perOffer tasks of res on every offer until total tasks
// are launched, then declines with an hour's filter: a cluster loaded
// with running tasks (simulated agents report them running).
func Fill(ctx context.Context, perOffer, total int, res allocator.Resources) func(*Framework, []api.Offer) {
	var mu sync.Mutex
	next := 0
	hour := 3600.0
	return func(f *Framework, offers []api.Offer) {
		for _, o := range offers {
			var infos []api.TaskInfo
			mu.Lock()
			for k := 0; k < perOffer && next < total; k++ {
				next++
				infos = append(infos, api.TaskInfo{Name: "t", TaskID: api.ID{Value: fmt.Sprintf("t%d", next)}, AgentID: o.AgentID,
					Command: &api.CommandInfo{Value: "sleep 1000"}, Resources: api.FromResources(res)})
			}
			mu.Unlock()
			_ = f.Call(ctx, api.Call{Type: api.CallAccept, Accept: &api.Accept{OfferIDs: []api.ID{o.ID},
				Operations: []api.Operation{{Type: "LAUNCH", Launch: &api.Launch{TaskInfos: infos}}}, Filters: &api.Filters{RefuseSeconds: &hour}}})
		}
	}
}
