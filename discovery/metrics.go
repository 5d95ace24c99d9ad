package discovery

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are optional: a nil *metrics records nothing.
type metrics struct {
	answers *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, s *Server) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ccoin", Subsystem: "discovery", Name: "answers_total",
			Help: "Answers by outcome code (ok or an error code).",
		}, []string{"code"}),
	}
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "ccoin", Subsystem: "discovery", Name: "live_entries",
		Help: "Live (unexpired) registrations.",
	}, func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(s.tab.liveCount(s.now()))
	})
	for _, c := range []prometheus.Collector{m.answers, entries} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register discovery metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) answer(code string) {
	if m != nil {
		m.answers.WithLabelValues(code).Inc()
	}
}
