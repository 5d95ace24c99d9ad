package bench

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
)

// Error kinds, usable with errors.Is.
var (
	ErrConfig  = errors.New("bench: bad configuration")
	ErrFunding = errors.New("bench: funding the senders failed")
	ErrNode    = errors.New("bench: node request failed")
)

// Config shapes one run. Zero values get the defaults listed per field.
type Config struct {
	Nodes  []string           // API base URLs; batches go to them round-robin
	Faucet *crypto.PrivateKey // funded key that pays for the senders

	Accounts int // sender accounts, default 200
	Txs      int // transfers to pre-sign, default 100000
	// Workload, when set, is a file that keeps the sender keys and signed
	// transfers between runs (see workload.go): a run reuses what is still
	// good on its chain and signs only the rest.
	Workload   string
	Rate       float64       // tx/s through a token bucket; 0 = as fast as possible
	Duration   time.Duration // submission stops after this, default 60s
	Batch      int           // transactions per POST /txs, default 500
	Submitters int           // concurrent submitters per node, default 4

	// NetworkNodes is how many nodes verify every transaction on this
	// machine, for the ceiling; default len(Nodes).
	NetworkNodes int
	Workers      int           // signing and calibration goroutines, default GOMAXPROCS
	Calibration  time.Duration // verify-rate measurement, default 1s
	MaxAmount    uint64        // transfers move 1..MaxAmount, default 9

	Progress     time.Duration // progress line period, default 5s
	Poll         time.Duration // GET /status period backing the event stream, default 250ms
	FundTimeout  time.Duration // default 2m
	DrainTimeout time.Duration // waiting for inclusion and finality after submission, default 2m
	DrainIdle    time.Duration // ... but give up after no progress for this long, default 20 slots (at least 10s)

	HTTPClient  *http.Client                       // default: a pooled client
	GenerateKey func() (*crypto.PrivateKey, error) // default crypto.GenerateKey
	Now         func() time.Time                   // default time.Now
	Out         io.Writer                          // progress lines; nil = none
	Logger      hclog.Logger                       // default: null logger
}

func (c *Config) setDefaults() error {
	if len(c.Nodes) == 0 {
		return fmt.Errorf("%w: no node URLs", ErrConfig)
	}
	if c.Faucet == nil {
		return fmt.Errorf("%w: no faucet key", ErrConfig)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Accounts, 200)
	def(&c.Txs, 100_000)
	def(&c.Batch, 500)
	def(&c.Submitters, 4)
	def(&c.NetworkNodes, len(c.Nodes))
	def(&c.Workers, runtime.GOMAXPROCS(0))
	defDur(&c.Duration, 60*time.Second)
	defDur(&c.Calibration, time.Second)
	defDur(&c.Progress, 5*time.Second)
	defDur(&c.Poll, 250*time.Millisecond)
	defDur(&c.FundTimeout, 2*time.Minute)
	defDur(&c.DrainTimeout, 2*time.Minute)
	if c.MaxAmount == 0 {
		c.MaxAmount = 9
	}
	switch {
	case c.Accounts < 1 || c.Accounts > 100_000:
		return fmt.Errorf("%w: accounts %d, want 1..100000", ErrConfig, c.Accounts)
	case c.Txs < 1 || c.Txs > 10_000_000:
		return fmt.Errorf("%w: txs %d, want 1..10000000", ErrConfig, c.Txs)
	case c.Batch < 1 || c.Batch > 10_000:
		return fmt.Errorf("%w: batch %d, want 1..10000", ErrConfig, c.Batch)
	case c.Rate < 0:
		return fmt.Errorf("%w: negative rate", ErrConfig)
	case c.Duration < 0 || c.Submitters < 1 || c.Workers < 1 || c.NetworkNodes < 1:
		return fmt.Errorf("%w: duration, submitters, workers and network nodes must be positive", ErrConfig)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if c.GenerateKey == nil {
		c.GenerateKey = crypto.GenerateKey
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	return nil
}
