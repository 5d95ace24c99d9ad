package sim

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Failure is a failing seed with its schedule cut down to the faults it
// needs.
type Failure struct {
	Result    *Result
	Schedule  Schedule // as generated
	Minimal   Schedule // faults dropped while it still fails
	KeptIndex []int    // indexes into Schedule.Faults that Minimal keeps
	Shape     Shape
}

// Summary is what a sweep of seeds found.
type Summary struct {
	Schedules, Violations, LivenessFailures int
	Slowest                                 uint64
	SlowestTime                             time.Duration
	Failures                                []Failure
	Elapsed                                 time.Duration
	FirstFailureAfter                       int // schedules run until the first failure (0: none)
}

// Line is the summary line scripts read.
func (s *Summary) Line() string {
	return fmt.Sprintf("sim: schedules %d, violations %d, liveness-failures %d, slowest-seed %d (%.2fs)",
		s.Schedules, s.Violations, s.LivenessFailures, s.Slowest, s.SlowestTime.Seconds())
}

// Sweep runs seeds first..first+count-1 on `workers` goroutines (each run
// is single-threaded and deterministic) and minimises up to maxMin
// failures.
func Sweep(first uint64, count int, sh Shape, opts Options, workers, maxMin int) (*Summary, error) {
	start := time.Now()
	results := make([]*Result, count)
	errs := make([]error, count)
	var (
		wg   sync.WaitGroup
		next = make(chan int)
	)
	for range max(1, workers) {
		wg.Go(func() {
			for i := range next {
				results[i], errs[i] = Run(Generate(first+uint64(i), sh), opts)
			}
		})
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	sum := &Summary{}
	for i, r := range results {
		if errs[i] != nil {
			return nil, fmt.Errorf("seed %d: %w", first+uint64(i), errs[i])
		}
		sum.Schedules++
		if r.Elapsed > sum.SlowestTime {
			sum.Slowest, sum.SlowestTime = r.Seed, r.Elapsed
		}
		if len(r.Violations) > 0 {
			sum.Violations++
		} else if len(r.Liveness) > 0 {
			sum.LivenessFailures++
		}
		if r.Failed() {
			if sum.FirstFailureAfter == 0 {
				sum.FirstFailureAfter = i + 1
			}
			f := Failure{Result: r, Schedule: Generate(r.Seed, sh), Shape: sh}
			if len(sum.Failures) < maxMin {
				var err error
				if f.Minimal, f.KeptIndex, err = Minimise(f.Schedule, opts, r); err != nil {
					return nil, err
				}
			}
			sum.Failures = append(sum.Failures, f)
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// failsLike reports whether r fails the way want did: a safety or bank
// violation stays one; a liveness failure must stay a liveness failure.
func failsLike(r, want *Result) bool {
	if len(want.Violations) > 0 {
		return len(r.Violations) > 0
	}
	return len(r.Liveness) > 0
}

// Minimise drops faults one at a time, keeping each drop after which the
// run still fails the same way.
func Minimise(s Schedule, opts Options, failed *Result) (Schedule, []int, error) {
	keep := make([]int, len(s.Faults))
	for i := range keep {
		keep[i] = i
	}
	for i := 0; i < len(keep); {
		try := append(append([]int{}, keep[:i]...), keep[i+1:]...)
		r, err := Run(s.Keep(try), opts)
		if err != nil {
			return s, nil, err
		}
		if r.Failed() && failsLike(r, failed) {
			keep = try
			continue
		}
		i++
	}
	return s.Keep(keep), keep, nil
}

// Replay is the one command that replays a failure.
func (f *Failure) Replay() string {
	cmd := fmt.Sprintf("make sim SEED=%d", f.Result.Seed)
	sh, d := f.Shape, DefaultShape
	var flags []string
	if sh.Finality != d.Finality {
		flags = append(flags, "-finality "+sh.Finality)
	}
	if sh.MinValidators != d.MinValidators || sh.MaxValidators != d.MaxValidators {
		flags = append(flags, fmt.Sprintf("-min-validators %d -max-validators %d", sh.MinValidators, sh.MaxValidators))
	}
	if sh.Byzantine {
		flags = append(flags, "-byzantine")
	}
	if sh.Slots != d.Slots {
		flags = append(flags, fmt.Sprintf("-slots %d", sh.Slots))
	}
	if len(flags) > 0 {
		cmd += fmt.Sprintf(" SIMFLAGS=%q", strings.Join(flags, " "))
	}
	if f.KeptIndex != nil && len(f.KeptIndex) < len(f.Schedule.Faults) {
		idx := make([]string, len(f.KeptIndex))
		for i, k := range f.KeptIndex {
			idx[i] = fmt.Sprint(k)
		}
		cmd += " KEEP=" + strings.Join(idx, ",")
		if len(f.KeptIndex) == 0 {
			cmd += "none"
		}
	}
	return cmd
}

// Report writes the summary line and each failure with its replay command
// and minimised schedule.
func (s *Summary) Report(w io.Writer) {
	for i := range s.Failures {
		f := &s.Failures[i]
		r := f.Result
		fmt.Fprintf(w, "FAIL seed %d: ", r.Seed)
		switch {
		case len(r.Violations) > 0:
			fmt.Fprintf(w, "%s\n", r.Violations[0])
		default:
			fmt.Fprintf(w, "liveness: %s\n", r.Liveness[0])
		}
		fmt.Fprintf(w, "  replay: %s\n", f.Replay())
		if f.KeptIndex != nil {
			fmt.Fprintf(w, "  minimised schedule (%d of %d faults):\n", len(f.Minimal.Faults), len(f.Schedule.Faults))
			for _, line := range strings.Split(strings.TrimRight(f.Minimal.String(), "\n"), "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	if s.FirstFailureAfter > 0 {
		fmt.Fprintf(w, "first failure after %d schedules\n", s.FirstFailureAfter)
	}
	fmt.Fprintf(w, "%d schedules in %.1fs (%.0f per minute)\n", s.Schedules, s.Elapsed.Seconds(),
		float64(s.Schedules)/s.Elapsed.Minutes())
	fmt.Fprintln(w, s.Line())
}
