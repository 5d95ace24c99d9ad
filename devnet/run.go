package devnet

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
	"ccoin/discovery"
	"ccoin/node"
	"ccoin/web"
)

// Run starts the registry and every node of the devnet in this process,
// each node logging to <datadir>/node.log, and stops them all when ctx
// ends. started is called once every node is serving.
func Run(ctx context.Context, m *Manifest, level string, started func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(m.Nodes)+1)
	go1 := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		})
	}
	dlog, closeLog, err := fileLogger(filepath.Join(filepath.Dir(m.Genesis), "discovery.log"), "discovery", level)
	if err != nil {
		return err
	}
	defer closeLog()
	reg, err := discovery.NewServer(discovery.ServerConfig{
		Addr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(m.DiscoveryPort)),
		StatePath: filepath.Join(filepath.Dir(m.Genesis), "discovery-state.json"),
		// Every node registers from 127.0.0.1, one address.
		MaxPerIP: max(discovery.DefaultMaxPerIP, len(m.Nodes)),
		Logger:   dlog,
	})
	if err != nil {
		return err
	}
	go1("discovery", reg.Run)
	for _, info := range m.Nodes {
		n, closeLog, err := startNode(info, level)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("%s: %w", info.Name, err)
		}
		defer closeLog()
		go1(info.Name, n.Run)
	}
	if started != nil {
		started()
	}
	<-ctx.Done()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

func startNode(info NodeInfo, level string) (*node.Node, func(), error) {
	cfg, err := node.LoadConfig(info.Config)
	if err != nil {
		return nil, nil, err
	}
	addr, err := crypto.ParseAddress(info.Address)
	if err != nil {
		return nil, nil, err
	}
	key, err := crypto.LoadKey(info.DataDir, addr, nil)
	if err != nil {
		return nil, nil, err
	}
	log, closeLog, err := fileLogger(filepath.Join(info.DataDir, "node.log"), info.Name, level)
	if err != nil {
		return nil, nil, err
	}
	n, err := node.New(node.Options{Config: cfg, DataDir: info.DataDir, Type: info.Type, P2PPort: -1, HTTPPort: -1,
		Key: key, Logger: log, Web: web.Handler()})
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	return n, closeLog, nil
}

func fileLogger(path, name, level string) (hclog.Logger, func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	var w io.Writer = f
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.LevelFromString(level), Output: w}), func() { f.Close() }, nil
}
