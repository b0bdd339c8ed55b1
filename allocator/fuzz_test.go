package allocator_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
)

// FuzzParseResources checks that ParseResources never panics, that whatever it
// accepts prints back to text it accepts again (with the same value and the
// same canonical text), and that whatever it rejects is a *ParseError naming
// the offending token by its text and 1-based position.
func FuzzParseResources(f *testing.F) {
	for _, s := range []string{
		"cpus:24;mem:4096;disk:4096", // Mesos allocator benchmark agent
		"cpus:16;mem:2014;disk:1024",
		"cpus(analytics):4;mem(analytics):1024",
		"cpus:0.01",
		"cpus:2;mem:1024;gpus:1",
		"cpus(*):1;cpus:1",
		"cpus(eng/ml):1.5; mem : 2 ;",
		" ; cpus:1 ;; cpus:2 ;",
		"gpus:100000000000",
		"cpus:0.001;mem:0",
		"ports:[31000-32000]",
		"ports(*):[31000-32000];cpus:1",
		"disks:{a,b}",
		"cpus(:1",
		"cpus(eng:1",
		"cpus(a/../b):1",
		"cpus:-1",
		"cpus:NaN",
		"cpus:1e3",
		"cpus:0.0001",
		"cpus",
		":",
		"",
		"\x00;\xff:(",
		"cpus:1;mem:2:3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := allocator.ParseResources(s)
		if err != nil {
			checkParseError(t, s, err)
			return
		}
		seen := map[allocator.Resource]bool{}
		for _, e := range r {
			if e.Value <= 0 {
				t.Fatalf("ParseResources(%q) = %v: entry %+v is not positive; want no zero or negative entries", s, r, e)
			}
			key := allocator.Resource{Name: e.Name, Role: e.Role}
			if seen[key] {
				t.Fatalf("ParseResources(%q) = %v: (%s, %q) appears twice; want one entry per (name, role)", s, r, e.Name, e.Role)
			}
			seen[key] = true
		}
		text := r.String()
		back, err := allocator.ParseResources(text)
		if err != nil {
			t.Fatalf("ParseResources(%q) = %v, but ParseResources(%q) fails: %v; want the printed form to parse", s, r, text, err)
		}
		if !back.Equal(r) || back.String() != text {
			t.Fatalf("ParseResources(%q) = %v; reparsing %q gives %v; want the same value and text", s, r, text, back)
		}
	})
}

// checkParseError checks that err, from ParseResources(s), is a *ParseError
// that names the trimmed Index-th ';'-separated field of s.
func checkParseError(t *testing.T, s string, err error) {
	t.Helper()
	var pe *allocator.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("ParseResources(%q) error %v (%T); want a *allocator.ParseError", s, err, err)
	}
	if pe.Input != s {
		t.Fatalf("ParseResources(%q): ParseError.Input = %q; want the input", s, pe.Input)
	}
	if pe.Token == "" || !strings.Contains(s, pe.Token) {
		t.Fatalf("ParseResources(%q): ParseError.Token = %q; want a non-empty token of the input", s, pe.Token)
	}
	fields := strings.Split(s, ";")
	if pe.Index < 1 || pe.Index > len(fields) {
		t.Fatalf("ParseResources(%q): ParseError.Index = %d; want 1..%d", s, pe.Index, len(fields))
	}
	if want := strings.TrimSpace(fields[pe.Index-1]); pe.Token != want {
		t.Fatalf("ParseResources(%q): ParseError token %d = %q; want field %d, %q", s, pe.Index, pe.Token, pe.Index, want)
	}
	if pe.Err == nil || errors.Unwrap(err) != pe.Err {
		t.Fatalf("ParseResources(%q): ParseError.Err = %v; want the cause, reachable by errors.Unwrap", s, pe.Err)
	}
}

// FuzzParseQuantity checks ParseQuantity against its contract and against
// strconv.ParseFloat: what it accepts is a plain decimal in 0..MaxUnits with
// at most three decimal places, equal to QuantityOf of the float it spells,
// and printing it gives text that parses back to the same quantity.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{
		"2", "0.5", "0.001", "0.01", "1024", "4096", "007", "1.250",
		"100000000000", "99999999999.999", "100000000001", "999999999999",
		"", "-1", "+1", "1e3", "NaN", "Inf", "0x10", "0.0001", ".5", "5.", "1,5", "1.2.3", " 1",
	} {
		f.Add(s)
	}
	limit := allocator.Units(allocator.MaxUnits)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := allocator.ParseQuantity(s)
		if err != nil {
			if s != "" && !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("ParseQuantity(%q) error %q; want it to quote the input", s, err)
			}
			return
		}
		if q < 0 || q > limit {
			t.Fatalf("ParseQuantity(%q) = %d milli; want 0..%d", s, int64(q), int64(limit))
		}
		if back, err := allocator.ParseQuantity(q.String()); err != nil || back != q {
			t.Fatalf("ParseQuantity(%q) = %v; ParseQuantity(%q) = %v, %v; want %v, nil", s, q, q.String(), back, err, q)
		}
		fl, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("ParseQuantity(%q) = %v, but strconv.ParseFloat rejects it: %v", s, q, err)
		}
		if fq, err := allocator.QuantityOf(fl); err != nil || fq != q {
			t.Fatalf("ParseQuantity(%q) = %v; QuantityOf(%v) = %v, %v; want the same quantity", s, q, fl, fq, err)
		}
	})
}
