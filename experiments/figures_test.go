package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"pgregory.net/rapid"
)

func TestTickLabels(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		log    bool
		want   []string
	}{
		{0, 500, false, []string{"0", "250", "500"}},
		{0, 1, false, []string{"0.0", "0.5", "1.0"}},
		{0, 0.5, false, []string{"0.00", "0.25", "0.50"}},
		{0, 47, false, []string{"0", "20", "40"}},
		{0, 80000, false, []string{"0", "40,000", "80,000"}},
		{-1, 1, false, []string{"-1", "0", "1"}},
		{0.1, 1.2e6, true, []string{"0.1", "1", "10", "100", "1000", "10,000", "100,000", "1,000,000"}},
		{0.01, 5, true, []string{"0.01", "0.1", "1"}},
	} {
		var got []string
		for _, tk := range (tidyTicks{log: c.log}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ticks of [%g, %g] (log %v): %q; want %q", c.lo, c.hi, c.log, got, c.want)
		}
	}
}

// The sampled CDF is a CDF of the sample: it rises from 0 to 1, and every
// point's fraction is that of the sample at or under it.
func TestCDFProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		xs := rapid.SliceOfN(rapid.IntRange(0, 50), 1, 300).Draw(t, "xs")
		n := rapid.IntRange(1, 40).Draw(t, "n")
		sorted := make([]float64, len(xs))
		for i, x := range xs {
			sorted[i] = float64(x)
		}
		slices.Sort(sorted)
		s := cdf(sorted, n)
		if len(s.t) > n+2 {
			t.Fatalf("%d points for n %d", len(s.t), n)
		}
		if s.v[0] != 0 || s.v[len(s.v)-1] != 1 || s.t[0] != sorted[0] || s.t[len(s.t)-1] != sorted[len(sorted)-1] {
			t.Fatalf("ends (%g, %g) and (%g, %g); want 0 at the smallest and 1 at the largest", s.t[0], s.v[0], s.t[len(s.t)-1], s.v[len(s.v)-1])
		}
		for k := 1; k < len(s.t); k++ {
			if s.t[k] < s.t[k-1] || s.v[k] <= s.v[k-1] {
				t.Fatalf("point %d (%g, %g) after (%g, %g)", k, s.t[k], s.v[k], s.t[k-1], s.v[k-1])
			}
			under := 0
			for _, x := range sorted {
				if x <= s.t[k] {
					under++
				}
			}
			if want := float64(under) / float64(len(sorted)); s.v[k] != want {
				t.Fatalf("at %g: %g; want %g", s.t[k], s.v[k], want)
			}
		}
	})
}

// studyOf is an aggregate of one framework's jobs under a baseline and a
// variant, seed by seed, without files.
func studyOf(base, other [][]job) aggregated {
	jobs := &runJobs{byRun: map[string][]job{}}
	agg := aggregated{jobs: jobs}
	for _, v := range []struct {
		name string
		js   [][]job
	}{{"static", base}, {"drf", other}} {
		vr := variant{name: v.name, policy: v.name, est: map[metric]Estimate{}}
		for i, js := range v.js {
			r := Run{ID: fmt.Sprintf("%s/seed-%d", v.name, i+1), Policy: v.name, Seed: uint64(i + 1)}
			vr.runs, jobs.byRun[r.ID] = append(vr.runs, r), js
		}
		vr.metrics = []metric{{"jobs_completed", "f"}}
		agg.variants = append(agg.variants, vr)
	}
	return agg
}

func finished(id string, wait, completion float64) job {
	return job{framework: "f", id: id, completed: true, wait: wait, completion: completion}
}

// Speedups compare the jobs both completed, paired by id within a seed,
// and count them.
func TestSpeedupsCompareLikeWithLike(t *testing.T) {
	cut := job{framework: "f", id: "c"} // not completed before the cut-off
	base := [][]job{
		{finished("a", 0, 10), finished("b", 0, 20), cut, finished("d", 0, 500)},
		{finished("a", 0, 30)},
	}
	other := [][]job{
		{finished("a", 0, 5), finished("b", 0, 10), finished("c", 0, 1), {framework: "f", id: "d"}},
		{finished("b", 0, 1)}, // nothing in common with seed 2's baseline
	}
	agg := studyOf(base, other)
	got, err := speedups(agg.variants, "static", agg.jobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d speedups; want 1", len(got))
	}
	s := got[0]
	// Seed 1 compares a and b: (10+20)/(5+10) = 2; seed 2 none.
	if s.est.N != 1 || s.est.Mean != 2 || s.compared != 2 || s.completed != 4 || s.baseCompleted != 4 {
		t.Fatalf("speedup %+v; want 2 over 1 seed, 2 jobs compared of 4 and 4 completed", s)
	}
	agg.speedups = got
	f, err := speedupFigure(agg, "static")
	if err != nil {
		t.Fatal(err)
	}
	if title := f.panels[0].Title.Text; strings.Contains(title, "CI") || !strings.Contains(title, "the one of 2 seeds") {
		t.Errorf("title %q; want no interval, from the one seed of 2 with jobs to compare", title)
	}
	if n := f.notes[len(f.notes)-1]; !strings.Contains(n, "f 2 (4 / 4)") {
		t.Errorf("caption %q; want the jobs compared and completed", n)
	}
}

