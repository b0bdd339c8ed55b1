package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/sim/framework"
)

// Options configure a framework's run on a live master.
type Options struct {
	// Master is the masters: a base URL or host:port, or several,
	// comma-separated, of which the driver follows the leader (package
	// masters).
	Master          string
	Name            string
	Role            string        // default "*"
	FailoverTimeout time.Duration // how long the master keeps the framework while it reconnects; default 1m
	Compress        float64       // framework seconds per wall second; default 1
	// Command gives the shell command of a task that names none; default:
	// $APRON burn for the task's cpus and mem and its duration (see Burn).
	Command func(t framework.Task, wall time.Duration) string
	// Done, if set, is asked after every callback: true ends the run with
	// a TEARDOWN.
	Done func() bool
	// Observe, if set, sees every event and job as it happens, at the
	// framework's time, for recording.
	Observe Observer
	// OnSubscribed, if set, is called once the master gave the framework
	// its id.
	OnSubscribed func(d *Driver)
	Log          *slog.Logger
	// Credential is who the framework is: every call carries it, and the
	// masters are verified with its CA (nil: none).
	Credential *auth.Client
}

// Observer records what a framework does.
type Observer interface {
	// Submitted sees a job arrive; unschedulable says why it can never
	// run on the cluster, if it cannot.
	Submitted(fw string, j framework.JobInfo, unschedulable string, at time.Duration)
	Launched(fw string, t framework.Task, agent string, at time.Duration)
	Updated(fw string, s framework.Status, at time.Duration)
	// Offered, Declined and Rescinded count the offer traffic.
	Offered(fw string, n int)
	Declined(fw string)
	Rescinded(fw string)
}

// NopObserver observes nothing; embed it to observe only some events.
type NopObserver struct{}

func (NopObserver) Submitted(string, framework.JobInfo, string, time.Duration) {}
func (NopObserver) Launched(string, framework.Task, string, time.Duration)     {}
func (NopObserver) Updated(string, framework.Status, time.Duration)            {}
func (NopObserver) Offered(string, int)                                        {}
func (NopObserver) Declined(string)                                            {}
func (NopObserver) Rescinded(string)                                           {}

// Burn is the default task command: apron burn with the task's cpus and
// mem, less 24 MiB for burn's own runtime so it stays under the task's
// memory limit, for wall (until killed when negative).
func Burn(t framework.Task, wall time.Duration) string {
	mem := max(t.Resources.Sum("mem").Float()-24, 0)
	d := "0"
	if wall >= 0 {
		d = wall.String()
	}
	if wall == 0 {
		return "true"
	}
	return fmt.Sprintf(`exec "$APRON" burn --cpus %g --mem %g --duration %s`, t.Resources.Sum("cpus").Float(), mem, d)
}

// Driver is a framework's connection to a live master.
type Driver struct {
	opts     Options
	sched    framework.Scheduler
	hc       *http.Client  // calls
	sc       *http.Client  // the event stream
	masters  *masters.List // where calls go
	start    time.Time
	id       string
	streamID string
	events   chan func()
	ctx      context.Context
	offers   map[framework.OfferID]string // agent of each outstanding offer
	cluster  []allocator.Resources        // agents' totals, for Submitted
	ids      taskIDs
	seen     seenUpdates
	err      error
}

var _ framework.Driver = (*Driver)(nil)

// Run subscribes sched to the master and runs it until ctx ends, Done says
// so, or the master refuses it; the framework is then torn down.
func Run(ctx context.Context, opts Options, sched framework.Scheduler) error {
	if opts.Role == "" {
		opts.Role = "*"
	}
	if opts.FailoverTimeout == 0 {
		opts.FailoverTimeout = time.Minute
	}
	if opts.Compress <= 0 {
		opts.Compress = 1
	}
	if opts.Command == nil {
		opts.Command = Burn
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Observe == nil {
		opts.Observe = NopObserver{}
	}
	ms, err := masters.WithCredential(opts.Master, opts.Credential)
	if err != nil {
		return fmt.Errorf("framework %s: %w", opts.Name, err)
	}
	d := &Driver{opts: opts, sched: sched, hc: ms.Client(30 * time.Second), sc: ms.StreamClient(), masters: ms, events: make(chan func(), 1024),
		ctx: ctx, offers: map[framework.OfferID]string{}, ids: newTaskIDs(), seen: newSeenUpdates()}
	if err := d.loadCluster(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx
	subscribed := make(chan error, 1)
	go d.stream(ctx, subscribed)
	if err := <-subscribed; err != nil {
		return err
	}
	d.start = time.Now()
	d.loop(ctx)
	if d.id != "" {
		_ = d.call(context.Background(), api.Call{Type: api.CallTeardown})
	}
	return d.err
}

// ID is the framework id the master gave.
func (d *Driver) ID() string { return d.id }

// Do runs fn on the framework's event loop, as one of its callbacks: how
// code outside the framework hands it work (Batch.Feed a job, say). It
// returns at once; after the run ends fn is dropped.
func (d *Driver) Do(fn func()) { go d.push(fn) }

func (d *Driver) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case fn := <-d.events:
			fn()
			if d.err != nil || d.opts.Done != nil && d.opts.Done() {
				return
			}
		}
	}
}

