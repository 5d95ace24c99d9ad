package node

import (
	"sync/atomic"

	"ccoin/ccoin/p2p"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series. Each node has its own registry
// so several nodes can run in one process (tests, devnet).
type metrics struct {
	reg           *prometheus.Registry
	height        prometheus.Gauge
	finalized     prometheus.Gauge
	peers         *peerGauges
	poolPending   prometheus.Gauge
	txBudget      prometheus.Gauge
	poolQueued    prometheus.Gauge
	sealed        prometheus.Counter
	votes         prometheus.Counter
	blockInterval prometheus.Histogram
	txsApplied    prometheus.Counter
	rejected      *prometheus.CounterVec
	syncState     *prometheus.GaugeVec
	reorgs        prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg:         prometheus.NewRegistry(),
		height:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_height", Help: "Canonical head height."}),
		finalized:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_finalized_height", Help: "Finalized block height."}),
		peers:       newPeerGauges(),
		poolPending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_pool_pending", Help: "Executable pooled transactions."}),
		txBudget: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_block_tx_budget",
			Help: "Most transactions this node seals into a block: what peers' blocks show it imports within a third of a slot (0: not measured yet)."}),
		poolQueued: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_pool_queued", Help: "Future-nonce pooled transactions."}),
		sealed:     prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_blocks_sealed_total", Help: "Blocks sealed by this validator."}),
		votes:      prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_votes_cast_total", Help: "Finality votes signed by this validator."}),
		blockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ccoin_block_interval_seconds", Help: "Time between consecutive head blocks.",
			Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 600}}),
		txsApplied: prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_txs_applied_total", Help: "Transactions in blocks that joined the canonical chain."}),
		rejected:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccoin_rejected_total", Help: "Refused items by kind and reason."}, []string{"kind", "reason"}),
		syncState:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ccoin_sync_state", Help: "1 for the current sync state."}, []string{"state"}),
		reorgs:     prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_reorgs_total", Help: "Chain reorganisations."}),
	}
	m.reg.MustRegister(m.height, m.finalized, m.peers, m.poolPending, m.txBudget, m.poolQueued, m.sealed, m.votes,
		m.blockInterval, m.txsApplied, m.rejected, m.syncState, m.reorgs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// setSyncState sets ccoin_sync_state: 1 for st, 0 for the other states
// (the syncer's OnState).
func (m *metrics) setSyncState(st string) {
	for _, x := range []string{StateBoot, StateSyncing, StateReady} {
		v := 0.0
		if x == st {
			v = 1
		}
		m.syncState.WithLabelValues(x).Set(v)
	}
}

// peerGauges reports ccoin_peers_inbound and ccoin_peers_outbound from the
// p2p network's peer list when scraped, so the two can neither go stale nor
// drift from GET /peers (they used to be declared and never set).
type peerGauges struct {
	in, out *prometheus.Desc
	src     atomic.Pointer[func() []p2p.PeerInfo]
}

func newPeerGauges() *peerGauges {
	return &peerGauges{
		in:  prometheus.NewDesc("ccoin_peers_inbound", "Connected peers that dialed this node.", nil, nil),
		out: prometheus.NewDesc("ccoin_peers_outbound", "Connected peers this node dialed.", nil, nil),
	}
}

// watchPeers sets where the peer list comes from; until then both read 0.
func (m *metrics) watchPeers(peers func() []p2p.PeerInfo) { m.peers.src.Store(&peers) }

func (g *peerGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.in
	ch <- g.out
}

func (g *peerGauges) Collect(ch chan<- prometheus.Metric) {
	var in, out int
	if f := g.src.Load(); f != nil {
		for _, p := range (*f)() {
			if p.Inbound {
				in++
			} else {
				out++
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(g.in, prometheus.GaugeValue, float64(in))
	ch <- prometheus.MustNewConstMetric(g.out, prometheus.GaugeValue, float64(out))
}
