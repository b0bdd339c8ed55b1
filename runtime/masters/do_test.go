package masters

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// quick retries: the tests count attempts, never time them.
var quick = Options{Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}

func list(t *testing.T, opts Options, ms ...*fakeMaster) *List {
	t.Helper()
	urls := make([]string, len(ms))
	for i, m := range ms {
		urls[i] = m.srv.URL
	}
	l, err := New(strings.Join(urls, ","), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func dead(t *testing.T) *fakeMaster {
	m := newFake(t, leader, false)
	m.srv.Close()
	return m
}

// post sends a scheduler call and checks it reached want, the leader.
func post(t *testing.T, l *List, want *fakeMaster) {
	t.Helper()
	r, err := JSON("/api/v1/scheduler?x=1", api.Call{Type: api.CallDecline})
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set(api.StreamIDHeader, "stream-7")
	resp, err := l.Do(context.Background(), http.DefaultClient, r)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Master") != want.srv.URL {
		t.Fatalf("answered %s by %q (%s), want 200 by the leader %s", resp.Status, resp.Header.Get("X-Master"), body, want.srv.URL)
	}
	calls := want.answered()
	got := calls[len(calls)-1]
	if wantCall := (call{Method: "POST", URI: "/api/v1/scheduler?x=1", Body: string(r.Body), ContentType: "application/json", StreamID: "stream-7"}); got != wantCall {
		t.Fatalf("the leader got %+v, want %+v", got, wantCall)
	}
	if l.URL() != want.srv.URL {
		t.Fatalf("current master %s after the call, want the leader %s", l.URL(), want.srv.URL)
	}
}

// A call reaches the leader whatever master comes first, and the next one
// goes there directly.
func TestReachesTheLeaderFromAnyOrder(t *testing.T) {
	for _, order := range permutations([]string{"dead", reset, standby, none, leader}) {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			lead := newFake(t, leader, false)
			var ms []*fakeMaster
			for _, role := range order {
				switch role {
				case leader:
					ms = append(ms, lead)
				case "dead":
					ms = append(ms, nil) // made last: a live fake made after it could take its port
				default:
					m := newFake(t, role, false)
					m.set(role, lead.srv.URL)
					ms = append(ms, m)
				}
			}
			for i := range ms {
				if ms[i] == nil {
					ms[i] = dead(t)
				}
			}
			l := list(t, quick, ms...)
			post(t, l, lead)
			before := requests(ms)
			post(t, l, lead)
			if after := requests(ms); after != before+1 {
				t.Errorf("the second call made %d requests, want 1, straight to the leader", after-before)
			}
		})
	}
}

func requests(ms []*fakeMaster) int {
	n := 0
	for _, m := range ms {
		n += m.requests()
	}
	return n
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{s}
	}
	var out [][]string
	for i := range s {
		rest := append(append([]string(nil), s[:i]...), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

// The leader moves: the old one sends calls on to the new one, then dies,
// and the next master in the list leads the way back.
func TestFollowsTheLeaderAsItMoves(t *testing.T) {
	a, b, c := newFake(t, leader, false), newFake(t, standby, false), newFake(t, standby, false)
	b.set(standby, a.srv.URL)
	c.set(standby, a.srv.URL)
	l := list(t, quick, a, b, c)
	post(t, l, a)

	a.set(standby, b.srv.URL)
	b.set(leader, "")
	c.set(standby, b.srv.URL)
	post(t, l, b)

	b.srv.Close()
	c.set(standby, a.srv.URL)
	a.set(leader, "")
	post(t, l, a) // b refuses; c, after it, leads to a
	if n := c.requests(); n != 1 {
		t.Errorf("c had %d requests, want 1: the one after b died", n)
	}
}

// A leader none of the list names (a standby sent the client there) is
// current until it fails, then the list is gone through from its start.
func TestLeaderOutsideTheList(t *testing.T) {
	out, s := newFake(t, leader, false), newFake(t, standby, false)
	s.set(standby, out.srv.URL)
	l := list(t, quick, s)
	post(t, l, out)
	out.srv.Close()
	if _, err := l.Do(context.Background(), http.DefaultClient, Request{Path: "/state"}); err == nil {
		t.Fatal("a dead leader and a list of one: want the error")
	}
	if l.URL() != s.srv.URL {
		t.Errorf("after the leader died: current %s, want the list's %s", l.URL(), s.srv.URL)
	}
}

// A SUBSCRIBE's stream is established through a standby's 307, over
// HTTP/1.1 and over unencrypted HTTP/2 (the load generator's).
func TestStreamThroughARedirect(t *testing.T) {
	for _, h2c := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2c"}[h2c], func(t *testing.T) {
			lead, s := newFake(t, leader, h2c), newFake(t, standby, h2c)
			s.set(standby, lead.srv.URL)
			hc := &http.Client{}
			if h2c {
				tr := &http.Transport{Protocols: new(http.Protocols)}
				tr.Protocols.SetUnencryptedHTTP2(true)
				hc.Transport = tr
			}
			r, _ := JSON("/stream", api.Call{Type: api.CallSubscribe, Subscribe: &api.Subscribe{FrameworkInfo: api.FrameworkInfo{Name: "f"}}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			resp, err := list(t, quick, dead(t), s).Do(ctx, hc, r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if h2c && resp.ProtoMajor != 2 {
				t.Errorf("answered over %s, want HTTP/2", resp.Proto)
			}
			rr := api.NewRecordReader(resp.Body)
			var types []string
			for range 3 {
				var e api.Event
				if err := rr.Decode(&e); err != nil {
					t.Fatalf("after %v: %v", types, err)
				}
				types = append(types, e.Type)
			}
			if strings.Join(types, " ") != "SUBSCRIBED HEARTBEAT HEARTBEAT" {
				t.Errorf("events %v", types)
			}
			if calls := lead.answered(); len(calls) != 1 || calls[0].Body != string(r.Body) {
				t.Errorf("the leader got %+v, want the SUBSCRIBE's body %s", calls, r.Body)
			}
		})
	}
}

// With no master answering as the leader, a call makes its rounds and
// returns the last answer; with one master, it is made once.
func TestGivesUpAfterItsRounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		roles    []string
		opts     Options
		attempts int
		status   int // 0: an error
	}{
		{"three without a leader", []string{none, none, none}, Options{Rounds: 4, Backoff: time.Millisecond}, 12, 503},
		{"one without a leader", []string{none}, Options{Backoff: time.Millisecond}, 1, 503},
		{"two resetting", []string{reset, reset}, Options{Rounds: 3, Backoff: time.Millisecond}, 6, 0},
		{"one resetting", []string{reset}, Options{}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms []*fakeMaster
			for _, role := range tc.roles {
				ms = append(ms, newFake(t, role, false))
			}
			resp, err := list(t, tc.opts, ms...).Do(context.Background(), http.DefaultClient, Request{Path: "/state"})
			if n := requests(ms); n != tc.attempts {
				t.Errorf("%d requests, want %d", n, tc.attempts)
			}
			if tc.status == 0 {
				if err == nil {
					t.Fatalf("answered %s, want an error", resp.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), "no leader") {
				t.Errorf("answered %s %s, want %d with its body", resp.Status, body, tc.status)
			}
		})
	}
}

