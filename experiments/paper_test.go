package experiments

import (
	"math"
	"testing"
)

// A row's target: within a fraction of the paper's figure or a difference
// from it, or on a side of a threshold; an unknown figure meets none.
func TestPaperTargets(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	tol := func(s string) Tolerance {
		var tl Tolerance
		if err := tl.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return tl
	}
	for _, c := range []struct {
		row    PaperRow
		x      float64
		holds  bool
		target string
	}{
		{PaperRow{Value: 2.1, Within: tol("30%")}, 2.73, true, "2.1 ± 30%"},
		{PaperRow{Value: 2.1, Within: tol("30%")}, 1.47, true, "2.1 ± 30%"},
		{PaperRow{Value: 2.1, Within: tol("30%")}, 2.74, false, "2.1 ± 30%"},
		{PaperRow{Value: 0.17, Within: tol("0.1")}, 0.07, true, "0.17 ± 0.1"},
		{PaperRow{Value: 0.17, Within: tol("0.1")}, 0.069, false, "0.17 ± 0.1"},
		{PaperRow{Value: 0.84, Below: f(1)}, 0.99, true, "below 1"},
		{PaperRow{Value: 0.84, Below: f(1)}, 1, false, "below 1"},
		{PaperRow{Value: 1.4, Above: f(1)}, 1.01, true, "above 1"},
		{PaperRow{Value: 1.4, Above: f(1)}, math.NaN(), false, "above 1"},
	} {
		if got := c.row.holds(c.x); got != c.holds {
			t.Errorf("%s with %v: holds %v; want %v", c.row.target(), c.x, got, c.holds)
		}
		if got := c.row.target(); got != c.target {
			t.Errorf("target %q; want %q", got, c.target)
		}
	}
	for _, s := range []string{"30%", "0.1", "2.5%"} {
		out, _ := tol(s).MarshalText()
		if string(out) != s {
			t.Errorf("%s written back as %s", s, out)
		}
	}
	for _, bad := range []string{"", "x", "-3%", "%", "Inf"} {
		var tl Tolerance
		if err := tl.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q read as %+v", bad, tl)
		}
	}
}
