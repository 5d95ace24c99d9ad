package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"ccoin/node"
)

// command is one subcommand; run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

func commands() []command {
	return []command{
		{"create-account", "create an RSA-2048 account key in the data directory", runCreateAccount},
		{"genesis", "write a genesis file naming the validators and funded accounts, stamped now", runGenesis},
		{"initc", "build the genesis block and initial state from genesis.json", runInitc},
		{"cnode", "run a validator or basic node", runCnode},
		{"discovery", "run the discovery registry", runDiscovery},
		{"devnet", "create (once) and run a local network: registry, validators, basic nodes", runDevnet},
		{"bench", "load-test nodes: fund senders, pre-sign, submit, measure inclusion and finality", runBench},
		{"send", "sign a transfer locally and submit it to a node", runSend},
		{"balance", "show an account's balance and nonce", runBalance},
		{"tx", "show a transaction and its status", runTx},
		{"status", "show a node's status", runStatus},
		{"verify-account", "fetch an account proof from a node and verify it against genesis.json", runVerifyAccount},
		{"snapshot", "export or import the state at a finalized block (snapshot export|import)", runSnapshot},
		{"healthcheck", "probe a health URL and fail unless it answers 200 (container health checks)", runHealthcheck},
		{"dumpconfig", "print the effective node configuration as JSON", runDumpConfig},
		{"version", "print the version", runVersion},
	}
}

// errUsage marks errors whose message is the usage text already printed.
var errUsage = errors.New("usage")

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, out, errOut io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		usage(errOut, cmds)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(out, cmds)
		return 0
	case "help": // "ccoin help cnode" is "ccoin cnode --help"
		if len(args) == 1 {
			usage(out, cmds)
			return 0
		}
		args = []string{args[1], "--help"}
	case "-version", "--version":
		args = []string{"version"}
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		ctx, stop := signalContext()
		defer stop()
		err := c.run(ctx, args[1:], out)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(errOut, "ccoin %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(errOut, "ccoin: unknown command %q\n\n", args[0])
	usage(errOut, cmds)
	return 2
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: ccoin <command> [flags]\n\ncommands:")
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nrun 'ccoin <command> -h' for its flags")
}

// signalContext is cancelled by the first SIGINT/SIGTERM; a second one is
// acknowledged and ends the process at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			fmt.Fprintf(os.Stderr, "received %s, shutting down (send again to exit immediately)\n", s)
			cancel()
		case <-ctx.Done():
			return
		}
		if s, ok := <-ch; ok {
			fmt.Fprintf(os.Stderr, "received %s again, exiting now\n", s)
			os.Exit(130)
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// newFlags makes a FlagSet whose errors are returned, not printed-and-exit.
func newFlags(name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ccoin %s %s\n", name, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags given before, between or after the positional
// arguments, and returns the positional ones; "--" ends the flags. On a bad
// flag the flag package has printed the error line and the usage. -h, -help
// and --help print the usage, even where -h is a flag of its own (discovery's
// host): there it means help only when no value follows it.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if helpWanted(fs, args) {
			fs.Usage()
			return nil, flag.ErrHelp
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// helpWanted reports a help flag among args, for a FlagSet that defines -h
// itself (the flag package handles the others): a trailing -h, or one
// followed by another flag, has no value, so it asks for help.
func helpWanted(fs *flag.FlagSet, args []string) bool {
	if fs.Lookup("h") == nil {
		return false
	}
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-help" || a == "--help":
			return true
		case a == "-h" || a == "--h":
			if i+1 == len(args) || strings.HasPrefix(args[i+1], "-") {
				return true
			}
		}
	}
	return false
}

// parse parses a command that takes flags only.
func parse(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprintf(fs.Output(), "ccoin %s: unexpected argument %q (this command takes only flags)\n", fs.Name(), pos[0])
		fs.Usage()
		return errUsage
	}
	return nil
}

// nArgs parses flags around exactly len(names) positional arguments.
func nArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != len(names) {
		switch {
		case len(pos) < len(names):
			fmt.Fprintf(fs.Output(), "ccoin %s: missing %s\n", fs.Name(), strings.Join(names[len(pos):], " "))
		default:
			fmt.Fprintf(fs.Output(), "ccoin %s: unexpected argument %q\n", fs.Name(), pos[len(names)])
		}
		fs.Usage()
		return nil, errUsage
	}
	return pos, nil
}

// loadConfig reads the node config (none: defaults) and resolves the data
// directory, --datadir winning over app.base_path.
func loadConfig(cfgPath, datadir string) (*node.Config, string, error) {
	cfg, err := node.LoadConfig(cfgPath)
	if err != nil {
		return nil, "", err
	}
	dir, err := cfg.DataDir(datadir)
	return cfg, dir, err
}

// oneArg parses flags around exactly one positional argument, named in
// error messages.
func oneArg(fs *flag.FlagSet, args []string, name string) (string, error) {
	pos, err := nArgs(fs, args, name)
	if err != nil {
		return "", err
	}
	return pos[0], nil
}

func newLogger(name, level string, json bool) hclog.Logger {
	if level == "" {
		level = "info"
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.LevelFromString(level), JSONFormat: json, Output: os.Stderr})
}
