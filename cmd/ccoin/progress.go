package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// interactive returns stderr when it is a terminal, for a drawn progress
// bar, and nil otherwise (a pipe, a log file, CI), where lines read better.
func interactive() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}

// progress reports how many accounts a long command has done: as a bar on
// bar when it is set, else as lines on out at most once a second. total is
// zero while unknown (an export learns its size only at the end), which
// draws a spinner with the count and rate instead of a bar.
type progress struct {
	out, barW io.Writer
	verb      string
	bar       *progressbar.ProgressBar
	start     time.Time
	last      time.Time
	done      uint64
	total     uint64
}

func newProgress(out, bar io.Writer, verb string) *progress {
	return &progress{out: out, barW: bar, verb: verb, start: time.Now()}
}

// Update records done of total accounts.
func (p *progress) Update(done, total uint64) {
	p.done, p.total = done, total
	if p.barW != nil {
		if p.bar == nil {
			size := int64(total)
			if total == 0 {
				size = -1 // unknown: a spinner
			}
			p.bar = progressbar.NewOptions64(size,
				progressbar.OptionSetWriter(p.barW),
				progressbar.OptionSetDescription(p.verb),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("accounts"),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(total > 0),
				progressbar.OptionFullWidth(),
			)
		}
		_ = p.bar.Set64(int64(done)) // a failed write to the terminal only loses the bar
		return
	}
	if time.Since(p.last) < time.Second && (total == 0 || done < total) {
		return
	}
	p.last = time.Now()
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3)
	if total > 0 {
		fmt.Fprintf(p.out, "%s %d/%d accounts (%.0f%%, %.0f/s)\n", p.verb, done, total, 100*float64(done)/float64(total), rate)
	} else {
		fmt.Fprintf(p.out, "%s %d accounts (%.0f/s)\n", p.verb, done, rate)
	}
}

// Finish completes the bar (or prints the last line) so that the result
// line the command prints next starts on a clean line.
func (p *progress) Finish() {
	if p.bar == nil {
		if p.done > 0 && p.total == 0 { // the last count may have been throttled
			p.last = time.Time{}
			p.Update(p.done, p.done)
		}
		return
	}
	_ = p.bar.Finish()
	fmt.Fprintln(p.barW)
}
