package masters

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"127.0.0.1:5050", []string{"http://127.0.0.1:5050"}},
		{"http://127.0.0.1:5050/", []string{"http://127.0.0.1:5050"}},
		{"00//", []string{"http://00"}}, // found by FuzzParse: every trailing slash goes
		{"https://master.example:443", []string{"https://master.example:443"}},
		{"localhost:5050", []string{"http://localhost:5050"}},
		{"http://10.0.0.1:5050/mesos", []string{"http://10.0.0.1:5050/mesos"}},
		{"[::1]:5050", []string{"http://[::1]:5050"}},
		{"a:5050,b:5051, http://c:5052 ", []string{"http://a:5050", "http://b:5051", "http://c:5052"}},
		{"b:1,a:1", []string{"http://b:1", "http://a:1"}}, // the order given
	} {
		l, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(l.Masters(), tc.want) || l.URL() != tc.want[0] || l.String() != strings.Join(tc.want, ",") {
			t.Errorf("Parse(%q) = %v (current %s, %s), want %v", tc.in, l.Masters(), l.URL(), l, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "none given"},
		{"  ", "none given"},
		{"a:1,,b:2", `entry 2 of 3 (""): empty`},
		{"a:1,", `entry 2 of 2 (""): empty`},
		{"ftp://a:1", `scheme "ftp": http or https`},
		{"http://:5050", "no host"},
		{"http://a:1/?x=1", "no user, query or fragment"},
		{"http://u:p@a:1", "no user, query or fragment"},
		{"a:port", "entry 1 of 1"},
		{"a:1,http://a:1/", "entry 2 of 2 (\"http://a:1/\") is entry 1 again"},
	} {
		_, err := Parse(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestNewOptions(t *testing.T) {
	for _, tc := range []struct {
		in         string
		opts       Options
		wantRounds int
	}{
		{"a:1", Options{}, 1},
		{"a:1,b:1", Options{}, DefaultRounds},
		{"a:1", Options{Rounds: 3}, 3},
	} {
		l, err := New(tc.in, tc.opts)
		if err != nil || l.opts.Rounds != tc.wantRounds || l.opts.Backoff != 100*time.Millisecond || l.opts.MaxBackoff != time.Second {
			t.Errorf("New(%q, %+v) = %+v, %v; want %d rounds, 100ms to 1s", tc.in, tc.opts, l.opts, err, tc.wantRounds)
		}
	}
	if _, err := New("a:1", Options{Backoff: -time.Second}); err == nil || !strings.Contains(err.Error(), "none may be negative") {
		t.Errorf("a negative backoff: %v, want an error", err)
	}
}

// FuzzParse: a list that parses prints as one that parses to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"127.0.0.1:5050", "127.0.0.1:5050,127.0.0.1:5051,127.0.0.1:5052", "http://m1:5050/, https://m2:5050",
		"http://10.0.0.1:5050/mesos", "[::1]:5050", "a:1,,b", "ftp://x", "http://u@h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(l.String())
		if err != nil || !slices.Equal(again.Masters(), l.Masters()) {
			t.Fatalf("Parse(%q) = %v; Parse of its String %q = %v, %v", s, l.Masters(), l, again, err)
		}
	})
}
