package allocator_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator"
	"pgregory.net/rapid"
)

// res parses a resource text that the test knows to be valid.
func res(t testing.TB, s string) allocator.Resources {
	t.Helper()
	r, err := allocator.ParseResources(s)
	if err != nil {
		t.Fatalf("ParseResources(%q): %v", s, err)
	}
	return r
}

func TestParseQuantity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want allocator.Quantity // milli-units
		text string             // canonical String
	}{
		{"0", 0, "0"},
		{"2", 2000, "2"},
		{"0.5", 500, "0.5"},
		{"0.001", 1, "0.001"},
		{"0.01", 10, "0.01"},
		{"1.250", 1250, "1.25"},
		{"007", 7000, "7"},
		{"1024", 1024000, "1024"},
		{"99999999999.999", 99999999999999, "99999999999.999"},
		{"100000000000", 100000000000000, "100000000000"},
	} {
		got, err := allocator.ParseQuantity(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseQuantity(%q) = %d, %v; want %d, nil", tc.in, int64(got), err, int64(tc.want))
			continue
		}
		if s := got.String(); s != tc.text {
			t.Errorf("ParseQuantity(%q).String() = %q; want %q", tc.in, s, tc.text)
		}
	}
}

func TestParseQuantityErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty quantity; want a decimal number"},
		{"-1", "is negative; quantities are 0 or more"},
		{"-0.5", "is negative"},
		{"+1", "not a decimal number such as 2 or 0.5"},
		{"1e3", "not a decimal number"}, {"NaN", "not a decimal number"}, {"Inf", "not a decimal number"},
		{"0x10", "not a decimal number"}, {".5", "not a decimal number"}, {"5.", "not a decimal number"},
		{"1,5", "not a decimal number"}, {"1.2.3", "not a decimal number"}, {" 1", "not a decimal number"},
		{"0.0001", "more than 3 decimal places; the resolution is 0.001"},
		{"100000000001", "larger than the maximum 100000000000"},
		{"1000000000000", "larger than the maximum"},
		{"99999999999999999999", "larger than the maximum"},
		// MaxUnits is "the largest quantity that the text form accepts".
		{"100000000000.001", "larger than the maximum"},
	} {
		got, err := allocator.ParseQuantity(tc.in)
		if err == nil {
			t.Errorf("ParseQuantity(%q) = %v, nil; want an error containing %q", tc.in, got, tc.want)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseQuantity(%q) error %q; want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestQuantityString(t *testing.T) {
	for _, tc := range []struct {
		q    allocator.Quantity
		want string
	}{
		{0, "0"}, {1, "0.001"}, {10, "0.01"}, {100, "0.1"}, {999, "0.999"},
		{1000, "1"}, {1500, "1.5"}, {1010, "1.01"}, {-500, "-0.5"}, {-2000, "-2"},
		{allocator.Units(3), "3"},
	} {
		if got := tc.q.String(); got != tc.want {
			t.Errorf("Quantity(%d).String() = %q; want %q", int64(tc.q), got, tc.want)
		}
	}
	if got := allocator.Quantity(2500).Float(); got != 2.5 {
		t.Errorf("Quantity(2500).Float() = %v; want 2.5", got)
	}
}

func TestQuantityOf(t *testing.T) {
	for _, tc := range []struct {
		in      float64
		want    allocator.Quantity
		wantErr string
	}{
		{0, 0, ""}, {2, 2000, ""}, {0.1, 100, ""}, {0.001, 1, ""}, {1e11, 1e14, ""},
		{0.0004, 0, ""}, {0.0006, 1, ""}, {1.2346, 1235, ""}, // nearest milli
		{math.NaN(), 0, "not a finite number"},
		{math.Inf(1), 0, "not a finite number"},
		{math.Inf(-1), 0, "not a finite number"},
		{-1, 0, "is negative"},
		{-0.001, 0, "is negative"},
		{1e11 + 1, 0, "larger than the maximum"},
	} {
		got, err := allocator.QuantityOf(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("QuantityOf(%v) = %d, %v; want %d, nil", tc.in, int64(got), err, int64(tc.want))
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("QuantityOf(%v) = %d, %v; want an error containing %q", tc.in, int64(got), err, tc.wantErr)
		}
	}
}

func TestParseResources(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want allocator.Resources // exact entries in first-appearance order
	}{
		{"", nil},
		{" ; ;", nil},
		{"cpus:2;mem:1024;gpus:1", allocator.Resources{{Name: "cpus", Role: "", Value: 2000}, {Name: "mem", Role: "", Value: 1024000}, {Name: "gpus", Role: "", Value: 1000}}},
		{"  cpus : 2 ;\tmem:1024 ;", allocator.Resources{{Name: "cpus", Role: "", Value: 2000}, {Name: "mem", Role: "", Value: 1024000}}},
		{"cpus:1;mem:2;cpus:0.5", allocator.Resources{{Name: "cpus", Role: "", Value: 1500}, {Name: "mem", Role: "", Value: 2000}}},
		{"cpus(*):1;cpus:2", allocator.Resources{{Name: "cpus", Role: "", Value: 3000}}},
		{"cpus(analytics):4;cpus:1", allocator.Resources{{Name: "cpus", Role: "analytics", Value: 4000}, {Name: "cpus", Role: "", Value: 1000}}},
		{"cpus(eng/ml):0.25", allocator.Resources{{Name: "cpus", Role: "eng/ml", Value: 250}}},
		{"cpus:0;mem:1", allocator.Resources{{Name: "mem", Role: "", Value: 1000}}},
		{"custom_res-1.x:3", allocator.Resources{{Name: "custom_res-1.x", Value: 3000}}},
	} {
		got, err := allocator.ParseResources(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseResources(%q) = %+v, %v; want %+v, nil", tc.in, got, err, tc.want)
		}
	}
}

func TestParseResourcesErrors(t *testing.T) {
	for _, tc := range []struct {
		in    string
		token string
		index int
		want  string // in the cause
	}{
		{"cpus", "cpus", 1, "want name:value"},
		{"cpus:1;mem 2", "mem 2", 2, "want name:value"},
		{"cpus:1;:2", ":2", 2, "empty resource name"},
		{"1cpus:1", "1cpus:1", 1, "must start with a letter"},
		{"cp us:1", "cp us:1", 1, "may hold only letters"},
		{"cpus:1;;cpus():1", "cpus():1", 3, "empty role name"},
		{"cpus(a/../b):1", "cpus(a/../b):1", 1, "'..' segment"},
		{"cpus(a//b):1", "cpus(a//b):1", 1, "empty, '.' or '..' segment"},
		{"cpus(-a):1", "cpus(-a):1", 1, "starting with '-'"},
		{"cpus(a b):1", "cpus(a b):1", 1, "may hold only letters"},
		{"cpus(analytics:4", "cpus(analytics:4", 1, "no closing ')'"},
		{"cpus:1;ports:[31000-32000]", "ports:[31000-32000]", 2, "range or set"},
		{"disks:{a,b}", "disks:{a,b}", 1, "range or set"},
		{"cpus:-1", "cpus:-1", 1, "negative"},
		{"mem:1;cpus:NaN", "cpus:NaN", 2, "not a decimal number"},
		{"cpus:Inf", "cpus:Inf", 1, "not a decimal number"},
		{"cpus:0.0001", "cpus:0.0001", 1, "more than 3 decimal places"},
		{"cpus:", "cpus:", 1, "empty quantity"},
		{"cpus:1:2", "cpus:1:2", 1, "not a decimal number"},
	} {
		_, err := allocator.ParseResources(tc.in)
		var pe *allocator.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseResources(%q) error %v; want a *allocator.ParseError", tc.in, err)
			continue
		}
		if pe.Input != tc.in || pe.Token != tc.token || pe.Index != tc.index || !strings.Contains(pe.Err.Error(), tc.want) {
			t.Errorf("ParseResources(%q) = &ParseError{Input: %q, Token: %q, Index: %d, Err: %q}; want token %q, index %d, cause containing %q",
				tc.in, pe.Input, pe.Token, pe.Index, pe.Err, tc.token, tc.index, tc.want)
		}
		if msg := err.Error(); !strings.Contains(msg, tc.token) {
			t.Errorf("ParseResources(%q) error %q; want it to name the token %q", tc.in, msg, tc.token)
		}
	}
}

func TestMustParseResourcesPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustParseResources(%q) did not panic; want a panic", "cpus")
		}
	}()
	allocator.MustParseResources("cpus")
}

func TestResourcesRoundTrip(t *testing.T) {
	for _, s := range []string{
		"cpus:2;mem:1024;gpus:1", "cpus(analytics):4;mem:512", "cpus:0.001",
		"cpus(eng/ml):1.5;cpus:0.25;disk:4096", "gpus:100000000000", "",
	} {
		if got := res(t, s).String(); got != s {
			t.Errorf("ParseResources(%q).String() = %q; want %q", s, got, s)
		}
	}
	for _, s := range []string{" cpus : 2.50 ; mem:1;cpus:1", "cpus(*):1;cpus(a):0.100", "cpus:0;mem:7"} {
		r := res(t, s)
		if back := res(t, r.String()); !back.Equal(r) {
			t.Errorf("ParseResources(%q) = %v; reparsing its String gives %v; want equal", s, r, back)
		}
	}
}

// Sums of repeated tokens must stay within what the text form can print and
// read back: String promises that ParseResources(r.String()) equals r.
func TestParseResourcesSumWithinMax(t *testing.T) {
	s := "cpus:100000000000;cpus:1"
	r, err := allocator.ParseResources(s)
	if err != nil {
		return // rejecting the sum is fine
	}
	if back, err := allocator.ParseResources(r.String()); err != nil || !back.Equal(r) {
		t.Errorf("ParseResources(%q) = %v; ParseResources(%q) = %v, %v; want it accepted and equal, or the input rejected", s, r, r.String(), back, err)
	}
}