// A CDF whose times span decades has a log axis, and says how many times
// of 0 it draws at its floor.
func TestCDFLogAxisAndZeros(t *testing.T) {
	wide := [][]job{{finished("a", 0, 1), finished("b", 0, 5), finished("c", 2, 200), finished("d", 400, 300)}}
	narrow := [][]job{{finished("a", 1, 10), finished("b", 1, 20), finished("c", 3, 30), finished("d", 5, 40)}}
	agg := studyOf(wide, narrow)
	f, err := cdfFigure(agg, waitTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.panels[0].X.Scale.(plot.LogScale); !ok {
		t.Fatalf("waits from 1 to 400 s: not a log axis")
	}
	if len(f.notes) != 1 || !strings.Contains(f.notes[0], "drawn at 0.1 s: static 2 of 4") || strings.Contains(f.notes[0], "drf") {
		t.Fatalf("notes %q; want one saying static's 2 of 4 zero waits are drawn at 0.1 s", f.notes)
	}
	f, err = cdfFigure(agg, completionTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.panels[0].X.Scale.(plot.LogScale); !ok || len(f.notes) != 0 {
		t.Fatalf("completion times from 1 to 300 s: scale %T, notes %q; want a log axis and no note", f.panels[0].X.Scale, f.notes)
	}
	agg = studyOf(narrow, narrow)
	if f, err = cdfFigure(agg, completionTime); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.panels[0].X.Scale.(plot.LinearScale); !ok {
		t.Fatalf("completion times from 10 to 40 s: scale %T; want linear", f.panels[0].X.Scale)
	}
}

// No legend covers a panel's data, beside the panels or under them, and
// every legend is on the figure.
func TestLegendsOutsideTheData(t *testing.T) {
	for _, names := range [][]string{
		{"static", "drf"},
		{"drf allocator.allocation_interval=1s", "drf allocator.allocation_interval=10s", "static (live)"},
	} {
		f := &figure{notes: []string{strings.Repeat("a caption of many words ", 20)}}
		for range 2 {
			p := newPlot("panel", "x", "y")
			for i, name := range names {
				l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: float64(i)}, {X: 10, Y: 10}})
				if err != nil {
					t.Fatal(err)
				}
				p.Add(l)
				if len(f.panels) == 0 {
					f.keys = append(f.keys, key{name, l})
				}
			}
			f.panels = append(f.panels, p)
		}
		lo := f.layout()
		dc := draw.New(vgimg.New(figWidth, lo.height))
		panels, legends := f.arrange(dc, lo)
		if len(legends) == 0 {
			t.Fatalf("%q: no legend", names)
		}
		for _, l := range legends {
			r := legend(l.keys).Rectangle(draw.Canvas{})
			box := vg.Rectangle{Min: vg.Point{X: l.in.Min.X, Y: l.in.Max.Y - (r.Max.Y - r.Min.Y)}, Max: vg.Point{X: l.in.Min.X + r.Max.X - r.Min.X, Y: l.in.Max.Y}}
			if box.Min.X < dc.Min.X || box.Max.X > dc.Max.X || box.Min.Y < dc.Min.Y || box.Max.Y > dc.Max.Y {
				t.Errorf("%q: legend %v off the figure %v", names, box, dc.Rectangle)
			}
			for i, p := range f.panels {
				d := p.DataCanvas(panels[i])
				if box.Min.X < d.Max.X && d.Min.X < box.Max.X && box.Min.Y < d.Max.Y && d.Min.Y < box.Max.Y {
					t.Errorf("%q: legend %v covers panel %d's data %v", names, box, i, d.Rectangle)
				}
			}
		}
	}
}

func TestDecimals(t *testing.T) {
	for _, c := range []struct {
		vs   []float64
		want int
	}{
		{[]float64{0, 250, 500}, 0},
		{[]float64{0.1 + 0.2}, 1},
		{[]float64{0.25, 0.5}, 2},
		{[]float64{math.Pi}, -1},
	} {
		if got := decimals(c.vs...); got != c.want {
			t.Errorf("decimals(%v) = %d; want %d", c.vs, got, c.want)
		}
	}
}
