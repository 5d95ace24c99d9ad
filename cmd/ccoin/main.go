// Command ccoin is the single ccoin binary: node, registry, wallet and tools.
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
	"syscall"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/node"
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(errOut, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
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

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
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

// oneArg parses flags followed by exactly one positional argument.
func oneArg(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", errUsage
	}
	return fs.Arg(0), nil
}

func newLogger(name, level string, json bool) hclog.Logger {
	if level == "" {
		level = "info"
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.LevelFromString(level), JSONFormat: json, Output: os.Stderr})
}
