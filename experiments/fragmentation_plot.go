package experiments

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// drawFragmentation draws the paper's Figure 7a (GPU allocation ratio
// against arrived GPU workload, a line per policy with its 95% confidence
// band over the seeds) and, under it, the fragmentation ratio.
func drawFragmentation(dir string, f Fragmentation, nodes int, capacity int64, agg []fragAgg) error {
	alloc := newPlot("GPU allocation ratio (from 70% arrived)", "arrived GPU workload (% of GPU capacity)", "GPUs allocated (% of capacity)")
	frag := newPlot("GPU fragmentation", "arrived GPU workload (% of GPU capacity)", "fragmented (% of unallocated GPUs)")
	ideal, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 100, Y: 100}, {X: 100 * f.Target, Y: 100}})
	if err != nil {
		return err
	}
	ideal.Color, ideal.Dashes = color.Gray{Y: 160}, []vg.Length{vg.Points(3), vg.Points(3)}
	alloc.Add(ideal)
	fig := &figure{panels: []*plot.Plot{alloc, frag}}
	for i, a := range agg {
		var l *plotter.Line
		for _, panel := range []struct {
			p       *plot.Plot
			measure string
		}{{alloc, "allocation"}, {frag, "fragmentation"}} {
			if l, err = bandedLine(panel.p, i, a, panel.measure); err != nil {
				return err
			}
		}
		fig.keys = append(fig.keys, key{a.placement, l})
	}
	fig.keys = append(fig.keys, key{"every arrived GPU allocated", ideal})
	alloc.X.Min, alloc.X.Max, alloc.Y.Min, alloc.Y.Max = 70, 100*f.Target, 70, 101 // the paper's window
	frag.X.Max = 100 * f.Target
	fig.notes = []string{fmt.Sprintf("The openb default pods inflated by seeded draws to %.0f%% of the GPU capacity of %d GPU nodes (%d GPUs), "+
		"arrival-only (the paper's Figure 7a); means over %d seeds (%v) with 95%% confidence bands. "+
		"Fragmented: FGD's measure against the pods' typical shapes, as a share of the GPUs not allocated.",
		100*f.Target, nodes, capacity/1000, len(f.Seeds), f.Seeds)}
	return fig.save(filepath.Join(dir, "figures", "allocation"), []string{"png", "svg"})
}

// bandedLine draws a policy's measure against the arrived workload, its
// confidence band under it, as line i of p.
func bandedLine(p *plot.Plot, i int, a fragAgg, measure string) (*plotter.Line, error) {
	var mean, upper, lower plotter.XYs
	for _, lv := range a.levels {
		x, y := 100*a.at(lv, "arrived").Mean, a.at(lv, measure)
		mean = append(mean, plotter.XY{X: x, Y: 100 * y.Mean})
		ci := 0.0
		if !math.IsNaN(y.CI95) {
			ci = y.CI95
		}
		upper = append(upper, plotter.XY{X: x, Y: 100 * (y.Mean + ci)})
		lower = append(lower, plotter.XY{X: x, Y: 100 * (y.Mean - ci)})
	}
	for k := len(lower) - 1; k >= 0; k-- {
		upper = append(upper, lower[k])
	}
	band, err := plotter.NewPolygon(upper)
	if err != nil {
		return nil, err
	}
	r, g, b, _ := plotutil.Color(i).RGBA()
	band.Color, band.LineStyle.Width = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 60}, 0
	p.Add(band)
	l, err := plotter.NewLine(mean)
	if err != nil {
		return nil, err
	}
	style(l, i)
	p.Add(l)
	return l, nil
}