// push hands fn to the event loop.
func (d *Driver) push(fn func()) {
	select {
	case d.events <- fn:
	case <-d.ctx.Done():
	}
}

// stream subscribes, and subscribes again with the framework's id when the
// connection drops, until ctx ends or the master refuses.
func (d *Driver) stream(ctx context.Context, subscribed chan<- error) {
	first := true
	backoff := 100 * time.Millisecond
	id := "" // the framework's, once the master gave it; this goroutine's copy of d.id
	for ctx.Err() == nil {
		err := d.subscribe(ctx, id, func(given string) {
			id = given
			if first {
				first = false
				subscribed <- nil
			}
			backoff = 100 * time.Millisecond
		})
		var refused *refusedError
		if errors.As(err, &refused) || first {
			if first {
				subscribed <- err
			} else {
				d.push(func() { d.err = err })
			}
			return
		}
		d.opts.Log.Warn("scheduler stream lost; resubscribing", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// SilentBeats is how many heartbeat intervals a stream may go without an
// event before the driver takes its master for gone (stopped, or cut off)
// and subscribes again, to the next master or the new leader.
const SilentBeats = 3

// errSilent ends a stream whose master went quiet.
var errSilent = errors.New("no event, not even a heartbeat, for " + strconv.Itoa(SilentBeats) + " heartbeat intervals")

// silence ends a stream that went quiet: once armed with the heartbeat
// interval, it cancels the stream SilentBeats intervals after the last
// event heard.
type silence struct {
	timer *time.Timer
	after time.Duration
}

func (s *silence) arm(heartbeatSeconds float64, cancel context.CancelCauseFunc) {
	if s.timer == nil && heartbeatSeconds > 0 {
		s.after = time.Duration(SilentBeats * heartbeatSeconds * float64(time.Second))
		s.timer = time.AfterFunc(s.after, func() { cancel(errSilent) })
	}
}

func (s *silence) heard() {
	if s.timer != nil {
		s.timer.Reset(s.after)
	}
}

func (s *silence) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
}

// subscribe subscribes the framework (with its id, if it has one) and
// feeds its events to the event loop; ok sees the id the master gave.
func (d *Driver) subscribe(ctx context.Context, id string, ok func(id string)) error {
	info := api.FrameworkInfo{Name: d.opts.Name, Roles: []string{d.opts.Role}, FailoverTimeout: d.opts.FailoverTimeout.Seconds(),
		Capabilities: []api.Capability{{Type: api.PartitionAware}}}
	if id != "" {
		info.ID = &api.ID{Value: id}
	}
	r, _ := masters.JSON("/api/v1/scheduler", api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}})
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := d.masters.Do(ctx, d.sc, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable: // no leader for now: try again
		return fmt.Errorf("subscribe: %s: %s", resp.Status, errorOf(resp))
	case resp.StatusCode != http.StatusOK:
		return &refusedError{fmt.Sprintf("subscribe: %s: %s", resp.Status, errorOf(resp))}
	}
	sid := resp.Header.Get(api.StreamIDHeader)
	rr := api.NewRecordReader(resp.Body)
	var quiet silence
	defer quiet.stop()
	for {
		var e api.Event
		if err := rr.Decode(&e); err != nil {
			if cause := context.Cause(ctx); cause == errSilent {
				return cause
			}
			return err
		}
		quiet.heard()
		if e.Type == api.EventSubscribed {
			quiet.arm(e.Subscribed.HeartbeatIntervalSeconds, cancel)
			d.push(func() { d.subscribed(e.Subscribed.FrameworkID.Value, sid) })
			ok(e.Subscribed.FrameworkID.Value)
			continue
		}
		d.push(func() { d.handle(e) })
	}
}

