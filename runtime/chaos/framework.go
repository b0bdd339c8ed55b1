package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/masters"
)

// framework is a scheduler that speaks the HTTP API itself and records
// everything it sends and receives. One goroutine (run) owns its state;
// faults and the runner reach it through do.
type framework struct {
	spec    FrameworkSpec
	plan    *Plan
	masters *masters.List // where it subscribes: the leader, found as a Mesos framework finds it
	hist    *History
	start   time.Time
	hc, sc  *http.Client
	ctx     context.Context
	events  chan streamMsg
	actions chan func()

	id, sid     string
	gen         int // the subscription whose events count
	subscribed  bool
	connecting  bool   // a SUBSCRIBE is under way
	base        string // the master of the subscription: calls go there
	cancel      context.CancelCauseFunc
	reconnectAt time.Time
	backoff     time.Duration
	// refusedSince is when the master began to refuse the subscription.
	refusedSince time.Time

	offers      map[string]api.Offer
	used        []api.Offer // used or declined since the last subscription
	tasks       map[string]*ftask
	order       []*ftask // the regular tasks, by launch time
	pendingAcks []api.TaskStatus
	ackPaused   time.Time // acknowledge nothing until then
	dupAcks     time.Time // acknowledge twice until then
	next        map[FaultKind]Fault
	stale       []Fault
	lastRevive  time.Time
	lastEnded   string
	final       bool // the final RECONCILE was sent
	// lastReconcile is when the framework last reconciled.
	lastReconcile time.Time
}

// ftask is what the framework knows of one of its tasks.
type ftask struct {
	spec       TaskSpec
	attempts   int       // TaskInfos of it in ACCEPTs answered 202 or not answered
	accepted   time.Time // the first ACCEPT of it answered 202
	uncertain  bool      // an ACCEPT of it got no answer
	rejected   int       // TASK_DROPPED / TASK_ERROR without uuid
	done       bool      // its end reached the framework
	reconciled bool      // a reconciliation answer said it ended
	heard      bool      // an update (not a reconciliation answer) of it came
	launchedAt time.Time // its last ACCEPT
	killed     bool      // a KILL of it was answered 202
	killRetry  time.Time
	answered   bool   // the final RECONCILE answered for it
	agent      string // the agent of the offer it was launched on
}

// streamMsg is what a subscription's goroutines hand the framework's: an
// event, the stream's end (no event), or a SUBSCRIBE's answer.
type streamMsg struct {
	gen    int
	ev     *api.Event
	err    error
	answer *answer
}

// answer is a SUBSCRIBE's answer, or why there is none.
type answer struct {
	ctx  context.Context // the stream's: ended when the framework drops it
	call api.Call
	sent time.Duration
	resp *http.Response
	err  error
}

const (
	failoverTimeout = 120 // seconds
	refuseSeconds   = 5.0
	callTimeout     = 5 * time.Second
)

// newFramework makes a framework that subscribes to the leader of ms and
// calls it through rt (with its credentials).
func newFramework(ctx context.Context, spec FrameworkSpec, plan *Plan, ms *masters.List, hist *History, start time.Time, rt func(*http.Transport) http.RoundTripper) *framework {
	f := &framework{spec: spec, plan: plan, masters: ms, hist: hist, start: start, ctx: ctx,
		hc: &http.Client{Timeout: callTimeout, Transport: rt(http.DefaultTransport.(*http.Transport)),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		sc:     &http.Client{Transport: rt(streamTransport())},
		events: make(chan streamMsg, 4096), actions: make(chan func(), 64), backoff: 200 * time.Millisecond,
		offers: map[string]api.Offer{}, tasks: map[string]*ftask{}, next: map[FaultKind]Fault{}}
	for _, t := range plan.Tasks {
		if plan.Frameworks[t.Framework].Name != spec.Name {
			continue
		}
		ft := &ftask{spec: t}
		f.tasks[t.ID] = ft
		if !t.Extra {
			f.order = append(f.order, ft)
		}
	}
	return f
}

// streamTransport is the transport of event streams, as runtime/masters'
// StreamClient's: a master has masters.HeaderTimeout to answer a SUBSCRIBE.
func streamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = masters.HeaderTimeout
	return t
}

// do runs fn on the framework's goroutine and waits for it.
func (f *framework) do(fn func()) {
	done := make(chan struct{})
	select {
	case f.actions <- func() { fn(); close(done) }:
		<-done
	case <-f.ctx.Done():
	}
}

