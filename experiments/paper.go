package experiments

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/apronlab/apron/internal/conf"
)

// Paper is what a study's source reports, for apron's figures to be set
// beside: each row a figure of the paper and the target apron's must meet,
// within a tolerance of it or on a side of a threshold. Finish writes the
// comparison to paper.csv and draws it (the paper figure); the report
// lists it.
type Paper struct {
	Source string `yaml:"source" json:"source"`
	// Variant is the policy compared with the baseline (default: the first
	// policy that is not the baseline).
	Variant string     `yaml:"variant" json:"variant"`
	Rows    []PaperRow `yaml:"rows" json:"rows"`
}

// PaperRow is one figure of the paper. Metrics:
//   - speedup: a framework's speedup of the variant over the baseline, as
//     speedup.csv; with Jobs, of its jobs whose ids begin so (a kind of
//     job, such as a bin of a generator's classes);
//   - utilization_gain: the variant's mean utilization of Resource less
//     the baseline's, per seed (0.1 is ten points).
//
// The target is Within (of Value: "30%" relative, 0.1 absolute), or
// Above or Below a threshold.
type PaperRow struct {
	Name      string    `yaml:"name" json:"name"`
	Metric    string    `yaml:"metric" json:"metric"`
	Framework string    `yaml:"framework" json:"framework,omitempty"`
	Jobs      string    `yaml:"jobs" json:"jobs,omitempty"`
	Resource  string    `yaml:"resource" json:"resource,omitempty"`
	Value     float64   `yaml:"value" json:"value"`
	Within    Tolerance `yaml:"within" json:"within,omitzero"`
	Above     *float64  `yaml:"above" json:"above,omitempty"`
	Below     *float64  `yaml:"below" json:"below,omitempty"`
}

// Tolerance is how far apron's figure may be from the paper's: a fraction
// of it ("30%") or an absolute difference (0.1).
type Tolerance struct {
	Relative bool
	V        float64
}

// UnmarshalText reads "30%" or "0.1".
func (t *Tolerance) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	num, rel := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) {
		return errors.New("is not a tolerance; want a percentage of the paper's figure such as 30%, or a difference such as 0.1")
	}
	if rel {
		v /= 100
	}
	*t = Tolerance{Relative: rel, V: v}
	return nil
}

// MarshalText writes the tolerance as it is read.
func (t Tolerance) MarshalText() ([]byte, error) {
	if t.Relative {
		return []byte(strconv.FormatFloat(t.V*100, 'g', -1, 64) + "%"), nil
	}
	return []byte(strconv.FormatFloat(t.V, 'g', -1, 64)), nil
}

// Example says what a tolerance looks like, for errors.
func (Tolerance) Example() string { return "a tolerance such as 30% or 0.1" }

var paperMetrics = []string{"speedup", "utilization_gain"}

// check checks the rows against the study's policies and baseline, and
// fills in the variant.
func (p *Paper) check(policies []string, baseline string) error {
	switch {
	case p.Variant == "":
		for _, name := range policies {
			if name != baseline {
				p.Variant = name
				break
			}
		}
		if p.Variant == "" {
			return conf.Errorf("paper.variant", "none; the study compares no policy with its baseline %s", baseline)
		}
	case p.Variant == baseline || !slices.Contains(policies, p.Variant):
		return conf.Errorf("paper.variant", "%q; want a policy other than the baseline %s: one of %s", p.Variant, baseline, strings.Join(policies, ", "))
	}
	for i, r := range p.Rows {
		if err := r.check(); err != nil {
			return conf.At(conf.Index("paper.rows", i), err)
		}
	}
	return nil
}

func (r PaperRow) check() error {
	targets := 0
	for _, set := range []bool{r.Within != Tolerance{}, r.Above != nil, r.Below != nil} {
		if set {
			targets++
		}
	}
	switch {
	case r.Name == "":
		return conf.Errorf("name", "missing; a row needs the paper's name for its figure")
	case !slices.Contains(paperMetrics, r.Metric):
		return conf.Errorf("metric", "%q; want %s", r.Metric, strings.Join(paperMetrics, " or "))
	case r.Metric == "speedup" && r.Framework == "":
		return conf.Errorf("framework", "missing; a speedup is a framework's")
	case r.Metric == "utilization_gain" && r.Resource == "":
		return conf.Errorf("resource", "missing; a utilization gain is a resource's, such as cpus")
	case targets != 1:
		return conf.Errorf("within", "%d targets; want one: within (30%% or 0.1), above or below", targets)
	}
	return nil
}

