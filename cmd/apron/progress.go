package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows long work: a bar on a terminal, a plain line every few
// seconds otherwise.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	last  time.Time
	every time.Duration
}

// newProgress reports on w; total is the amount of work (0 if unknown).
func newProgress(w io.Writer, what string, total int64) *progress {
	p := &progress{w: w, every: 5 * time.Second, last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		max := total
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	return p
}

// update sets the done amount and the line of detail.
func (p *progress) update(done int64, detail string) {
	if p.bar != nil {
		p.bar.Describe(detail)
		_ = p.bar.Set64(done)
		return
	}
	if time.Since(p.last) >= p.every {
		p.last = time.Now()
		fmt.Fprintln(p.w, detail)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
