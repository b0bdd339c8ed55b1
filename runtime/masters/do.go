package masters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// Request is a call to the leading master.
type Request struct {
	Method string // default: GET, or POST when there is a body
	Path   string // with its query, e.g. /api/v1/scheduler
	Body   []byte
	Header http.Header
}

// JSON is a POST of v as JSON to path.
func JSON(path string, v any) (Request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Request{}, err
	}
	return Request{Method: http.MethodPost, Path: path, Body: body, Header: http.Header{"Content-Type": {"application/json"}}}, nil
}

// Do sends r to the current master with hc and returns the first answer
// that is not a failure to reach a master or a 503 saying it knows no
// leader; after each failure it tries the next master, waiting the
// backoff after each round of the list, for the rounds of its Options.
// Out of rounds, it returns the last answer (a 503) or error. A 307 from a
// standby is followed by hc, and the master it led to becomes the current
// one. The caller closes the response's body; a stream's events are read
// from it.
func (l *List) Do(ctx context.Context, hc *http.Client, r Request) (*http.Response, error) {
	attempts := len(l.masters) * l.opts.Rounds
	wait := l.opts.Backoff
	for attempt := 1; ; attempt++ {
		base := l.URL()
		resp, err := send(ctx, hc, base, r)
		if err != nil && ctx.Err() != nil {
			return nil, err // the caller gave up, not the master
		}
		if err == nil && !noLeader(resp) {
			if leader, moved := leaderOf(base, resp.Request, r.Path); moved {
				l.led(leader)
			}
			return resp, nil
		}
		l.failed(base)
		if attempt == attempts {
			return resp, err
		}
		if resp != nil {
			resp.Body.Close()
		}
		if attempt%len(l.masters) == 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
			wait = min(2*wait, l.opts.MaxBackoff)
		}
	}
}

// send sends r to one master. The body is a bytes.Reader, so hc can send
// it again when it follows a 307.
func send(ctx context.Context, hc *http.Client, base string, r Request) (*http.Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
		if r.Body != nil {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+r.Path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	return hc.Do(req)
}

// noLeader reports whether resp is a master's 503 for want of a leader.
// It reads the body of a 503 and puts it back, for the caller.
func noLeader(resp *http.Response) bool {
	if resp.StatusCode != http.StatusServiceUnavailable {
		return false
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	var e api.ErrorBody
	return json.Unmarshal(data, &e) == nil && strings.Contains(strings.ToLower(e.Error), "no leader")
}

// leaderOf is the base URL of the master that answered final, the last
// request of a call of path to base: true when it is not base, that is,
// a 307 led there.
func leaderOf(base string, final *http.Request, path string) (string, bool) {
	if final == nil {
		return "", false
	}
	p, _, _ := strings.Cut(path, "?")
	u := *final.URL
	u.RawQuery, u.Fragment = "", ""
	s := u.String()
	if !strings.HasSuffix(s, p) || strings.TrimSuffix(s, p) == base {
		return "", false
	}
	return strings.TrimSuffix(s, p), true
}

// GetJSON reads path from the leading master into v; any answer but 200
// is an error that says what the master answered.
func (l *List) GetJSON(ctx context.Context, hc *http.Client, path string, v any) error {
	resp, err := l.Do(ctx, hc, Request{Path: path})
	if err != nil {
		return fmt.Errorf("master %s: %w", l, err)
	}
	defer resp.Body.Close()
	where := resp.Request.URL.String()
	if resp.StatusCode != http.StatusOK {
		var e api.ErrorBody
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		return fmt.Errorf("master %s: %s: %s", where, resp.Status, e.Error)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("master %s: %w", where, err)
	}
	return nil
}

// Discover asks the masters, from the current one on, where the leader is
// (GET /master/redirect, which Mesos' masters answer with a 307 to the
// leader), makes it the current master and returns its base URL.
func (l *List) Discover(ctx context.Context, hc *http.Client) (string, error) {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := l.Do(ctx, &c, Request{Path: "/master/redirect"})
	if err != nil {
		return "", fmt.Errorf("master %s: discovering the leader: %w", l, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	where := resp.Request.URL.String()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		return "", fmt.Errorf("master %s: %s; want 307 to the leader", where, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("master %s: 307 with %w", where, err)
	}
	leader, err := parseURL(loc.String(), l.opts.Credential.Scheme())
	if err != nil {
		return "", fmt.Errorf("master %s: 307 to %q: %w", where, loc, err)
	}
	l.led(leader)
	return leader, nil
}

// HeaderTimeout bounds the wait for a master's answer to a call whose body
// is an event stream (StreamClient's): a master that takes connections
// but does not answer (stopped, or cut off from its peers) is left for the
// next.
const HeaderTimeout = 5 * time.Second

// StreamClient is an HTTP client for event streams, with the list's
// credential: no overall timeout, since a stream lasts, but a master has
// HeaderTimeout to answer.
func (l *List) StreamClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = HeaderTimeout
	return &http.Client{Transport: l.opts.Credential.Transport(t)}
}

// Client is an HTTP client with the list's credential whose calls take
// timeout at most (0: no limit).
func (l *List) Client(timeout time.Duration) *http.Client {
	return l.ClientWith(http.DefaultTransport.(*http.Transport), timeout)
}

// ClientWith is Client on base, a transport of the caller's (cloned when
// there is a credential).
func (l *List) ClientWith(base *http.Transport, timeout time.Duration) *http.Client {
	return &http.Client{Transport: l.opts.Credential.Transport(base), Timeout: timeout}
}

// Credential is the list's credential (nil: none).
func (l *List) Credential() *auth.Client { return l.opts.Credential }
