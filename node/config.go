package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ccoin/ccoin/jsonpos"
)

// ErrConfig is the kind of every configuration error.
var ErrConfig = errors.New("invalid configuration")

// Config mirrors ccoin.json: the prototype's sections (app, client,
// discovery_service) plus p2p, http and log.
type Config struct {
	// Doc holds explanations of the fields (ccoin.json.example uses it); ignored.
	Doc map[string]string `json:"_doc,omitempty"`
	App struct {
		BasePath string `json:"base_path"`
	} `json:"app"`
	Client struct {
		AccountAddress string `json:"account_address"`
		PasswordFile   string `json:"password_file,omitempty"`
	} `json:"client"`
	DiscoveryService struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Proto    string `json:"proto"`
		Disabled bool   `json:"disabled,omitempty"`
		// Seconds between re-registrations.
		RefreshSeconds int `json:"refresh_seconds,omitempty"`
	} `json:"discovery_service"`
	P2P struct {
		Host           string   `json:"host,omitempty"`
		Port           int      `json:"port,omitempty"`
		AdvertiseHost  string   `json:"advertise_host,omitempty"`
		BootstrapPeers []string `json:"bootstrap_peers,omitempty"`
		MaxInbound     int      `json:"max_inbound,omitempty"`
		MaxOutbound    int      `json:"max_outbound,omitempty"`
		MaxPerIP       int      `json:"max_per_ip,omitempty"`
		MaxFrameBytes  int      `json:"max_frame_bytes,omitempty"`
		BanSeconds     int      `json:"ban_seconds,omitempty"`
	} `json:"p2p"`
	HTTP struct {
		Host         string `json:"host,omitempty"`
		Port         int    `json:"port,omitempty"`
		TokenFile    string `json:"token_file,omitempty"`
		MaxBodyBytes int64  `json:"max_body_bytes,omitempty"`
		Disabled     bool   `json:"disabled,omitempty"`
	} `json:"http"`
	Log struct {
		Level string `json:"level,omitempty"`
		JSON  bool   `json:"json,omitempty"`
	} `json:"log"`
	Pool struct {
		MaxTotal      int `json:"max_total,omitempty"`
		MaxPerAccount int `json:"max_per_account,omitempty"`
		TTLSeconds    int `json:"ttl_seconds,omitempty"`
		// BacklogSlots: the pool refuses new transactions (503
		// overloaded) once it holds this many blocks' worth of executable
		// ones; default DefaultBacklogSlots (DefaultBacklogSlotsUnsized
		// while blocks are not sized by peers' import times).
		BacklogSlots int `json:"backlog_slots,omitempty"`
	} `json:"pool"`
}

// DefaultBacklogSlots is how many blocks' worth of executable transactions
// a pool takes before it answers overloaded, once blocks are sized by the
// import time of peers' blocks: enough to fill the next block, few enough
// that what it accepts is included within the latency targets instead of
// waiting behind a backlog. With 2, a 60-second max-rate run of the 3+1
// devnet included 6,118 tx/s at inclusion p50 / p99 of 3.0 / 7.3 slots;
// with 1, 6,022 tx/s at 1.7 / 5.6. (With 4 and fixed 2 MiB blocks it held
// five seconds of backlog.)
const DefaultBacklogSlots = 1

// DefaultBacklogSlotsUnsized applies while no peer's block was measured,
// as for a lone validator, whose blocks take everything pending up to the
// genesis cap: with one block's worth its pool was empty after each block
// until refused clients came back a second later (9,702 and 10,572 tx/s
// against 11,451 and 11,767 with two, in one window).
const DefaultBacklogSlotsUnsized = 2

// transferBytes is about the encoding of a plain transfer (an RSA-2048 key
// and signature dominate it), to turn max_block_bytes into transactions.
const transferBytes = 600

// maxPending is the pool's MaxPending for this genesis and config, with
// blocks of at most budget transactions (0: as many as the genesis allows).
func maxPending(c *Config, maxBound, maxBlockBytes uint64, budget int) int {
	slots := c.Pool.BacklogSlots
	switch {
	case slots > 0:
	case budget > 0:
		slots = DefaultBacklogSlots
	default:
		slots = DefaultBacklogSlotsUnsized
	}
	perBlock := int(max(min(maxBound, maxBlockBytes/transferBytes), 1))
	if budget > 0 {
		perBlock = min(perBlock, budget)
	}
	return slots * perBlock
}

// DefaultConfig is what a missing file means.
func DefaultConfig() *Config {
	c := &Config{}
	c.App.BasePath = "~/.ccoin"
	c.DiscoveryService.Host, c.DiscoveryService.Port, c.DiscoveryService.Proto = "127.0.0.1", 4444, "http"
	return c
}

// LoadConfig reads ccoin.json. Unknown fields are refused, so a typo is an
// error rather than a silently ignored setting.
func LoadConfig(path string) (*Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, jsonpos.Annotate(data, err, dec.InputOffset()))
	}
	return c, c.Validate()
}

// Validate checks ranges.
func (c *Config) Validate() error {
	for name, p := range map[string]int{"p2p.port": c.P2P.Port, "http.port": c.HTTP.Port, "discovery_service.port": c.DiscoveryService.Port} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%w: %s %d out of range", ErrConfig, name, p)
		}
	}
	switch c.DiscoveryService.Proto {
	case "", "http", "https":
	default:
		return fmt.Errorf("%w: discovery_service.proto %q", ErrConfig, c.DiscoveryService.Proto)
	}
	switch strings.ToLower(c.Log.Level) {
	case "", "trace", "debug", "info", "warn", "error", "off":
	default:
		return fmt.Errorf("%w: log.level %q", ErrConfig, c.Log.Level)
	}
	if c.P2P.MaxFrameBytes < 0 || c.HTTP.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: negative size limit", ErrConfig)
	}
	return nil
}

// DataDir resolves app.base_path (with ~ expanded); override wins.
func (c *Config) DataDir(override string) (string, error) {
	p := c.App.BasePath
	if override != "" {
		p = override
	}
	if p == "" {
		p = "~/.ccoin"
	}
	if strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("resolve home directory: %w", err)
		}
		p = filepath.Join(home, p[2:])
	}
	return filepath.Abs(p)
}

// DiscoveryURL is the registry base URL, or "" when disabled.
func (c *Config) DiscoveryURL() string {
	d := c.DiscoveryService
	if d.Disabled || d.Host == "" || d.Port == 0 {
		return ""
	}
	proto := d.Proto
	if proto == "" {
		proto = "http"
	}
	return fmt.Sprintf("%s://%s:%d", proto, d.Host, d.Port)
}

// Paths inside a data directory.
func ChainDir(datadir string) string      { return filepath.Join(datadir, "chaindata") }
func SlotGuardPath(datadir string) string { return filepath.Join(datadir, "slotguard") }
func TokenPath(datadir string) string     { return filepath.Join(datadir, "api-token") }

// SnapshotDir holds the chunk files of the snapshots a node serves; it is
// a cache, emptied at every start.
func SnapshotDir(datadir string) string { return filepath.Join(datadir, "snapshots") }