func (d *Driver) subscribed(id, sid string) {
	again := d.id != ""
	d.id, d.streamID = id, sid
	clear(d.offers)
	if !again {
		if d.opts.OnSubscribed != nil {
			d.opts.OnSubscribed(d)
		}
		d.sched.Subscribed(d)
		return
	}
	// Updates the master made while the framework was away are not sent
	// again: ask for the state of every task not known to have ended.
	if live := d.ids.live(); len(live) > 0 {
		rec := &api.Reconcile{}
		for _, w := range live {
			rec.Tasks = append(rec.Tasks, api.ReconcileTask{TaskID: api.ID{Value: w}})
		}
		d.post(api.Call{Type: api.CallReconcile, Reconcile: rec})
	}
}

func (d *Driver) handle(e api.Event) {
	switch e.Type {
	case api.EventOffers:
		var offers []framework.Offer
		for _, o := range e.Offers.Offers {
			res, err := api.ToResources("offer", o.Resources)
			if err != nil {
				continue
			}
			id := framework.OfferID(o.ID.Value)
			d.offers[id] = o.AgentID.Value
			offers = append(offers, framework.Offer{ID: id, Agent: o.AgentID.Value, Role: o.Role(), Resources: res, Attributes: api.AttributeMap(o.Attributes)})
		}
		d.opts.Observe.Offered(d.opts.Name, len(offers))
		d.sched.Offers(d, offers)
	case api.EventRescind:
		id := framework.OfferID(e.Rescind.OfferID.Value)
		delete(d.offers, id)
		d.opts.Observe.Rescinded(d.opts.Name)
		d.sched.Rescinded(d, id)
	case api.EventUpdate:
		d.update(e.Update.Status)
	case api.EventError:
		d.err = fmt.Errorf("master: %s", e.Error.Message)
	}
}

// update delivers a status to the framework once: an update the agent
// sends again (its acknowledgement was lost) is acknowledged again but not
// delivered, and a reconciliation answer only when it tells something new.
func (d *Driver) update(s api.TaskStatus) {
	agent := ""
	if s.AgentID != nil {
		agent = s.AgentID.Value
	}
	if s.UUID != "" && agent != "" {
		defer d.post(api.Call{Type: api.CallAcknowledge, Acknowledge: &api.Acknowledge{AgentID: api.ID{Value: agent}, TaskID: s.TaskID, UUID: s.UUID}})
	}
	if !d.seen.fresh(s) || !d.ids.known(s.TaskID.Value) && s.Reason == "REASON_RECONCILIATION" {
		return
	}
	st := framework.Status{Task: d.ids.framework(s.TaskID.Value), Agent: agent, State: framework.State(s.State), Reason: s.Reason, Message: s.Message}
	d.opts.Observe.Updated(d.opts.Name, st, d.Now())
	if st.State.Terminal() {
		d.ids.forget(s.TaskID.Value)
	}
	d.sched.Update(d, st)
}

func errorOf(resp *http.Response) string {
	var e api.ErrorBody
	if json.NewDecoder(resp.Body).Decode(&e) == nil {
		return e.Error
	}
	return ""
}

// call posts a call of this framework.
func (d *Driver) call(ctx context.Context, c api.Call) error {
	c.FrameworkID = &api.ID{Value: d.id}
	r, _ := masters.JSON("/api/v1/scheduler", c)
	r.Header.Set(api.StreamIDHeader, d.streamID)
	resp, err := d.masters.Do(ctx, d.hc, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s: %s: %s", c.Type, resp.Status, errorOf(resp))
	}
	return nil
}

func (d *Driver) post(c api.Call) {
	if err := d.call(d.ctx, c); err != nil && d.ctx.Err() == nil {
		d.opts.Log.Warn("call failed", "err", err)
	}
}

// loadCluster reads the agents' totals from the master's /state.
func (d *Driver) loadCluster() error {
	st, err := master.FetchState(d.ctx, d.hc, d.masters)
	if err != nil {
		return err
	}
	for _, a := range st.Agents {
		if a.State == "active" {
			d.cluster = append(d.cluster, a.Resources.Total.Resources().Flatten())
		}
	}
	return nil
}