// run subscribes and serves the framework until ctx ends.
func (f *framework) run() {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	f.connect()
	for {
		select {
		case <-f.ctx.Done():
			if f.cancel != nil {
				f.cancel(nil)
			}
			return
		case m := <-f.events:
			switch {
			case m.gen != f.gen:
				if m.answer != nil && m.answer.resp != nil {
					m.answer.resp.Body.Close()
				}
			case m.answer != nil:
				f.answered(*m.answer)
			case m.ev == nil:
				f.closed()
			default:
				f.handle(*m.ev)
			}
		case fn := <-f.actions:
			fn()
		case <-tick.C:
			f.tick()
		}
	}
}

// connect subscribes, with the framework's id once it has one, to the
// leader: a master that does not answer is left for the next, a standby's
// 307 is followed. It may take seconds (an election), so it runs on a
// goroutine of its own, which hands the answer to answered.
func (f *framework) connect() {
	info := api.FrameworkInfo{Name: "chaos-" + f.spec.Name, Roles: []string{"*"}, FailoverTimeout: failoverTimeout}
	if f.spec.PartitionAware {
		info.Capabilities = []api.Capability{{Type: api.PartitionAware}}
	}
	if f.id != "" {
		info.ID = &api.ID{Value: f.id}
	}
	c := api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}}
	r, _ := masters.JSON("/api/v1/scheduler", c) // the wire types always marshal
	ctx, cancel := context.WithCancelCause(f.ctx)
	f.gen++
	f.connecting, f.cancel = true, cancel
	gen, sent := f.gen, f.hist.Since()
	go func() {
		resp, err := f.masters.Do(ctx, f.sc, r)
		select {
		case f.events <- streamMsg{gen: gen, answer: &answer{ctx: ctx, call: c, sent: sent, resp: resp, err: err}}:
		case <-f.ctx.Done():
			if resp != nil {
				resp.Body.Close()
			}
		}
	}()
}

// answered takes a SUBSCRIBE's answer: a stream to read, or a retry.
func (f *framework) answered(a answer) {
	f.connecting = false
	e := Entry{Who: f.spec.Name, What: WhatSubscribe, Call: &a.call}
	if a.err != nil {
		e.Err = a.err.Error()
		f.hist.AddAt(e, a.sent)
		f.retry()
		return
	}
	resp := a.resp
	base := baseOf(resp.Request.URL)
	e.Code, e.Master = resp.StatusCode, f.masterID(base)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		e.Err = strings.TrimSpace(string(b))
		f.hist.AddAt(e, a.sent)
		if resp.StatusCode != http.StatusServiceUnavailable { // 503: no leader yet
			f.refused()
		}
		f.retry()
		return
	}
	f.hist.AddAt(e, a.sent)
	f.refusedSince = time.Time{}
	f.sid, f.base, f.reconnectAt = resp.Header.Get(api.StreamIDHeader), base, time.Time{}
	go f.read(stream{ctx: a.ctx, cancel: f.cancel, gen: f.gen, master: e.Master, body: resp.Body})
}

// baseOf is the base URL of a master's URL.
func baseOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

// masterID is the id of the master at base; 0 if it is none of the list.
func (f *framework) masterID(base string) int {
	return slices.Index(f.masters.Masters(), base) + 1
}

// refused notes a refused SUBSCRIBE. Refused its id for subscribeBound
// (a master that restarted and heard of it from no agent: it had no task
// left), the framework subscribes as a new one.
func (f *framework) refused() {
	if f.refusedSince.IsZero() {
		f.refusedSince = time.Now()
	}
	if f.id != "" && time.Since(f.refusedSince) >= subscribeBound {
		f.hist.Add(Entry{Who: f.spec.Name, What: WhatPhase, Note: "subscribing as a new framework: the master refuses id " + f.id})
		f.id = ""
	}
}

func (f *framework) retry() {
	f.reconnectAt = time.Now().Add(f.backoff)
	f.backoff = min(2*f.backoff, 2*time.Second)
}

// stream is one subscription's event stream.
type stream struct {
	ctx    context.Context // ended by cancel
	cancel context.CancelCauseFunc
	gen    int
	master int // the id of the master it is on
	body   io.ReadCloser
}

