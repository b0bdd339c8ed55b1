package experiments

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxPoints bounds the points of one line in a figure.
const maxPoints = 800

// drawFigures draws the study's figures into dir/figures.
func drawFigures(dir string, rec studyRecord, agg aggregated) error {
	out := filepath.Join(dir, "figures")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	runs := &runSeries{dir: dir, byRun: map[string]map[metric]*series{}}
	for _, name := range rec.Figures {
		var f *figure
		var err error
		switch name {
		case "utilization":
			f, err = utilizationFigure(runs, agg)
		case "completion-cdf":
			f, err = cdfFigure(agg, completionTime)
		case "wait-cdf":
			f, err = cdfFigure(agg, waitTime)
		case "shares":
			f, err = sharesFigure(runs, agg)
		case "speedup":
			f, err = speedupFigure(agg, rec.Baseline)
		case "paper":
			f, err = paperFigure(rec.Paper, rec.Baseline, agg.paper)
		case "log-waits":
			f, err = logWaitsFigure(agg)
		}
		if err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
		if f == nil {
			continue // nothing to draw, such as speedups without a baseline
		}
		if err := f.save(filepath.Join(out, name), rec.Formats); err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
	}
	return nil
}

// style gives line i a colour and a dash pattern of its own.
func style(l *plotter.Line, i int) {
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(i)
	l.Width = vg.Points(1.5)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker = tidyTicks{}
	p.Y.Tick.Marker = tidyTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// seedsDrawn says which seeds a figure of these runs draws: "seed 3" for
// one, else many with the count.
func seedsDrawn(runs []Run, many string) string {
	if len(runs) == 1 {
		return fmt.Sprintf("seed %d", runs[0].Seed)
	}
	return fmt.Sprintf(many, len(runs))
}

// count writes a number of jobs, grouping digits from 10,000.
func count(n int) string { return tickLabel(float64(n), 0) }

// timeAxis picks hours or minutes for a span of seconds.
func timeAxis(span float64) (string, float64) {
	if span > 3*3600 {
		return "time (h)", 3600
	}
	return "time (min)", 60
}

// line draws s as line i of p, its times divided by unit.
func line(p *plot.Plot, i int, s *series, unit float64) (*plotter.Line, error) {
	s = thin(s, maxPoints)
	xys := make(plotter.XYs, len(s.t))
	for k := range s.t {
		xys[k] = plotter.XY{X: s.t[k] / unit, Y: s.v[k]}
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	style(l, i)
	p.Add(l)
	return l, nil
}

// keyed adds a key for each variant that has a line, in variant order.
func (f *figure) keyed(vs []variant, lines map[int]plot.Thumbnailer) {
	for i, v := range vs {
		if l, ok := lines[i]; ok {
			f.keys = append(f.keys, key{v.name, l})
		}
	}
}

// utilizationFigure: per resource a panel, per variant a line of the
// cluster's used share (mean over seeds) over time. A resource no run used
// (an SWF trace has no memory) gets no panel, and the caption says so.
func utilizationFigure(runs *runSeries, agg aggregated) (*figure, error) {
	byVariant := map[string]map[string]*series{}
	var resources []string
	span := 0.0
	for _, v := range agg.variants {
		used, total := map[string][]*series{}, map[string][]*series{}
		for _, r := range v.runs {
			ts, err := runs.get(r)
			if err != nil {
				return nil, err
			}
			for k, s := range ts {
				switch k.name {
				case "used":
					used[k.key] = append(used[k.key], s)
				case "total":
					total[k.key] = append(total[k.key], s)
				}
			}
		}
		byVariant[v.name] = map[string]*series{}
		for res := range used {
			s := ratio(meanOver(used[res]), meanOver(total[res]), 100)
			byVariant[v.name][res] = s
			if !slices.Contains(resources, res) {
				resources = append(resources, res)
			}
			if len(s.t) > 0 {
				span = max(span, s.t[len(s.t)-1])
			}
		}
	}
	slices.Sort(resources)
	xlabel, unit := timeAxis(span)
	seeds := seedsDrawn(agg.variants[0].runs, "mean of %d seeds")
	f := &figure{}
	lines := map[int]plot.Thumbnailer{}
	var unused []string
	for _, res := range resources {
		if !anyUsed(byVariant, res) {
			unused = append(unused, res)
			continue
		}
		p := newPlot("cluster "+res+" in use, "+seeds, xlabel, res+" in use (% of the cluster)")
		p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 100
		for i, v := range agg.variants {
			if s := byVariant[v.name][res]; s != nil {
				l, err := line(p, i, s, unit)
				if err != nil {
					return nil, err
				}
				lines[i] = l
			}
		}
		f.panels = append(f.panels, p)
	}
	if len(f.panels) == 0 {
		return nil, nil
	}
	f.keyed(agg.variants, lines)
	if len(unused) > 0 {
		f.notes = append(f.notes, fmt.Sprintf("Not drawn: %s, which no task of any run used.", strings.Join(unused, ", ")))
	}
	return f, nil
}

func anyUsed(byVariant map[string]map[string]*series, res string) bool {
	for _, m := range byVariant {
		if s := m[res]; s != nil && slices.ContainsFunc(s.v, func(x float64) bool { return x > 0 }) {
			return true
		}
	}
	return false
}

// jobTime is a time of a completed job that a CDF draws.
type jobTime struct {
	noun string
	of   func(job) float64
}

var (
	completionTime = jobTime{"job completion time", func(j job) float64 { return j.completion }}
	waitTime       = jobTime{"job wait", func(j job) float64 { return j.wait }}
)

// logSpan is the ratio of the largest to the smallest positive time from
// which a CDF has a log axis.
const logSpan = 100

// cdfFigure: per variant the empirical CDF of a job time, completed jobs
// pooled over seeds (see cdfPlot).
func cdfFigure(agg aggregated, jt jobTime) (*figure, error) {
	sets, err := variantSets(agg, jt)
	if err != nil {
		return nil, err
	}
	title := "CDF of " + jt.noun + ", completed jobs, " + seedsDrawn(agg.variants[0].runs, "%d seeds pooled")
	return cdfPlot(title, jt.noun, sets)
}

// variantSets are the values of a job time of each variant's completed
// jobs, pooled over seeds, variant i drawn in style i.
func variantSets(agg aggregated, jt jobTime) ([]cdfSet, error) {
	sets := make([]cdfSet, len(agg.variants))
	for i, v := range agg.variants {
		sets[i] = cdfSet{name: v.name, style: func(l *plotter.Line) { style(l, i) }}
		for _, r := range v.runs {
			js, err := agg.jobs.get(r)
			if err != nil {
				return nil, fmt.Errorf("run %s: %w", r.ID, err)
			}
			for _, j := range js {
				if j.completed {
					sets[i].xs = append(sets[i].xs, jt.of(j))
				}
			}
		}
		slices.Sort(sets[i].xs)
	}
	return sets, nil
}

// cdfSet is a line of a CDF figure: its name in the legend, its sorted
// values and how it is drawn.
type cdfSet struct {
	name  string
	xs    []float64
	style func(*plotter.Line)
}

// cdfPlot draws the empirical CDF of each set, on a log axis if the values
// span more than two decades. A log axis draws values of 0 a decade under
// the smallest positive one, and the caption says how many there were.
func cdfPlot(title, noun string, sets []cdfSet) (*figure, error) {
	lo, hi := math.Inf(1), 0.0
	for _, set := range sets {
		for _, x := range set.xs {
			if x > 0 {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
	}
	logAxis := hi/lo > logSpan
	xlabel := noun + " (s)"
	floor := 0.0
	if logAxis {
		floor = math.Pow10(decade(lo) - 1)
		xlabel = noun + " (s, log scale)"
	}
	p := newPlot(title, xlabel, "fraction of jobs")
	p.Y.Min, p.Y.Max = 0, 1
	if logAxis { // from a labelled decade
		p.X.Scale, p.X.Tick.Marker, p.X.Min = plot.LogScale{}, tidyTicks{log: true}, math.Pow10(decade(lo))
	}
	f := &figure{panels: []*plot.Plot{p}}
	var zeros []string
	for _, set := range sets {
		xs := set.xs
		if len(xs) == 0 {
			continue
		}
		n := 0
		for n < len(xs) && logAxis && xs[n] <= 0 {
			xs[n], n = floor, n+1
		}
		l, err := line(p, 0, cdf(xs, maxPoints-1), 1)
		if err != nil {
			return nil, err
		}
		set.style(l)
		l.StepStyle = plotter.PostStep
		f.keys = append(f.keys, key{set.name, l})
		if n > 0 {
			zeros = append(zeros, fmt.Sprintf("%s %s of %s", set.name, count(n), count(len(xs))))
		}
	}
	if len(zeros) > 0 {
		f.notes = append(f.notes, fmt.Sprintf("A %s of 0 s cannot be drawn on the log axis; those are drawn at %s s: %s.",
			noun, tickLabel(floor, decimals(floor)), strings.Join(zeros, ", ")))
	}
	return f, nil
}

// sharesFigure: per variant a panel of each framework's dominant share of
// the cluster over time, stacked, in one run: the variant's first seed (a
// mean over seeds would blur the shares).
func sharesFigure(runs *runSeries, agg aggregated) (*figure, error) {
	shares := make([]map[string]*series, len(agg.variants))
	var fws []string // of every variant, so that a framework has one colour
	span := 0.0
	for i, v := range agg.variants {
		ts, err := runs.get(v.runs[0])
		if err != nil {
			return nil, err
		}
		shares[i] = map[string]*series{}
		for k, s := range ts {
			if k.name != "framework_share" {
				continue
			}
			shares[i][k.key] = thin(s, maxPoints)
			if !slices.Contains(fws, k.key) {
				fws = append(fws, k.key)
			}
			if len(s.t) > 0 {
				span = max(span, s.t[len(s.t)-1])
			}
		}
	}
	slices.Sort(fws)
	xlabel, unit := timeAxis(span)
	f := &figure{}
	drawn := map[string]plot.Thumbnailer{}
	top := 0.0
	for i, v := range agg.variants {
		p := newPlot(fmt.Sprintf("dominant share per framework: %s, seed %d", v.name, v.runs[0].Seed), xlabel, "dominant share (stacked)")
		p.X.Min, p.X.Max, p.Y.Min = 0, span/unit, 0 // one time axis for every panel
		t, err := stack(p, fws, shares[i], unit, drawn)
		if err != nil {
			return nil, err
		}
		top = max(top, t)
		f.panels = append(f.panels, p)
	}
	for _, p := range f.panels {
		p.Y.Max = max(p.Y.Max, top) // one share axis too
	}
	for _, fw := range slices.Backward(fws) { // the top of the stack first
		if t, ok := drawn[fw]; ok {
			f.keys = append(f.keys, key{fw, t})
		}
	}
	if n := len(agg.variants[0].runs); n > 1 {
		f.notes = append(f.notes, fmt.Sprintf("Each panel is one run, seed %d of the %d seeds, not a mean over them.", agg.variants[0].runs[0].Seed, n))
	}
	return f, nil
}

// stack draws the series of the names present in ss as stacked areas, in
// order from the bottom, name i in colour i, recording each area in drawn;
// it returns the top of the stack.
func stack(p *plot.Plot, names []string, ss map[string]*series, unit float64, drawn map[string]plot.Thumbnailer) (float64, error) {
	var base []float64
	for _, name := range names {
		if s := ss[name]; s != nil {
			base = s.t
			break
		}
	}
	lower := make([]float64, len(base))
	for i, name := range names {
		if ss[name] == nil {
			continue
		}
		at := map[float64]float64{}
		for k, t := range ss[name].t {
			at[t] = ss[name].v[k]
		}
		upper := make([]float64, len(base))
		poly := make(plotter.XYs, 0, 2*len(base))
		for k, t := range base {
			upper[k] = lower[k] + at[t]
			poly = append(poly, plotter.XY{X: t / unit, Y: upper[k]})
		}
		for k := len(base) - 1; k >= 0; k-- {
			poly = append(poly, plotter.XY{X: base[k] / unit, Y: lower[k]})
		}
		pg, err := plotter.NewPolygon(poly)
		if err != nil {
			return 0, err
		}
		pg.Color = plotutil.Color(i)
		pg.LineStyle.Width = 0
		p.Add(pg)
		if _, ok := drawn[name]; !ok {
			drawn[name] = pg
		}
		lower = upper
	}
	top := 0.0
	for _, y := range lower {
		top = max(top, y)
	}
	return top, nil
}

// speedupFigure: per framework, each variant's speedup over the baseline
// as a point with its 95% confidence interval (with two seeds or more);
// 1 (dashed) is no change. The caption gives the jobs compared.
func speedupFigure(agg aggregated, baseline string) (*figure, error) {
	var fws, variants []string
	seeds := 0
	for _, s := range agg.speedups {
		if !slices.Contains(fws, s.framework) {
			fws = append(fws, s.framework)
		}
		if !slices.Contains(variants, s.variant) {
			variants = append(variants, s.variant)
		}
		seeds = max(seeds, s.est.N)
	}
	if seeds == 0 {
		return nil, nil // no jobs to compare
	}
	var of string
	switch runs := agg.variants[0].runs; {
	case seeds > 1:
		of = fmt.Sprintf("mean ± 95%% CI of %d seeds", seeds)
	case len(runs) > 1:
		of = fmt.Sprintf("the one of %d seeds with jobs to compare", len(runs))
	default:
		of = seedsDrawn(runs, "")
	}
	p := newPlot("speedup over "+baseline+", "+of, "framework", "speedup (×)")
	p.Y.Min = 0
	f := &figure{panels: []*plot.Plot{p}, notes: []string{fmt.Sprintf(
		"Speedup: the sum of the completion times under %s over that under the variant, of the jobs both completed (paired by job id within a seed); 1 (dashed) is no change.", baseline)}}
	for i, v := range variants {
		var pts errPoints
		var compared []string
		off := 0.15 * (float64(i) - float64(len(variants)-1)/2)
		for _, s := range agg.speedups {
			if s.variant != v {
				continue
			}
			compared = append(compared, fmt.Sprintf("%s %s (%s / %s)", s.framework, count(s.compared), count(s.completed), count(s.baseCompleted)))
			if !math.IsNaN(s.est.Mean) {
				pts = append(pts, errPoint{x: float64(slices.Index(fws, s.framework)) + off, y: s.est.Mean, e: s.est.CI95})
			}
		}
		f.notes = append(f.notes, fmt.Sprintf("Jobs compared (completed under %s / under %s), %s: %s.",
			v, baseline, seedsDrawn(agg.variants[0].runs, "totals over %d seeds"), strings.Join(compared, ", ")))
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(i), Radius: vg.Points(4), Shape: plotutil.Shape(i)}
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, err
		}
		eb.Color, eb.Width, eb.CapWidth = plotutil.Color(i), vg.Points(1.5), vg.Points(8)
		p.Add(eb, sc)
		f.keys = append(f.keys, key{v, sc})
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	p.NominalX(fws...)
	p.X.Min, p.X.Max = -0.5, float64(len(fws))-0.5
	p.Y.Max = max(p.Y.Max, 1) * 1.1
	return f, nil
}

type errPoint struct{ x, y, e float64 }

// errPoints are bar tops with symmetric errors; an unknown error draws
// none.
type errPoints []errPoint

func (e errPoints) Len() int                { return len(e) }
func (e errPoints) XY(i int) (x, y float64) { return e[i].x, e[i].y }
func (e errPoints) YError(i int) (float64, float64) {
	if math.IsNaN(e[i].e) { // one seed
		return 0, 0
	}
	return e[i].e, e[i].e
}
