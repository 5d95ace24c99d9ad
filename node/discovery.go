package node

import (
	"context"
	"net"
	"strconv"
	"time"

	"ccoin/discovery"
)

// runDiscovery registers this node with the registry and feeds the peers it
// lists to the network. The registry is only a bootstrap aid: when it is
// down the node keeps working from the peers it knows.
func (n *Node) runDiscovery(ctx context.Context) error {
	url := n.opts.Config.DiscoveryURL()
	if url == "" {
		return nil
	}
	refresh := time.Duration(n.opts.Config.DiscoveryService.RefreshSeconds) * time.Second
	if refresh <= 0 {
		refresh = 30 * time.Second
	}
	c := &discovery.Client{BaseURL: url, Key: n.opts.Key, Logger: n.log.Named("discovery")}
	host, portStr, _ := net.SplitHostPort(n.advertiseAddr())
	port, _ := strconv.Atoi(portStr)
	if host != "" && port > 0 {
		e := discovery.Entry{Host: host, Port: port, NetworkID: n.g.File.NetworkID, ChainID: n.g.ChainID.String(), NodeType: n.opts.Type}
		go c.RunRegistrar(ctx, e, refresh)
	}
	t := n.opts.Clock.NewTicker(refresh)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		peers, err := c.Peers(qctx, 20, n.g.File.NetworkID, n.g.ChainID.String())
		cancel()
		if err != nil {
			n.log.Debug("discovery lookup failed", "error", err)
		}
		for _, p := range peers {
			n.net.AddPeers(p.HostPort())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// advertiseAddr is the address peers should dial: the configured advertise
// host, or the bound address with an unspecified host replaced by loopback.
func (n *Node) advertiseAddr() string {
	host, port, err := net.SplitHostPort(n.net.Addr())
	if err != nil {
		return ""
	}
	if h := n.opts.Config.P2P.AdvertiseHost; h != "" {
		host = h
	} else if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
