package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/masters"
)

// Framework is a simulated framework: Act decides what to do with each
// OFFERS event's offers.
type Framework struct {
	ID, streamID string
	conn         conn
	Act          func(f *Framework, offers []api.Offer)
}

// FailoverTimeout is how long a master keeps a simulated framework whose
// stream ended, for it to subscribe again (after a failover, say).
const FailoverTimeout = time.Minute

// StartFrameworks subscribes n frameworks named prefix-1..prefix-n in
// role with the leader of ms (whose credential they use), each acting on its offers with act, and returns once
// all are subscribed. Their streams stay open until ctx ends; when one
// ends (the master died or stepped down) the framework subscribes again
// with its id.
func StartFrameworks(ctx context.Context, ms *masters.List, n int, prefix, role string, act func(*Framework, []api.Offer)) ([]*Framework, *sync.WaitGroup, error) {
	c := newConn(ms)
	var wg sync.WaitGroup
	out := make([]*Framework, n)
	errs := make(chan error, n)
	for i := range n {
		f := &Framework{conn: c, Act: act}
		out[i] = f
		name := fmt.Sprintf("%s-%d", prefix, i+1)
		wg.Go(func() { resubscribe(ctx, errs, func(ok func()) error { return f.serve(ctx, name, role, ok) }) })
	}
	for range n {
		if err := <-errs; err != nil {
			return nil, nil, err
		}
	}
	return out, &wg, nil
}

// serve subscribes the framework, with its id once it has one, and serves
// its stream until it ends; ok is called on SUBSCRIBED.
func (f *Framework) serve(ctx context.Context, name, role string, ok func()) error {
	info := api.FrameworkInfo{Name: name, Roles: []string{role}, FailoverTimeout: FailoverTimeout.Seconds()}
	if f.ID != "" {
		info.ID = &api.ID{Value: f.ID}
	}
	resp, err := f.conn.stream(ctx, "/api/v1/scheduler", api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}})
	if err != nil {
		return fmt.Errorf("framework %s: %w", name, err)
	}
	defer resp.Body.Close()
	f.streamID = resp.Header.Get(api.StreamIDHeader)
	rr := api.NewRecordReader(resp.Body)
	for {
		var e api.Event
		if err := rr.Decode(&e); err != nil {
			return fmt.Errorf("framework %s: %w", name, err)
		}
		switch e.Type {
		case api.EventSubscribed:
			if f.ID == "" { // written once: others read it once StartFrameworks returned
				f.ID = e.Subscribed.FrameworkID.Value
			}
			ok()
		case api.EventOffers:
			f.Act(f, e.Offers.Offers)
		}
	}
}

// Call posts a call of the framework to the leading master; Act calls it.
func (f *Framework) Call(ctx context.Context, c api.Call) error {
	c.FrameworkID = &api.ID{Value: f.ID}
	_, err := f.conn.post(ctx, "/api/v1/scheduler", c, map[string]string{api.StreamIDHeader: f.streamID})
	return err
}

// DeclineAll declines every offer with no filter, so that the next cycle
// offers the same resources again: the most work for the allocator.
func DeclineAll(ctx context.Context) func(*Framework, []api.Offer) {
	return DeclineFiltered(ctx, 0)
}

// DeclineFiltered declines every offer with a filter of refuse, as the Mesos
// allocator benchmark's frameworks do: the allocator accumulates a filter per
// framework per agent.
func DeclineFiltered(ctx context.Context, refuse time.Duration) func(*Framework, []api.Offer) {
	seconds := refuse.Seconds()
	return func(f *Framework, offers []api.Offer) {
		ids := make([]api.ID, len(offers))
		for i, o := range offers {
			ids[i] = o.ID
		}
		_ = f.Call(ctx, api.Call{Type: api.CallDecline, Decline: &api.Decline{OfferIDs: ids, Filters: &api.Filters{RefuseSeconds: &seconds}}})
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
