package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"

	"ccoin/ccoin/sim"
)

func main() { os.Exit(run()) }

// run is main with an exit code, so deferred work (the profile) finishes.
func run() int {
	var (
		seeds    = flag.Int("seeds", 100, "number of schedules to run")
		first    = flag.Uint64("first", 1, "first seed of the sweep")
		seed     = flag.Uint64("seed", 0, "replay this one seed with a trace (0: sweep)")
		keep     = flag.String("keep", "", "with -seed: keep only these fault indexes (comma-separated, or 'none')")
		finality = flag.String("finality", "majority", "genesis finality: majority or two_thirds")
		minV     = flag.Int("min-validators", 3, "fewest validators")
		maxV     = flag.Int("max-validators", 7, "most validators")
		slots    = flag.Uint64("slots", 300, "sealing slots per schedule")
		broken   = flag.String("broken", "", "plant a known bug the simulator must catch: quorum, forget-votes")
		byz      = flag.Bool("byzantine", false, "with -finality two_thirds: up to f validators equivocate, double-vote and surround-vote")
		workers  = flag.Int("workers", runtime.GOMAXPROCS(0), "schedules run in parallel")
		quiet    = flag.Bool("q", false, "with -seed: no trace, only the result")
		cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	)
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		// A schedule allocates a lot of short-lived memory (memtables,
		// decoded blocks and votes) and keeps little: collecting a quarter
		// as often costs some memory and saves about a tenth of the CPU.
		debug.SetGCPercent(400)
	}
	if *cpuprof != "" {
		stop, err := startProfile(*cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ccoin-sim:", err)
			os.Exit(2)
		}
		defer stop()
	}
	sh := sim.DefaultShape
	sh.Finality, sh.MinValidators, sh.MaxValidators, sh.Slots, sh.Byzantine = *finality, *minV, *maxV, *slots, *byz
	opts := sim.Options{Broken: *broken}
	if *seed != 0 {
		return replay(*seed, *keep, sh, opts, *quiet)
	}
	sum, err := sim.Sweep(*first, *seeds, sh, opts, *workers, 5)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ccoin-sim:", err)
		return 2
	}
	sum.Report(os.Stdout)
	if sum.Violations+sum.LivenessFailures > 0 {
		return 1
	}
	return 0
}

// startProfile starts a CPU profile written to path; stop ends it.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func replay(seed uint64, keep string, sh sim.Shape, opts sim.Options, quiet bool) int {
	s := sim.Generate(seed, sh)
	if keep != "" {
		var idx []int
		if keep != "none" {
			for _, f := range strings.Split(keep, ",") {
				i, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					fmt.Fprintf(os.Stderr, "ccoin-sim: -keep %q: %v\n", keep, err)
					return 2
				}
				idx = append(idx, i)
			}
		}
		s = s.Keep(idx)
	}
	fmt.Print(s.String())
	if !quiet {
		opts.Trace = os.Stdout
	}
	r, err := sim.Run(s, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ccoin-sim:", err)
		return 2
	}
	for _, v := range r.Violations {
		fmt.Println("VIOLATION", v)
	}
	for _, l := range r.Liveness {
		fmt.Println("LIVENESS", l)
	}
	fmt.Printf("seed %d: %d blocks sealed, lowest final height %d, %d violations, %d liveness failures, %.2fs, trace %016x\n",
		seed, r.Blocks, r.Final, len(r.Violations), len(r.Liveness), r.Elapsed.Seconds(), r.Trace)
	if r.Failed() {
		return 1
	}
	return 0
}
