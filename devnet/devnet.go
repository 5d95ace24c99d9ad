package devnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/node"
)

// ManifestFile names the devnet manifest inside the directory.
const ManifestFile = "devnet.json"

// FaucetBalance funds the faucet account that wallets and the load
// generator draw from.
const FaucetBalance = 1 << 50

// DefaultMaxBlockBytes is the block size cap of `ccoin devnet`: 8 MiB,
// about 12,900 transfers, room for 10,000 transfers a one-second slot. Blocks
// travel compact, so their size costs the network little; 2 MiB (genesis's
// default) capped the devnet at about 3,200 transfers a second.
const DefaultMaxBlockBytes = 8 << 20

// Options shape a new devnet.
type Options struct {
	Dir        string
	Validators int
	Basic      int
	Interval   float64 // seconds
	BasePort   int     // discovery on BasePort, node i on BasePort+10*i (P2P) and +1 (HTTP)
	// HostTemplate, when set (e.g. "node%d"), lays the network out for
	// containers: node i is reached at that host name on fixed ports, the
	// registry at host "discovery", and the API listens on all interfaces.
	HostTemplate string
	MaxBound     uint64
	// MaxBlockBytes caps a block's encoding (genesis max_block_bytes); 0
	// leaves genesis's default (2 MiB). The command line's devnet passes
	// DefaultMaxBlockBytes.
	MaxBlockBytes uint64
	Difficulty    uint64
	Now           time.Time
}

// NodeInfo is one node in the manifest.
type NodeInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Address  string `json:"address"`
	DataDir  string `json:"datadir"`
	Config   string `json:"config"`
	Host     string `json:"host"`
	P2PPort  int    `json:"p2p_port"`
	HTTPPort int    `json:"http_port"`
	Token    string `json:"token_path"`
}

// Manifest describes a devnet on disk.
type Manifest struct {
	Genesis       string     `json:"genesis"`
	ChainID       string     `json:"chain_id"`
	DiscoveryHost string     `json:"discovery_host"`
	DiscoveryPort int        `json:"discovery_port"`
	FaucetDir     string     `json:"faucet_datadir"`
	Faucet        string     `json:"faucet_address"`
	Nodes         []NodeInfo `json:"nodes"`
}

// URL is the node's API base URL as seen from this machine.
func (n NodeInfo) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.HTTPPort) }

// Load reads an existing manifest.
func Load(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	return &m, nil
}

// Init creates a new devnet in an empty (or missing) directory.
func Init(o Options) (*Manifest, error) {
	if o.Validators < 1 || o.Validators > 32 || o.Basic < 0 || o.Basic > 32 {
		return nil, errors.New("devnet: 1-32 validators and 0-32 basic nodes")
	}
	if o.Interval <= 0 {
		o.Interval = 1
	}
	if o.MaxBound == 0 {
		o.MaxBound = 20000
	}
	if o.BasePort == 0 {
		o.BasePort = 7100
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if _, err := os.Stat(filepath.Join(o.Dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("devnet: %s already holds a devnet", o.Dir)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	m := &Manifest{DiscoveryHost: "127.0.0.1", DiscoveryPort: o.BasePort, FaucetDir: filepath.Join(o.Dir, "faucet")}
	if o.HostTemplate != "" {
		m.DiscoveryHost, m.DiscoveryPort = "discovery", 4444
	}
	faucet, err := newKey(m.FaucetDir)
	if err != nil {
		return nil, err
	}
	m.Faucet = faucet.String()

	f := genesis.File{NetworkID: 1337, Timestamp: uint64(o.Now.Unix())}
	f.BlockMining = genesis.BlockMining{Interval: o.Interval, MaxBound: o.MaxBound, MinBound: 0, Reward: 100,
		Difficulty: o.Difficulty, AllowEmpty: true, MaxBlockBytes: o.MaxBlockBytes}
	f.GenesisBlock.Difficulty = o.Difficulty
	f.MaxPeers = 32
	f.Alloc = map[string]genesis.Alloc{m.Faucet: {Balance: FaucetBalance}}
	total := o.Validators + o.Basic
	for i := 1; i <= total; i++ {
		typ := node.TypeValidator
		if i > o.Validators {
			typ = node.TypeBasic
		}
		n := NodeInfo{Name: fmt.Sprintf("node%d", i), Type: typ, DataDir: filepath.Join(o.Dir, fmt.Sprintf("node%d", i))}
		addr, err := newKey(n.DataDir)
		if err != nil {
			return nil, err
		}
		n.Address = addr.String()
		if o.HostTemplate != "" {
			n.Host, n.P2PPort, n.HTTPPort = fmt.Sprintf(o.HostTemplate, i), 7000, 7001
		} else {
			n.Host, n.P2PPort = "127.0.0.1", o.BasePort+10*i
			n.HTTPPort = n.P2PPort + 1
		}
		n.Config = filepath.Join(n.DataDir, "ccoin.json")
		n.Token = node.TokenPath(n.DataDir)
		if typ == node.TypeValidator {
			f.Miners = append(f.Miners, n.Address)
		}
		f.Alloc[n.Address] = genesis.Alloc{Balance: 1_000_000}
		m.Nodes = append(m.Nodes, n)
	}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		return nil, err
	}
	m.Genesis = filepath.Join(o.Dir, "genesis.json")
	m.ChainID = g.ChainID.String()
	if err := os.WriteFile(m.Genesis, append(raw, '\n'), 0o644); err != nil {
		return nil, err
	}
	for i, n := range m.Nodes {
		if err := writeNodeConfig(m, i, o.HostTemplate != ""); err != nil {
			return nil, err
		}
		if err := initChain(n.DataDir, g, raw); err != nil {
			return nil, err
		}
	}
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Dir, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

func newKey(datadir string) (crypto.Address, error) {
	k, err := crypto.GenerateKey()
	if err != nil {
		return crypto.Address{}, err
	}
	if _, err := crypto.SaveKey(datadir, k, nil); err != nil {
		return crypto.Address{}, err
	}
	return k.Address(), nil
}

// writeNodeConfig writes node i's ccoin.json: every other node is a
// bootstrap peer, so the network forms even with the registry down.
func writeNodeConfig(m *Manifest, i int, containers bool) error {
	n := m.Nodes[i]
	c := node.DefaultConfig()
	c.App.BasePath = n.DataDir
	c.Client.AccountAddress = n.Address
	c.DiscoveryService.Host, c.DiscoveryService.Port = m.DiscoveryHost, m.DiscoveryPort
	c.DiscoveryService.RefreshSeconds = 10
	c.P2P.Host, c.P2P.Port, c.P2P.AdvertiseHost = "127.0.0.1", n.P2PPort, n.Host
	c.HTTP.Port = n.HTTPPort
	c.P2P.MaxFrameBytes = 32 << 20
	c.HTTP.MaxBodyBytes = 16 << 20
	c.Log.Level = "info"
	if containers {
		c.App.BasePath = "/data"
		c.P2P.Host, c.HTTP.Host = "0.0.0.0", "0.0.0.0"
	}
	for j, o := range m.Nodes {
		if j != i {
			c.P2P.BootstrapPeers = append(c.P2P.BootstrapPeers, fmt.Sprintf("%s:%d", o.Host, o.P2PPort))
		}
	}
	data, _ := json.MarshalIndent(c, "", "  ")
	return os.WriteFile(n.Config, append(data, '\n'), 0o644)
}

func initChain(dir string, g *genesis.Genesis, raw []byte) error {
	db, err := chain.OpenDB(node.ChainDir(dir))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = chain.Init(db, g, raw)
	return err
}
