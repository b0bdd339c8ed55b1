package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// framework is a scheduler that speaks the HTTP API itself and records
// everything it sends and receives. One goroutine (run) owns its state;
// faults and the runner reach it through do.
type framework struct {
	spec    FrameworkSpec
	plan    *Plan
	url     string
	hist    *History
	start   time.Time
	hc, sc  *http.Client
	ctx     context.Context
	events  chan streamMsg
	actions chan func()

	id, sid     string
	gen         int // the subscription whose events count
	subscribed  bool
	cancel      context.CancelFunc
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
	killed     bool      // a KILL of it was answered 202
	killRetry  time.Time
	answered   bool   // the final RECONCILE answered for it
	agent      string // the agent of the offer it was launched on
}

type streamMsg struct {
	gen int
	ev  *api.Event
	err error
}

const (
	failoverTimeout = 120 // seconds
	refuseSeconds   = 5.0
	callTimeout     = 5 * time.Second
)

// newFramework makes a framework that calls the master at url through
// rt (with its credentials).
func newFramework(ctx context.Context, spec FrameworkSpec, plan *Plan, url string, hist *History, start time.Time, rt func(*http.Transport) http.RoundTripper) *framework {
	f := &framework{spec: spec, plan: plan, url: url, hist: hist, start: start, ctx: ctx,
		hc:     &http.Client{Timeout: callTimeout, Transport: rt(http.DefaultTransport.(*http.Transport))},
		sc:     &http.Client{Transport: rt(&http.Transport{ResponseHeaderTimeout: callTimeout})},
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
				f.cancel()
			}
			return
		case m := <-f.events:
			if m.gen != f.gen {
				continue
			}
			if m.ev == nil {
				f.closed()
				continue
			}
			f.handle(*m.ev)
		case fn := <-f.actions:
			fn()
		case <-tick.C:
			f.tick()
		}
	}
}

// connect subscribes, with the framework's id once it has one.
func (f *framework) connect() {
	info := api.FrameworkInfo{Name: "chaos-" + f.spec.Name, Roles: []string{"*"}, FailoverTimeout: failoverTimeout}
	if f.spec.PartitionAware {
		info.Capabilities = []api.Capability{{Type: api.PartitionAware}}
	}
	if f.id != "" {
		info.ID = &api.ID{Value: f.id}
	}
	c := api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: info}}
	body, _ := json.Marshal(c) // the wire types always marshal
	ctx, cancel := context.WithCancel(f.ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	e := Entry{Who: f.spec.Name, What: WhatSubscribe, Call: &c}
	sent := f.hist.Since()
	resp, err := f.sc.Do(req)
	if err != nil {
		cancel()
		e.Err = err.Error()
		f.hist.AddAt(e, sent)
		f.retry()
		return
	}
	e.Code = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		e.Err = strings.TrimSpace(string(b))
		f.hist.AddAt(e, sent)
		f.refused()
		f.retry()
		return
	}
	f.hist.AddAt(e, sent)
	f.refusedSince = time.Time{}
	f.gen++
	f.cancel, f.sid, f.reconnectAt = cancel, resp.Header.Get(api.StreamIDHeader), time.Time{}
	go f.read(f.gen, resp.Body)
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

// read decodes a stream's events, records them as they arrive and hands
// them to the framework's goroutine.
func (f *framework) read(gen int, body io.ReadCloser) {
	defer body.Close()
	rr := api.NewRecordReader(body)
	for {
		var e api.Event
		err := rr.Decode(&e)
		m := streamMsg{gen: gen, err: err}
		if err == nil {
			m.ev = &e
			if e.Type != api.EventHeartbeat {
				f.hist.Add(Entry{Who: f.spec.Name, What: WhatEvent, Event: &e})
			}
		} else {
			f.hist.Add(Entry{Who: f.spec.Name, What: WhatClosed, Err: err.Error()})
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
		f.cancel()
	}
	f.gen++
	f.subscribed, f.cancel = false, nil
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

// call posts a call on the current subscription and records it.
func (f *framework) call(c api.Call) (int, error) {
	c.FrameworkID = &api.ID{Value: f.id}
	body, _ := json.Marshal(c) // the wire types always marshal
	req, _ := http.NewRequestWithContext(f.ctx, http.MethodPost, f.url+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.StreamIDHeader, f.sid)
	e := Entry{Who: f.spec.Name, What: WhatCall, Call: &c}
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
