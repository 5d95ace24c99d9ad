package node

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series. Each node has its own registry
// so several nodes can run in one process (tests, devnet).
type metrics struct {
	reg           *prometheus.Registry
	height        prometheus.Gauge
	finalized     prometheus.Gauge
	peersIn       prometheus.Gauge
	peersOut      prometheus.Gauge
	poolPending   prometheus.Gauge
	poolQueued    prometheus.Gauge
	sealed        prometheus.Counter
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
		peersIn:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_peers_inbound", Help: "Inbound peers."}),
		peersOut:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_peers_outbound", Help: "Outbound peers."}),
		poolPending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_pool_pending", Help: "Executable pooled transactions."}),
		poolQueued:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "ccoin_pool_queued", Help: "Future-nonce pooled transactions."}),
		sealed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_blocks_sealed_total", Help: "Blocks sealed by this validator."}),
		blockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ccoin_block_interval_seconds", Help: "Time between consecutive head blocks.",
			Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 600}}),
		txsApplied: prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_txs_applied_total", Help: "Transactions in blocks that joined the canonical chain."}),
		rejected:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ccoin_rejected_total", Help: "Refused items by kind and reason."}, []string{"kind", "reason"}),
		syncState:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ccoin_sync_state", Help: "1 for the current sync state."}, []string{"state"}),
		reorgs:     prometheus.NewCounter(prometheus.CounterOpts{Name: "ccoin_reorgs_total", Help: "Chain reorganisations."}),
	}
	m.reg.MustRegister(m.height, m.finalized, m.peersIn, m.peersOut, m.poolPending, m.poolQueued, m.sealed,
		m.blockInterval, m.txsApplied, m.rejected, m.syncState, m.reorgs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
