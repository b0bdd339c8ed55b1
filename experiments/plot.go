package experiments

import (
	"fmt"
	"image/color"
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
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
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
		var grid [][]*plot.Plot
		var err error
		switch name {
		case "utilization":
			grid, err = utilizationFigure(runs, agg)
		case "completion-cdf":
			grid, err = cdfFigure(dir, agg, "completion_s", "job completion time (s)")
		case "wait-cdf":
			grid, err = cdfFigure(dir, agg, "wait_s", "job wait (s)")
		case "shares":
			grid, err = sharesFigure(runs, agg)
		case "speedup":
			grid, err = speedupFigure(agg, rec.Baseline)
		}
		if err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
		if grid == nil {
			continue // nothing to draw, such as speedups without a baseline
		}
		if err := save(filepath.Join(out, name), rec.Formats, grid); err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
	}
	return nil
}

// save writes a grid of plots as PNG and SVG, one file per format.
func save(base string, formats []string, grid [][]*plot.Plot) error {
	w := 16 * vg.Centimeter
	h := vg.Length(len(grid)) * 7 * vg.Centimeter
	for _, f := range formats {
		var c vg.CanvasWriterTo
		switch f {
		case "png":
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150), vgimg.UseBackgroundColor(color.White))}
		case "svg":
			c = vgsvg.New(w, h)
		}
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
			PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6}
		canvases := plot.Align(grid, tiles, dc)
		for j := range grid {
			for i, p := range grid[j] {
				if p != nil {
					p.Draw(canvases[j][i])
				}
			}
		}
		file, err := os.Create(base + "." + f)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(file); err != nil {
			file.Close()
			return err
		}
		if err := file.Close(); err != nil {
			return err
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
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// timeAxis picks hours or minutes for a span of seconds.
func timeAxis(span float64) (string, float64) {
	if span > 3*3600 {
		return "time (h)", 3600
	}
	return "time (min)", 60
}

func line(p *plot.Plot, i int, name string, s *series, unit float64) error {
	s = thin(s, maxPoints)
	xys := make(plotter.XYs, len(s.t))
	for k := range s.t {
		xys[k] = plotter.XY{X: s.t[k] / unit, Y: s.v[k]}
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	style(l, i)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// utilizationFigure: per resource a panel, per variant a line of the
// cluster's used share (mean over seeds) over time.
func utilizationFigure(runs *runSeries, agg aggregated) ([][]*plot.Plot, error) {
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
	var grid [][]*plot.Plot
	for _, res := range resources {
		p := newPlot("cluster "+res+" in use", xlabel, res+" in use (% of the cluster)")
		p.Y.Min, p.Y.Max = 0, 100
		for i, v := range agg.variants {
			if s := byVariant[v.name][res]; s != nil {
				if err := line(p, i, v.name, s, unit); err != nil {
					return nil, err
				}
			}
		}
		grid = append(grid, []*plot.Plot{p})
	}
	return grid, nil
}

// cdfFigure: per variant the empirical CDF of a job time, pooled over
// seeds.
func cdfFigure(dir string, agg aggregated, column, xlabel string) ([][]*plot.Plot, error) {
	p := newPlot("CDF of "+strings.TrimSuffix(xlabel, " (s)")+", completed jobs, all seeds", xlabel, "fraction of jobs")
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	for i, v := range agg.variants {
		var xs []float64
		for _, r := range v.runs {
			got, err := jobTimes(filepath.Join(dir, filepath.FromSlash(r.ID)), column)
			if err != nil {
				return nil, err
			}
			xs = append(xs, got...)
		}
		if len(xs) == 0 {
			continue
		}
		slices.Sort(xs)
		s := &series{}
		for k, x := range xs {
			s.t, s.v = append(s.t, x), append(s.v, float64(k+1)/float64(len(xs)))
		}
		if err := line(p, i, v.name, s, 1); err != nil {
			return nil, err
		}
	}
	return [][]*plot.Plot{{p}}, nil
}

// sharesFigure: per variant a panel of each framework's dominant share of
// the cluster over time (mean over seeds), stacked.
func sharesFigure(runs *runSeries, agg aggregated) ([][]*plot.Plot, error) {
	var grid [][]*plot.Plot
	for _, v := range agg.variants {
		byFw := map[string][]*series{}
		for _, r := range v.runs {
			ts, err := runs.get(r)
			if err != nil {
				return nil, err
			}
			for k, s := range ts {
				if k.name == "framework_share" {
					byFw[k.key] = append(byFw[k.key], s)
				}
			}
		}
		fws := sortedKeys(byFw)
		mean := map[string]*series{}
		span := 0.0
		for _, f := range fws {
			mean[f] = thin(meanOver(byFw[f]), maxPoints)
			if s := mean[f]; len(s.t) > 0 {
				span = max(span, s.t[len(s.t)-1])
			}
		}
		xlabel, unit := timeAxis(span)
		p := newPlot("dominant share per framework: "+v.name, xlabel, "dominant share (stacked)")
		p.Y.Min = 0
		if err := stack(p, fws, mean, unit); err != nil {
			return nil, err
		}
		grid = append(grid, []*plot.Plot{p})
	}
	return grid, nil
}

// stack draws the series as stacked areas, in order from the bottom.
func stack(p *plot.Plot, names []string, ss map[string]*series, unit float64) error {
	if len(names) == 0 {
		return nil
	}
	base := ss[names[0]].t
	lower := make([]float64, len(base))
	for i, name := range names {
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
			return err
		}
		pg.Color = plotutil.Color(i)
		pg.LineStyle.Width = 0
		p.Add(pg)
		p.Legend.Add(name, pg)
		lower = upper
	}
	top := 0.0
	for _, y := range lower {
		top = max(top, y)
	}
	p.Y.Max = top * 1.25 // room for the legend
	return nil
}

// speedupFigure: per framework, each variant's speedup over the baseline
// as a point with its 95% confidence interval; 1 (dashed) is no change.
func speedupFigure(agg aggregated, baseline string) ([][]*plot.Plot, error) {
	if len(agg.speedups) == 0 {
		return nil, nil
	}
	var fws, variants []string
	for _, s := range agg.speedups {
		if !slices.Contains(fws, s.framework) {
			fws = append(fws, s.framework)
		}
		if !slices.Contains(variants, s.variant) {
			variants = append(variants, s.variant)
		}
	}
	p := newPlot("speedup over "+baseline+" (sum of job completion times, 95% CI)", "framework", "speedup (×)")
	p.Y.Min = 0
	for i, v := range variants {
		var pts errPoints
		off := 0.15 * (float64(i) - float64(len(variants)-1)/2)
		for _, s := range agg.speedups {
			if s.variant == v && s.est.Mean == s.est.Mean {
				pts = append(pts, errPoint{x: float64(slices.Index(fws, s.framework)) + off, y: s.est.Mean, e: s.est.CI95})
				top := s.est.Mean
				if !math.IsNaN(s.est.CI95) { // NaN with one seed
					top += s.est.CI95
				}
				p.Y.Max = max(p.Y.Max, top+0.1)
			}
		}
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
		p.Legend.Add(v, sc)
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	p.NominalX(fws...)
	p.X.Min, p.X.Max = -0.5, float64(len(fws))-0.5
	return [][]*plot.Plot{{p}}, nil
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
