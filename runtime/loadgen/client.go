package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/masters"
)

// conn is the masters and an HTTP client for many long-lived streams to
// them, with the list's credential: it speaks HTTP/2 (unencrypted to a
// master run --insecure, over TLS to the others), so thousands of streams
// share a few connections (the master allows 1,000 per connection).
type conn struct {
	ms *masters.List
	hc *http.Client
}

func newConn(ms *masters.List) conn {
	t := &http.Transport{IdleConnTimeout: time.Minute}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	return conn{ms: ms, hc: ms.ClientWith(t, 0)}
}

// post sends a JSON call to the leading master and returns the HTTP status.
func (c conn) post(ctx context.Context, path string, body any, header map[string]string) (int, error) {
	r, err := masters.JSON(path, body)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := c.ms.Do(ctx, c.hc, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var e api.ErrorBody
	if resp.StatusCode >= 300 && json.NewDecoder(resp.Body).Decode(&e) == nil {
		return resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	return resp.StatusCode, nil
}

// stream posts a subscription to the leading master and returns its
// response, whose body is the event stream.
func (c conn) stream(ctx context.Context, path string, body any) (*http.Response, error) {
	r, err := masters.JSON(path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.ms.Do(ctx, c.hc, r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("subscribe: %s", resp.Status)
	}
	return resp, nil
}

// Backoff before a stream is opened again: from the first, doubling up
// to the last.
const (
	firstRetry = 50 * time.Millisecond
	lastRetry  = 2 * time.Second
)

// resubscribe runs subscribe until ctx ends: again, after a backoff,
// whenever its stream ends (its master died or stepped down) once the
// first subscription was taken. ready gets nil when it is (subscribe
// calls ok), or the error that ended the first attempt before.
func resubscribe(ctx context.Context, ready chan<- error, subscribe func(ok func()) error) {
	first, wait := true, firstRetry
	ok := func() {
		wait = firstRetry
		if first {
			first = false
			ready <- nil
		}
	}
	for ctx.Err() == nil {
		err := subscribe(ok)
		if first {
			if err == nil {
				err = errors.New("the stream ended before the subscription was taken")
			}
			ready <- err
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, lastRetry)
	}
}
