package masters

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/apronlab/apron/runtime/auth"
)

// Options tune how a List retries a call.
type Options struct {
	// Rounds is how many times one call may go round the list before it
	// gives up; default DefaultRounds, and 1 for a list of one master,
	// which is called once, as a lone master always was.
	Rounds int
	// Backoff is the wait after a round in which no master answered as the
	// leader; it doubles after every such round, up to MaxBackoff.
	// Defaults: 100ms and 1s.
	Backoff, MaxBackoff time.Duration
	// Credential is who the client is: the clients of Client and
	// StreamClient send it with every call and verify the masters with
	// its CA, and with a CA a master given as host:port is https. Nil:
	// no credential, and host:port is http.
	Credential *auth.Client
}

// DefaultRounds is Options.Rounds' default for two masters or more: with
// the default backoff, a call waits 4.5s in all for a leader to be
// elected before it returns what the masters answered.
const DefaultRounds = 8

// List is a cluster's masters and the one its client talks to.
type List struct {
	masters []string // base URLs, in the order given
	opts    Options

	mu      sync.Mutex
	current string // a base URL: one of masters, or a leader one of them led to
}

// Parse reads a comma-separated list of masters, each host:port or an
// http(s) URL, with the default Options.
func Parse(s string) (*List, error) { return New(s, Options{}) }

// WithCredential reads a list of masters as Parse does, whose calls carry
// cred (nil: none).
func WithCredential(s string, cred *auth.Client) (*List, error) {
	return New(s, Options{Credential: cred})
}

// New reads a comma-separated list of masters, each host:port or an
// http(s) URL, and checks opts.
func New(s string, opts Options) (*List, error) {
	ms, err := parseList(s, opts.Credential.Scheme())
	if err != nil {
		return nil, err
	}
	if opts.Rounds < 0 || opts.Backoff < 0 || opts.MaxBackoff < 0 {
		return nil, fmt.Errorf("masters: rounds %d, backoff %v and max backoff %v: none may be negative (0: the default)", opts.Rounds, opts.Backoff, opts.MaxBackoff)
	}
	if opts.Rounds == 0 {
		opts.Rounds = DefaultRounds
		if len(ms) == 1 {
			opts.Rounds = 1
		}
	}
	if opts.Backoff == 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = max(time.Second, opts.Backoff)
	}
	return &List{masters: ms, opts: opts, current: ms[0]}, nil
}

// syntax is what a list may hold, for errors.
const syntax = "want host:port or an http(s) URL, several separated by commas"

func parseList(s, scheme string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("masters: none given; %s", syntax)
	}
	entries := strings.Split(s, ",")
	out := make([]string, 0, len(entries))
	for i, e := range entries {
		u, err := parseURL(strings.TrimSpace(e), scheme)
		if err != nil {
			return nil, fmt.Errorf("masters: entry %d of %d (%q): %w; %s", i+1, len(entries), e, err, syntax)
		}
		for j, seen := range out {
			if seen == u {
				return nil, fmt.Errorf("masters: entry %d of %d (%q) is entry %d again; each master once", i+1, len(entries), e, j+1)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// parseURL makes a master's base URL of host:port (with scheme) or a URL.
func parseURL(e, scheme string) (string, error) {
	if e == "" {
		return "", errors.New("empty")
	}
	if !strings.Contains(e, "://") {
		e = scheme + "://" + e
	}
	u, err := url.Parse(e)
	switch {
	case err != nil:
		return "", err
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("scheme %q: http or https", u.Scheme)
	case u.Hostname() == "":
		return "", errors.New("no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", errors.New("a base URL has no user, query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Masters are the base URLs given, in order.
func (l *List) Masters() []string { return append([]string(nil), l.masters...) }

// String is the list as given, normalised: base URLs, comma-separated.
func (l *List) String() string { return strings.Join(l.masters, ",") }

// URL is the base URL of the master calls go to now: the first given, or
// the leader a master led to, or the next after one that failed.
func (l *List) URL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// failed moves on from base, unless another call already did: to the
// master after it in the list, or the first when it is not in it (a
// leader a master led to).
func (l *List) failed(base string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.current != base {
		return
	}
	l.current = l.masters[0]
	for i, m := range l.masters {
		if m == base {
			l.current = l.masters[(i+1)%len(l.masters)]
		}
	}
}

// led makes leader the current master.
func (l *List) led(leader string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.current = leader
}