// target says what apron's figure must be.
func (r PaperRow) target() string {
	switch {
	case r.Above != nil:
		return "above " + strconv.FormatFloat(*r.Above, 'g', -1, 64)
	case r.Below != nil:
		return "below " + strconv.FormatFloat(*r.Below, 'g', -1, 64)
	case r.Within.Relative:
		return fmt.Sprintf("%s ± %s%%", short(r.Value), short(r.Within.V*100))
	}
	return fmt.Sprintf("%s ± %s", short(r.Value), short(r.Within.V))
}

// holds says whether x meets the row's target.
func (r PaperRow) holds(x float64) bool {
	switch {
	case math.IsNaN(x):
		return false
	case r.Above != nil:
		return x > *r.Above
	case r.Below != nil:
		return x < *r.Below
	}
	tol := r.Within.V
	if r.Within.Relative {
		tol *= math.Abs(r.Value)
	}
	return math.Abs(x-r.Value) <= tol*(1+1e-12)
}

// paperResult is a row measured at one sweep point.
type paperResult struct {
	row   PaperRow
	point string
	est   Estimate
	holds bool
}

// comparePaper measures the paper's rows: each at every sweep point of
// the variant.
func comparePaper(p *Paper, baseline string, agg aggregated) ([]paperResult, error) {
	if p == nil {
		return nil, nil
	}
	base := map[string]*variant{}
	for i, v := range agg.variants {
		if v.policy == baseline && v.backend == "" {
			base[v.point] = &agg.variants[i]
		}
	}
	var out []paperResult
	for _, v := range agg.variants {
		b := base[v.point]
		if v.policy != p.Variant || v.backend != "" || b == nil {
			continue
		}
		for _, r := range p.Rows {
			res := paperResult{row: r, point: v.point}
			switch r.Metric {
			case "speedup":
				s := speedup{framework: r.Framework, jobs: r.Jobs}
				if err := s.compare(agg.jobs, v, *b); err != nil {
					return nil, err
				}
				res.est = s.est
			case "utilization_gain":
				res.est = gain(metric{"utilization", r.Resource}, v, *b)
			}
			res.holds = r.holds(res.est.Mean)
			out = append(out, res)
		}
	}
	return out, nil
}

// gain estimates a metric's difference, variant less baseline, over the
// seeds both have it for.
func gain(k metric, v, b variant) Estimate {
	var xs []float64
	for _, r := range v.runs {
		x, ok := v.perSeed[k][r.Seed]
		y, bok := b.perSeed[k][r.Seed]
		if ok && bok {
			xs = append(xs, x-y)
		}
	}
	return estimate(xs)
}

// writePaper writes paper.csv: per row and sweep point, the paper's
// figure, apron's (mean over seeds, 95% CI), the target and whether apron's
// meets it.
func writePaper(dir string, results []paperResult) error {
	if len(results) == 0 {
		return nil
	}
	rows := [][]string{{"name", "point", "metric", "framework", "jobs", "resource", "paper", "apron", "ci95", "n", "target", "holds"}}
	for _, x := range results {
		r := x.row
		rows = append(rows, []string{r.Name, x.point, r.Metric, r.Framework, r.Jobs, r.Resource, fnum(r.Value), fnum(x.est.Mean), fnum(x.est.CI95),
			strconv.Itoa(x.est.N), r.target(), strconv.FormatBool(x.holds)})
	}
	return writeCSV(filepath.Join(dir, "paper.csv"), rows)
}

