package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/masters"
)

// stream opens the event stream of a SUBSCRIBE and feeds its events to
// the core until it ends, or its generation is closed.
func (a *Agent) stream(ctx context.Context, m core.Message) {
	gen := m.Gen
	closed := func(why string) {
		if ctx.Err() == nil {
			a.opts.Log.Warn("master connection lost; retrying", "generation", gen, "why", why)
		}
		a.step(func(c *core.Core, now time.Time) { c.StreamClosed(now, gen, why) })
	}
	resp, err := a.do(ctx, a.sc, m.Call)
	if err != nil {
		closed(err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		closed(fmt.Sprintf("subscribe: %s: %s", resp.Status, readError(resp)))
		return
	}
	a.step(func(c *core.Core, now time.Time) { c.StreamOpened(now, gen) })
	rr := api.NewRecordReader(resp.Body)
	for {
		var e api.AgentEvent
		if err := rr.Decode(&e); err != nil {
			closed(err.Error())
			return
		}
		if e.Type == api.AgentEventRegistered && e.Registered != nil {
			a.opts.Log.Info("registered", "generation", gen)
		}
		a.step(func(c *core.Core, now time.Time) { c.Event(now, gen, e) })
	}
}

// post posts a HEARTBEAT or STATUS and reports its HTTP status (0: none).
func (a *Agent) post(ctx context.Context, m core.Message) {
	code := 0
	if resp, err := a.do(ctx, a.hc, m.Call); err == nil {
		code = resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
	}
	r := core.PostResult{Gen: m.Gen, Type: m.Call.Type, Code: code}
	a.step(func(c *core.Core, now time.Time) { c.Posted(now, r) })
}

// do posts an agent call to the leading master.
func (a *Agent) do(ctx context.Context, hc *http.Client, c api.AgentCall) (*http.Response, error) {
	r, err := masters.JSON("/api/v1/agent", c)
	if err != nil {
		return nil, err
	}
	return a.masters.Do(ctx, hc, r)
}

func readError(resp *http.Response) string {
	var e api.ErrorBody
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e) == nil {
		return e.Error
	}
	return ""
}