func TestResourcesArithmetic(t *testing.T) {
	a := res(t, "cpus:4;mem:4096;cpus(ml):2")
	b := res(t, "cpus:1.5;mem:1024;gpus:1")
	for _, tc := range []struct {
		name      string
		got, want allocator.Resources
	}{
		{"a.Add(b)", a.Add(b), res(t, "cpus:5.5;mem:5120;cpus(ml):2;gpus:1")},
		{"a.Add(nil)", a.Add(nil), a},
		{"nil.Add(a)", allocator.Resources(nil).Add(a), a},
		{"a.Sub(b)", a.Sub(b), res(t, "cpus:2.5;mem:3072;cpus(ml):2")},
		{"b.Sub(a) floors at zero", b.Sub(a), res(t, "gpus:1")},
		{"a.Sub(a)", a.Sub(a), nil},
		{"a.Sub(cpus(ml):2) drops the role only", a.Sub(res(t, "cpus(ml):2")), res(t, "cpus:4;mem:4096")},
		{"a.Flatten()", a.Flatten(), res(t, "cpus:6;mem:4096")},
		{"a.Unreserved()", a.Unreserved(), res(t, "cpus:4;mem:4096")},
		{"a.Reserved()", a.Reserved(), res(t, "cpus(ml):2")},
		{"b.Reserved()", b.Reserved(), nil},
		{"Unreserved drops zero entries", allocator.Resources{{Name: "cpus"}, {Name: "mem", Value: 1}}.Unreserved(), res(t, "mem:0.001")},
	} {
		if !tc.got.Equal(tc.want) || len(tc.got) != len(tc.want) {
			t.Errorf("%s = %v; want %v", tc.name, tc.got, tc.want)
		}
	}
	if a.String() != "cpus:4;mem:4096;cpus(ml):2" || b.String() != "cpus:1.5;mem:1024;gpus:1" {
		t.Errorf("operands changed to %v and %v; want them untouched", a, b)
	}
}

func TestResourcesContainsEqual(t *testing.T) {
	a := res(t, "cpus:4;mem:4096;cpus(ml):2")
	for _, tc := range []struct {
		o               string
		contains, equal bool
	}{
		{"", true, false},
		{"cpus:4", true, false}, {"cpus:2;cpus(ml):2", true, false},
		{"cpus:4.001", false, false}, {"cpus(ml):3", false, false},
		{"cpus(other):1", false, false}, {"gpus:0.001", false, false},
		{"cpus(ml):2;mem:4096;cpus:4", true, true},
		{"mem:4096;cpus:1;cpus(ml):2;cpus:3;gpus:0", true, true},
	} {
		o := res(t, tc.o)
		if got := a.Contains(o); got != tc.contains {
			t.Errorf("(%v).Contains(%v) = %v; want %v", a, o, got, tc.contains)
		}
		if got, got2 := a.Equal(o), o.Equal(a); got != tc.equal || got2 != tc.equal {
			t.Errorf("(%v).Equal(%v) = %v, reversed %v; want %v", a, o, got, got2, tc.equal)
		}
	}
	if !allocator.Resources(nil).Equal(allocator.Resources{{Name: "cpus", Value: 0}}) {
		t.Errorf("nil.Equal(cpus:0) = false; want true")
	}
}

func TestResourcesGetSumNames(t *testing.T) {
	r := res(t, "mem:1024;cpus:4;cpus(ml):2;cpus(eng/ml):0.5;gpus(ml):1")
	for _, tc := range []struct {
		what      string
		got, want allocator.Quantity
	}{
		{`Get("cpus", "")`, r.Get("cpus", ""), 4000},
		{`Get("cpus", "ml")`, r.Get("cpus", "ml"), 2000},
		{`Get("cpus", "eng")`, r.Get("cpus", "eng"), 0},
		{`Get("gpus", "")`, r.Get("gpus", ""), 0},
		{`Get("disk", "")`, r.Get("disk", ""), 0},
		{`Sum("cpus")`, r.Sum("cpus"), 6500},
		{`Sum("gpus")`, r.Sum("gpus"), 1000},
		{`Sum("disk")`, r.Sum("disk"), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("(%v).%s = %v; want %v", r, tc.what, tc.got, tc.want)
		}
	}
	if got, want := r.Names(), []string{"cpus", "gpus", "mem"}; !slices.Equal(got, want) {
		t.Errorf("(%v).Names() = %q; want %q", r, got, want)
	}
	if got := allocator.Resources(nil).Names(); len(got) != 0 {
		t.Errorf("nil.Names() = %q; want none", got)
	}
	if r.IsEmpty() || !allocator.Resources(nil).IsEmpty() || !(allocator.Resources{{Name: "cpus"}}).IsEmpty() {
		t.Errorf("IsEmpty: want false for %v, true for nil and for cpus:0", r)
	}
}

