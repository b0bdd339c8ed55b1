package experiments

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// tidyTicks marks an axis as gonum's tickers do, with labels that carry no
// spurious decimals: on a linear axis every label has the fewest decimals
// that write all the labelled ticks exactly (250, not 250.00; 0.25 and
// 0.50 together); on a log axis each power of ten has its own (0.1, 1,
// 10). Digits group by thousands from 10,000.
type tidyTicks struct{ log bool }

// maxDecimals bounds the decimals of a tick label.
const maxDecimals = 6

func (t tidyTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if t.log {
		ticks = logTicks(lo, hi)
	} else {
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	var labelled []float64
	for _, tk := range ticks {
		if tk.Label != "" {
			labelled = append(labelled, tk.Value)
		}
	}
	common := decimals(labelled...)
	for i, tk := range ticks {
		if tk.Label == "" {
			continue
		}
		d := common
		if t.log {
			d = decimals(tk.Value)
		}
		ticks[i].Label = tickLabel(tk.Value, d)
	}
	return ticks
}

// logTicks marks 1 to 9 times each power of ten in [lo, hi], labelling the
// powers (as gonum's LogTicks, which loses a decade to rounding: 0.1).
func logTicks(lo, hi float64) []plot.Tick {
	const eps = 1e-9
	var ticks []plot.Tick
	for e := decade(lo); math.Pow10(e) <= hi*(1+eps); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow10(e)
			if v < lo*(1-eps) || v > hi*(1+eps) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = "x" // labelled below
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// decade is the exponent of the power of ten at or under x > 0.
func decade(x float64) int { return int(math.Floor(math.Log10(x) + 1e-9)) }

// decimals is the fewest decimals that write every value exactly, to
// rounding error; -1 if maxDecimals do not.
func decimals(vs ...float64) int {
	for d := 0; d <= maxDecimals; d++ {
		p := math.Pow10(d)
		exact := true
		for _, v := range vs {
			if math.Abs(math.Round(v*p)/p-v) > 1e-9*max(1, math.Abs(v)) {
				exact = false
				break
			}
		}
		if exact {
			return d
		}
	}
	return -1
}

// tickLabel writes v with d decimals (d -1: four significant figures),
// grouping the digits of whole numbers from 10,000 by thousands.
func tickLabel(v float64, d int) string {
	if d < 0 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.Trim(s, "-0.") == "" { // no "-0"
		return strings.TrimPrefix(s, "-")
	}
	if d > 0 || math.Abs(v) < 10000 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
