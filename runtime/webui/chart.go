package webui

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/apronlab/apron/runtime/master"
)

// Charts are inline SVG drawn on the server: no script library, readable
// by the browser's own zoom, a title and a description for screen readers.

const chartW, chartH, pad = 640.0, 160.0, 28.0

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

type line struct {
	name string
	ys   []float64 // 0..1
}

// utilizationChart draws the used share of each resource over the samples.
func utilizationChart(samples []master.Sample) template.HTML {
	names := map[string]bool{}
	for _, s := range samples {
		for n := range s.Total {
			names[n] = true
		}
	}
	var lines []line
	for _, n := range sortedNames(names) {
		l := line{name: n + " used"}
		for _, s := range samples {
			y := 0.0
			if s.Total[n] > 0 {
				y = s.Used[n] / s.Total[n]
			}
			l.ys = append(l.ys, y)
		}
		lines = append(lines, l)
	}
	return chart("Cluster utilization, last hour", "share of each resource used by tasks", samples, lines)
}

// shareChart draws a framework's dominant share over the samples.
func shareChart(samples []master.Sample, fw string) template.HTML {
	l := line{name: "dominant share"}
	for _, s := range samples {
		l.ys = append(l.ys, s.Shares[fw])
	}
	return chart("Dominant share, last hour", "the framework's dominant share of the cluster", samples, []line{l})
}

func sortedNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func chart(title, desc string, samples []master.Sample, lines []line) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="ct cd"><title id="ct">%s</title><desc id="cd">%s</desc>`,
		chartW, chartH+pad, template.HTMLEscapeString(title), template.HTMLEscapeString(desc))
	for _, y := range []float64{0, 0.5, 1} {
		py := chartH - y*(chartH-pad) - 4
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" class="grid"/><text x="0" y="%.1f" class="axis">%d%%</text>`, pad+12, py, chartW, py, py+4, int(y*100))
	}
	// The legend, each name in its line's colour after a swatch of it.
	for i, l := range lines {
		c, x, y := palette[i%len(palette)], pad+12+float64(i)*130, chartH+pad-6
		fmt.Fprintf(&b, `<g class="legend" data-series="%s"><rect x="%g" y="%g" width="14" height="4" fill="%s"/><text x="%g" y="%g" style="fill:%s">%s</text></g>`,
			template.HTMLEscapeString(l.name), x, y-5, c, x+18, y, c, template.HTMLEscapeString(l.name))
	}
	if len(samples) > 1 {
		t0, t1 := samples[0].Time, samples[len(samples)-1].Time
		span := t1.Sub(t0)
		for i, l := range lines {
			var pts []string
			for k, y := range l.ys {
				x := pad + 12 + (chartW-pad-12)*float64(samples[k].Time.Sub(t0))/float64(max(span, time.Nanosecond))
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, chartH-y*(chartH-pad)-4))
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" data-series="%s"/>`, strings.Join(pts, " "), palette[i%len(palette)], template.HTMLEscapeString(l.name))
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" class="axis" text-anchor="end">%s</text>`, chartW, chartH+pad-6, "last "+span.Round(time.Second).String())
	} else {
		fmt.Fprintf(&b, `<text x="%g" y="%g" class="axis">collecting samples…</text>`, pad+20, chartH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
