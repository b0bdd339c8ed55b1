package experiments

import (
	"image/color"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// figure is a column of panels with one legend, drawn outside the panels
// so that it never covers data, and a caption under them.
type figure struct {
	panels []*plot.Plot
	keys   []key    // the legend
	notes  []string // the caption, a paragraph each
}

// key is a legend entry.
type key struct {
	name  string
	thumb plot.Thumbnailer
}

// The figure's measures: width, the height of a panel, the padding around
// and between the panels, the gap between a panel and its legend, and the
// widest legend drawn beside the panels rather than under them.
const (
	figWidth     = 16 * vg.Centimeter
	panelHeight  = 7 * vg.Centimeter
	figPad       = 2 * vg.Millimeter
	legendGap    = 4 * vg.Millimeter
	legendBeside = 4 * vg.Centimeter
)

var (
	legendFont  = font.From(plot.DefaultFont, 11)
	captionFont = font.From(plot.DefaultFont, 10)
)

func textStyle(f font.Font) text.Style {
	return text.Style{Font: f, Handler: plot.DefaultTextHandler, Color: color.Black}
}

// legend returns a plot legend of the keys.
func legend(keys []key) *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = textStyle(legendFont)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(2)
	for _, k := range keys {
		l.Add(k.name, k.thumb)
	}
	return &l
}

// layout is where the parts of a figure go.
type layout struct {
	height       vg.Length
	beside       bool      // the legend beside the panels, else under them
	legendW      vg.Length // the legend's width beside the panels
	rows         [][]key   // the legend's rows under the panels
	rowH         vg.Length // the height of a legend row
	caption      []string  // the caption's lines
	captionLineH vg.Length // the height of a caption line
	bottom       vg.Length // the height under the panels: legend and caption
}

func (f *figure) layout() layout {
	var lo layout
	if len(f.keys) > 0 {
		l := legend(f.keys)
		r := l.Rectangle(draw.Canvas{})
		lo.legendW = r.Max.X - r.Min.X
		lo.beside = lo.legendW <= legendBeside
		if !lo.beside {
			lo.rows, lo.rowH = legendRows(f.keys, figWidth-2*figPad)
			lo.bottom += vg.Length(len(lo.rows))*lo.rowH + figPad
		}
	}
	cs := textStyle(captionFont)
	lo.captionLineH = cs.Rectangle("Xg").Size().Y * 1.2
	for _, n := range f.notes {
		lo.caption = append(lo.caption, wrap(n, cs, figWidth-2*figPad)...)
	}
	lo.bottom += vg.Length(len(lo.caption)) * lo.captionLineH
	lo.height = vg.Length(len(f.panels))*panelHeight + lo.bottom
	return lo
}

// legendRows lays keys out in rows of at most width.
func legendRows(keys []key, width vg.Length) ([][]key, vg.Length) {
	var rows [][]key
	var used, rowH vg.Length
	for _, k := range keys {
		r := legend([]key{k}).Rectangle(draw.Canvas{})
		w := r.Max.X - r.Min.X + legendGap
		rowH = max(rowH, r.Max.Y-r.Min.Y)
		if len(rows) == 0 || used+w > width {
			rows, used = append(rows, nil), 0
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], k)
		used += w
	}
	return rows, rowH * 1.3
}

// wrap breaks a paragraph into lines of at most width.
func wrap(par string, sty text.Style, width vg.Length) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(par) {
		next := w
		if line != "" {
			next = line + " " + w
		}
		if line != "" && sty.Width(next) > width {
			lines, next = append(lines, line), w
		}
		line = next
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// placed is a legend (of one key or all) and the canvas it draws in, at
// its top left.
type placed struct {
	keys []key
	in   draw.Canvas
}

// arrange lays the figure out on dc: a canvas per panel, and the legends
// beside or under them.
func (f *figure) arrange(dc draw.Canvas, lo layout) ([]draw.Canvas, []placed) {
	tiles := draw.Tiles{Rows: len(f.panels), Cols: 1, PadTop: figPad, PadBottom: figPad,
		PadLeft: figPad, PadRight: 2 * figPad, PadX: 6 * vg.Millimeter, PadY: 6 * vg.Millimeter}
	if lo.beside {
		tiles.PadRight = lo.legendW + legendGap + figPad
	}
	grid := make([][]*plot.Plot, len(f.panels))
	for i, p := range f.panels {
		grid[i] = []*plot.Plot{p}
	}
	var panels []draw.Canvas
	for _, row := range plot.Align(grid, tiles, draw.Crop(dc, 0, 0, lo.bottom, 0)) {
		panels = append(panels, row[0])
	}
	if len(f.keys) == 0 {
		return panels, nil
	}
	at := func(x, top vg.Length) draw.Canvas {
		return draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: dc.Min.Y}, Max: vg.Point{X: dc.Max.X, Y: top}}}
	}
	data := f.panels[0].DataCanvas(panels[0])
	if lo.beside { // level with the top of the first panel's data
		return panels, []placed{{f.keys, at(dc.Max.X-figPad-lo.legendW, data.Max.Y)}}
	}
	var legends []placed
	y := dc.Min.Y + lo.bottom - figPad
	for _, row := range lo.rows {
		x := data.Min.X
		for _, k := range row {
			legends = append(legends, placed{[]key{k}, at(x, y)})
			r := legend([]key{k}).Rectangle(draw.Canvas{})
			x += r.Max.X - r.Min.X + legendGap
		}
		y -= lo.rowH
	}
	return panels, legends
}

// draw draws the figure on a canvas of figWidth by lo.height.
func (f *figure) draw(dc draw.Canvas, lo layout) {
	panels, legends := f.arrange(dc, lo)
	for i, p := range f.panels {
		p.Draw(panels[i])
	}
	for _, l := range legends {
		legend(l.keys).Draw(l.in)
	}
	cs := textStyle(captionFont)
	y := dc.Min.Y + vg.Length(len(lo.caption))*lo.captionLineH
	for _, line := range lo.caption {
		y -= lo.captionLineH
		dc.FillText(cs, vg.Point{X: dc.Min.X + figPad, Y: y + cs.FontExtents().Descent}, line)
	}
}

// save writes the figure as PNG and SVG, one file per format.
func (f *figure) save(base string, formats []string) error {
	lo := f.layout()
	for _, format := range formats {
		var c vg.CanvasWriterTo
		switch format {
		case "png":
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figWidth, lo.height), vgimg.UseDPI(150), vgimg.UseBackgroundColor(color.White))}
		case "svg":
			c = vgsvg.New(figWidth, lo.height)
		}
		f.draw(draw.New(c), lo)
		file, err := os.Create(base + "." + format)
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