// paperMarkdown is the report's table of the paper's figures beside
// apron's.
func paperMarkdown(p *Paper, baseline string, results []paperResult) string {
	if len(results) == 0 {
		return ""
	}
	var ests []Estimate
	swept := false // a column for the sweep point, if there is one
	for _, x := range results {
		ests = append(ests, x.est)
		swept = swept || x.point != ""
	}
	cell := func(point string) string {
		if swept {
			return " " + point + " |"
		}
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nAgainst the paper (%s), %s over %s:\n\n| figure |%s paper | %s | target | holds |\n|---|%s---|---|---|---|\n",
		p.Source, p.Variant, baseline, cell("point"), estimateHeader("apron", ests), strings.Repeat("---|", len(cell(""))/2))
	for _, x := range results {
		fmt.Fprintf(&b, "| %s |%s %s | %s | %s | %s |\n", x.row.Name, cell(x.point), short(x.row.Value), pm(x.est), x.row.target(), yesNo(x.holds))
	}
	return b.String()
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// paperFigure draws the paper's figures beside apron's: a panel per
// metric, a group per row, the paper's figure as a diamond and apron's
// (per sweep point) as a dot with its 95% confidence interval; the rows
// whose target apron's misses are named in the caption.
func paperFigure(p *Paper, baseline string, results []paperResult) (*figure, error) {
	if len(results) == 0 {
		return nil, nil
	}
	f := &figure{notes: []string{fmt.Sprintf("The paper's figures (%s) beside apron's, %s over %s: mean over seeds ± 95%% CI. Speedup: the sum of job completion times under %s over that under %s, of the jobs both completed; utilization gain: the mean share in use under %s less that under %s.",
		p.Source, p.Variant, baseline, baseline, p.Variant, p.Variant, baseline)}}
	var missed []string
	for _, x := range results {
		if !x.holds {
			missed = append(missed, fmt.Sprintf("%s (%s; apron %s)", x.row.Name, x.row.target(), short(x.est.Mean)))
		}
	}
	if len(missed) > 0 {
		f.notes = append(f.notes, "Targets missed: "+strings.Join(missed, ", ")+".")
	} else {
		f.notes = append(f.notes, "Every target holds.")
	}
	for _, m := range paperMetrics {
		var rows []PaperRow
		var points []string
		for _, x := range results {
			if x.row.Metric != m {
				continue
			}
			if !slices.ContainsFunc(rows, func(r PaperRow) bool { return r.Name == x.row.Name }) {
				rows = append(rows, x.row)
			}
			if !slices.Contains(points, x.point) {
				points = append(points, x.point)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p, keys, err := paperPanel(m, rows, points, results)
		if err != nil {
			return nil, err
		}
		f.panels = append(f.panels, p)
		if len(f.keys) == 0 {
			f.keys = keys
		}
	}
	return f, nil
}

// paperPanel draws one metric's rows.
func paperPanel(m string, rows []PaperRow, points []string, results []paperResult) (*plot.Plot, []key, error) {
	ylabel := map[string]string{"speedup": "speedup (×)", "utilization_gain": "utilization gain"}[m]
	p := newPlot(strings.ReplaceAll(m, "_", " ")+": the paper's and apron's", "", ylabel)
	var paper, tolerated errPoints
	for i, r := range rows {
		paper = append(paper, errPoint{x: float64(i), y: r.Value})
		if tol := r.Within.V; r.Within.Relative {
			tolerated = append(tolerated, errPoint{x: float64(i), y: r.Value, e: tol * math.Abs(r.Value)})
		} else if tol > 0 {
			tolerated = append(tolerated, errPoint{x: float64(i), y: r.Value, e: tol})
		}
	}
	sc, err := plotter.NewScatter(paper)
	if err != nil {
		return nil, nil, err
	}
	grey := color.Gray{Y: 80}
	sc.GlyphStyle = draw.GlyphStyle{Color: grey, Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
	keys := []key{{"paper", sc}}
	if len(tolerated) > 0 {
		band, err := plotter.NewYErrorBars(tolerated)
		if err != nil {
			return nil, nil, err
		}
		band.Color, band.Width, band.CapWidth = grey, vg.Points(0.8), vg.Points(10)
		band.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(band)
		keys = append(keys, key{"tolerance", &plotter.Line{LineStyle: band.LineStyle}})
	}
	p.Add(sc)
	for k, pt := range points {
		var pts errPoints
		off := 0.2 * float64(k+1) / float64(len(points))
		for _, x := range results {
			if i := slices.IndexFunc(rows, func(r PaperRow) bool { return r.Name == x.row.Name }); i >= 0 && x.row.Metric == m && x.point == pt && !math.IsNaN(x.est.Mean) {
				pts = append(pts, errPoint{x: float64(i) + off, y: x.est.Mean, e: x.est.CI95})
			}
		}
		if len(pts) == 0 {
			continue
		}
		dots, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, nil, err
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(k), Radius: vg.Points(4), Shape: plotutil.Shape(k)}
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, nil, err
		}
		eb.Color, eb.Width, eb.CapWidth = plotutil.Color(k), vg.Points(1.5), vg.Points(6)
		p.Add(eb, dots)
		keys = append(keys, key{strings.TrimSpace("apron " + pt), dots})
	}
	ref := 1.0
	if m == "utilization_gain" {
		ref = 0
	}
	line := plotter.NewFunction(func(float64) float64 { return ref })
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	p.X.Min, p.X.Max = -0.5, float64(len(rows))-0.5
	p.Y.Min = min(p.Y.Min, ref)
	p.Y.Max = max(p.Y.Max, ref) * 1.1
	return p, keys, nil
}