// Only a 503 for want of a leader is passed on to the next master: any
// other answer is the caller's.
func TestOtherAnswersAreTheCallers(t *testing.T) {
	busy := newFake(t, leader, false)
	busy.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"too many connections"}`, http.StatusServiceUnavailable)
	})
	other := newFake(t, leader, false)
	resp, err := list(t, quick, busy, other).Do(context.Background(), http.DefaultClient, Request{Path: "/state"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too many") || other.requests() != 0 {
		t.Errorf("answered %s %s, %d requests to the next; want the 503 of the first", resp.Status, body, other.requests())
	}
}

func TestStopsWhenTheCallerGivesUp(t *testing.T) {
	ms := []*fakeMaster{newFake(t, none, false), newFake(t, none, false)}
	l := list(t, Options{Rounds: 1000, Backoff: time.Hour}, ms...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := l.Do(ctx, http.DefaultClient, Request{Path: "/state"})
		done <- err
	}()
	for requests(ms) < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want context.Canceled", err)
	}
}

// A failure seen late does not undo what a later call learned: the
// client stays with the leader.
func TestALateFailureKeepsTheLeader(t *testing.T) {
	l, err := New("a:1,b:1,c:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.failed("http://a:1")
	l.led("http://c:1")
	l.failed("http://a:1") // a call that started before, at a
	if l.URL() != "http://c:1" {
		t.Errorf("current %s, want the leader http://c:1", l.URL())
	}
	l.failed("http://c:1")
	if l.URL() != "http://a:1" {
		t.Errorf("after the last master failed: current %s, want the first, http://a:1", l.URL())
	}
}

// Calls failing at once on a dead master all find the leader, and the
// client is left with it.
func TestConcurrentCallsFindTheLeader(t *testing.T) {
	lead, s := newFake(t, leader, false), newFake(t, standby, false)
	s.set(standby, lead.srv.URL)
	l := list(t, quick, dead(t), s, lead)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, err := l.Do(context.Background(), http.DefaultClient, Request{Path: "/state"})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if len(lead.answered()) != 50 || l.URL() != lead.srv.URL {
		t.Errorf("%d calls reached the leader, current %s; want 50 and the leader", len(lead.answered()), l.URL())
	}
}

func TestGetJSON(t *testing.T) {
	lead, s := newFake(t, leader, false), newFake(t, standby, false)
	s.set(standby, lead.srv.URL)
	var got struct{ Answered string }
	if err := list(t, quick, s).GetJSON(context.Background(), http.DefaultClient, "/state", &got); err != nil || got.Answered != "yes" {
		t.Errorf("GetJSON = %+v, %v", got, err)
	}
	err := list(t, quick, newFake(t, none, false)).GetJSON(context.Background(), http.DefaultClient, "/state", &got)
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable: no leader is elected yet") {
		t.Errorf("GetJSON of a master without a leader: %v, want its 503 and why", err)
	}
}

func TestDiscover(t *testing.T) {
	lead := newFake(t, leader, false)
	s, relative := newFake(t, standby, false), newFake(t, standby, false)
	s.set(standby, lead.srv.URL)
	relative.set(standby, "//"+lead.srv.Listener.Addr().String()) // as Mesos' masters answer
	for _, first := range []*fakeMaster{lead, s, relative} {
		noLeader := newFake(t, none, false)
		l := list(t, quick, dead(t), noLeader, first) // the dead one made last: no fake takes its port
		got, err := l.Discover(context.Background(), http.DefaultClient)
		if err != nil || got != lead.srv.URL || l.URL() != lead.srv.URL {
			t.Errorf("Discover = %q, %v (current %s), want %s", got, err, l.URL(), lead.srv.URL)
		}
	}
	old := newFake(t, leader, false)
	old.srv.Config.Handler = http.NotFoundHandler() // a master without the endpoint
	if _, err := list(t, quick, old).Discover(context.Background(), http.DefaultClient); err == nil || !strings.Contains(err.Error(), "404 Not Found; want 307 to the leader") {
		t.Errorf("Discover of a master without /master/redirect: %v", err)
	}
}