func TestDominantShare(t *testing.T) {
	total := res(t, "cpus:9;mem:18432")
	for _, tc := range []struct {
		r     string
		total allocator.Resources
		want  float64
	}{
		{"cpus:3;mem:12288", total, 2.0 / 3}, // DRF paper, user B: <3 CPU, 12 GB>
		{"cpus:1;mem:4096", total, 2.0 / 9},  // DRF paper, user A: <1 CPU, 4 GB>
		{"cpus:6;mem:2048", total, 2.0 / 3},
		{"cpus(ml):3;cpus:1.5", total, 0.5},
		{"gpus:1", total, 0},
		{"", total, 0},
		{"cpus:9", nil, 0},
		{"cpus:1", res(t, "cpus(ml):2;cpus:2"), 0.25},
	} {
		r := res(t, tc.r)
		if got := r.DominantShare(tc.total); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("(%v).DominantShare(%v) = %v; want %v", r, tc.total, got, tc.want)
		}
	}
}

func TestResourcesNoDrift(t *testing.T) {
	start := res(t, "cpus:4;mem:4096")
	step := res(t, "cpus:0.1;mem:0.1")
	r := start
	for range 1_000_000 {
		r = r.Add(step)
	}
	if want := res(t, "cpus:100004;mem:104096"); !r.Equal(want) {
		t.Fatalf("adding %v a million times to %v = %v; want %v", step, start, r, want)
	}
	for range 1_000_000 {
		r = r.Sub(step)
	}
	if !r.Equal(start) || r.String() != start.String() {
		t.Errorf("adding and subtracting %v a million times = %v; want %v", step, r, start)
	}
}

func TestValidateRole(t *testing.T) {
	for _, role := range []string{"eng", "eng/ml", "a.b", "x_1-y", "a/.b"} {
		if err := allocator.ValidateRole(role); err != nil {
			t.Errorf("ValidateRole(%q) = %v; want nil", role, err)
		}
	}
	for _, role := range []string{"", "*", "/", "eng/", "/eng", ".", "a/./b", "..", "-a", "a/-b", "a b", "a(b)"} {
		if err := allocator.ValidateRole(role); err == nil {
			t.Errorf("ValidateRole(%q) = nil; want an error", role)
		}
	}
}

// drawResources draws a normalized bag: names from a small set, optional
// roles, amounts of 0..10^6 milli-units.
func drawResources(t *rapid.T, label string) allocator.Resources {
	entries := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) allocator.Resource {
		return allocator.Resource{
			Name:  rapid.SampledFrom([]string{"cpus", "mem", "disk", "gpus"}).Draw(t, "name"),
			Role:  rapid.SampledFrom([]string{"", "", "a", "eng/ml"}).Draw(t, "role"),
			Value: allocator.Quantity(rapid.Int64Range(0, 1_000_000).Draw(t, "milli")),
		}
	}), 0, 8).Draw(t, label)
	var r allocator.Resources
	for _, e := range entries {
		r = r.Add(allocator.Resources{e})
	}
	return r
}

func TestPropertyResources(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r, o := drawResources(t, "r"), drawResources(t, "o")
		if back, err := allocator.ParseResources(r.String()); err != nil || !back.Equal(r) {
			t.Fatalf("ParseResources(%q) = %v, %v; want %v, nil", r.String(), back, err, r)
		}
		sum := r.Add(o)
		if got := sum.Sub(o); !got.Equal(r) {
			t.Fatalf("(%v).Add(%v).Sub(o) = %v; want %v", r, o, got, r)
		}
		if !sum.Contains(r) || !sum.Contains(o) {
			t.Fatalf("(%v).Add(%v) = %v; want it to contain both", r, o, sum)
		}
		if other := o.Add(r); !sum.Equal(other) {
			t.Fatalf("r.Add(o) = %v, o.Add(r) = %v for r = %v, o = %v; want equal", sum, other, r, o)
		}
		if got, want := sum.Flatten().Sum("cpus"), r.Sum("cpus")+o.Sum("cpus"); got != want {
			t.Fatalf("(%v).Flatten().Sum(cpus) = %v; want %v", sum, got, want)
		}
	})
}