// errSilent ends a stream whose master went quiet.
var errSilent = errors.New("no event, not even a heartbeat, for " + strconv.Itoa(silentBeats) + " heartbeat intervals")

// read decodes a stream's events, records them as they arrive and hands
// them to the framework's goroutine. Once SUBSCRIBED says the heartbeat
// interval, a stream silent for silentBeats of them is ended (cancel):
// its master is stopped or cut off.
func (f *framework) read(st stream) {
	defer st.body.Close()
	var quiet *time.Timer
	var after time.Duration
	defer func() {
		if quiet != nil {
			quiet.Stop()
		}
	}()
	rr := api.NewRecordReader(st.body)
	for {
		var e api.Event
		err := rr.Decode(&e)
		m := streamMsg{gen: st.gen, err: err}
		switch {
		case err != nil:
			if cause := context.Cause(st.ctx); errors.Is(cause, errSilent) {
				err = cause
			}
			f.hist.Add(Entry{Who: f.spec.Name, What: WhatClosed, Err: err.Error(), Master: st.master})
		case e.Type == api.EventSubscribed && e.Subscribed != nil && quiet == nil && e.Subscribed.HeartbeatIntervalSeconds > 0:
			after = time.Duration(silentBeats * e.Subscribed.HeartbeatIntervalSeconds * float64(time.Second))
			quiet = time.AfterFunc(after, func() { st.cancel(errSilent) })
		case quiet != nil:
			quiet.Reset(after)
		}
		if err == nil {
			m.ev = &e
			if e.Type != api.EventHeartbeat {
				f.hist.Add(Entry{Who: f.spec.Name, What: WhatEvent, Event: &e, Master: st.master})
			}
		}
		select {
		case f.events <- m:
		case <-f.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// closed handles the end of the current stream: subscribe again soon.
func (f *framework) closed() {
	f.drop()
	f.reconnectAt = time.Now().Add(f.backoff)
}

// drop forgets the current stream and what came with it.
func (f *framework) drop() {
	if f.cancel != nil {
		f.cancel(nil)
	}
	f.gen++
	f.subscribed, f.connecting, f.cancel = false, false, nil
	clear(f.offers)
}

// failover drops the stream and subscribes again with the id after down.
func (f *framework) failover(down time.Duration) {
	f.drop()
	f.reconnectAt = time.Now().Add(down)
}

func (f *framework) handle(e api.Event) {
	switch {
	case e.Type == api.EventSubscribed && e.Subscribed != nil:
		f.id, f.subscribed, f.backoff, f.used = e.Subscribed.FrameworkID.Value, true, 200*time.Millisecond, nil
		f.reconcile(false)
		for _, t := range f.tasks {
			t.killed = false // a master that failed over may not have heard a KILL it answered: kill again what has not ended
		}
	case e.Type == api.EventOffers && e.Offers != nil:
		for _, o := range e.Offers.Offers {
			f.offers[o.ID.Value] = o
		}
		f.launchDue()
	case e.Type == api.EventRescind && e.Rescind != nil:
		delete(f.offers, e.Rescind.OfferID.Value)
	case e.Type == api.EventUpdate && e.Update != nil:
		f.update(e.Update.Status)
	}
}

// call posts a call on the current subscription, to its master, and
// records it. A master that no longer leads answers 307, which is not
// followed: the call was not taken.
func (f *framework) call(c api.Call) (int, error) {
	c.FrameworkID = &api.ID{Value: f.id}
	body, _ := json.Marshal(c) // the wire types always marshal
	req, _ := http.NewRequestWithContext(f.ctx, http.MethodPost, f.base+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.StreamIDHeader, f.sid)
	e := Entry{Who: f.spec.Name, What: WhatCall, Call: &c, Master: f.masterID(f.base)}
	sent := f.hist.Since()
	resp, err := f.hc.Do(req)
	if err != nil {
		e.Err = err.Error()
		f.hist.AddAt(e, sent)
		return 0, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	e.Code = resp.StatusCode
	if resp.StatusCode != http.StatusAccepted {
		e.Err = strings.TrimSpace(string(b))
	}
	f.hist.AddAt(e, sent)
	return resp.StatusCode, nil
}

// refused says whether a call certainly had no effect: the master was
// not there, or it refused the call.
func refused(code int, err error) bool {
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	return code != http.StatusAccepted
}
