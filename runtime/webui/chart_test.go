package webui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/master"
)

// Each legend entry is in its series' colour (the stroke of its line), and
// the legend is there before there are enough samples to draw lines.
func TestChartLegendInTheSeriesColours(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	total := map[string]float64{"cpus": 4, "mem": 4096, "gpus": 1}
	var samples []master.Sample
	for i := range 3 {
		samples = append(samples, master.Sample{Time: t0.Add(time.Duration(i) * time.Minute), Total: total, Used: map[string]float64{"cpus": float64(i)}})
	}
	svg := string(utilizationChart(samples))
	stroke := map[string]string{}
	for _, m := range regexp.MustCompile(`<polyline [^>]*stroke="(#[0-9a-f]{6})"[^>]*data-series="([^"]+)"`).FindAllStringSubmatch(svg, -1) {
		stroke[m[2]] = m[1]
	}
	legend := regexp.MustCompile(`<g class="legend" data-series="([^"]+)"><rect [^>]*fill="(#[0-9a-f]{6})"/><text [^>]*style="fill:(#[0-9a-f]{6})">([^<]+)</text></g>`).FindAllStringSubmatch(svg, -1)
	if len(stroke) != 3 || len(legend) != 3 {
		t.Fatalf("%d lines and %d legend entries, want 3 of each:\n%s", len(stroke), len(legend), svg)
	}
	seen := map[string]bool{}
	for _, l := range legend {
		name, swatch, text := l[1], l[2], l[3]
		if stroke[name] == "" || swatch != stroke[name] || text != stroke[name] || l[4] != name {
			t.Errorf("legend %q: swatch %s, text %s; its line is %q", name, swatch, text, stroke[name])
		}
		seen[stroke[name]] = true
	}
	if len(seen) != 3 {
		t.Errorf("the series share colours: %v", stroke)
	}
	early := string(utilizationChart(samples[:1]))
	if !strings.Contains(early, "collecting samples") || strings.Count(early, `class="legend"`) != 3 {
		t.Errorf("with one sample, want the legend and 'collecting samples':\n%s", early)
	}
}
