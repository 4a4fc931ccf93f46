package framework

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promMetrics are a Server's Prometheus metrics (docs/operations.md), in a
// registry of its own: nothing is registered in the process-wide default.
type promMetrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec // by status code
	duration  prometheus.Histogram
	wait      prometheus.Histogram
	refused   *prometheus.CounterVec // 503s by reason
	storeErrs *prometheus.CounterVec // by store

	// codes are requests' children by status code, made on first use:
	// no lock and no allocation per request.
	codes [600]atomic.Pointer[prometheus.Counter]
}

func newMetrics(s *Server) *promMetrics {
	m := &promMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lasp_requests_total", Help: "Requests answered, by status code.",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lasp_request_duration_seconds", Help: "Time from a request's arrival to its last byte.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 90},
		}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "lasp_session_wait_seconds", Help: "Time an EnableSessionState=True page with a session waited for its session's lock.",
			Buckets: []float64{.0001, .001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 90},
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lasp_refused_total", Help: "Requests answered 503 (Service Unavailable), by reason.",
		}, []string{"reason"}),
		storeErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lasp_store_errors_total", Help: "Failures of a Redis store (session or application) to answer.",
		}, []string{"store"}),
	}
	for _, reason := range []string{"session_busy", "lock_released", "store_down", "memory_short", "body_busy", "application_lock", "shutting_down", "session_after_commit"} {
		m.refused.WithLabelValues(reason) // present at zero, for alerts
	}
	m.storeErrs.WithLabelValues("session")
	m.storeErrs.WithLabelValues("application")
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(m.requests, m.duration, m.wait, m.refused, m.storeErrs,
		gauge("lasp_requests_in_flight", "Requests being served.", func() float64 { return float64(s.inFlight.Load()) }),
		gauge("lasp_sessions_active", "Live sessions (-1 where the store cannot count them: the cookie store).", func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			return float64(s.sessionCount(ctx))
		}),
		gauge("lasp_session_locks", "Session locks held or waited for on this server.", func() float64 {
			return float64(s.sessionLocks())
		}),
		&luaStates{s: s},
		counter("lasp_lua_states_made_total", "Lua states made.", func() float64 { return float64(s.engine.Stats().Created) }),
		counter("lasp_lua_states_thrown_away_total", "Lua states thrown away after a run.", func() float64 { return float64(s.engine.Stats().Dropped) }),
		counter("lasp_memory_limit_stops_total", "Pages stopped by the memory watch (-memory-limit).", func() float64 { return float64(s.engine.Memory().Stops) }),
		counter("lasp_sessions_shed_total", "Sessions no client came back to, ended while memory was short.", func() float64 { return float64(s.shedded.Load()) }),
		gauge("lasp_memory_in_use_bytes", "Memory in use at the memory watch's last tick (0 without -memory-limit).", func() float64 { return float64(s.engine.Memory().InUse) }),
		gauge("lasp_memory_limit_bytes", "-memory-limit (0: none).", func() float64 { return float64(s.engine.Memory().Limit) }),
		gauge("lasp_memory_short", "1 while memory is short and new pages answer 503.", func() float64 {
			if s.engine.Memory().Short {
				return 1
			}
			return 0
		}),
		gauge("lasp_apartments", "Live apartments.", func() float64 { _, n := s.engine.Apartments(1); return float64(n) }),
		prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
	)
	return m
}

// luaStates is lasp_lua_states{state="idle"|"in_use"}.
type luaStates struct{ s *Server }

var luaStatesDesc = prometheus.NewDesc("lasp_lua_states", "Lua states, idle or running a page.", []string{"state"}, nil)

func (l *luaStates) Describe(ch chan<- *prometheus.Desc) { ch <- luaStatesDesc }
func (l *luaStates) Collect(ch chan<- prometheus.Metric) {
	st := l.s.engine.Stats()
	ch <- prometheus.MustNewConstMetric(luaStatesDesc, prometheus.GaugeValue, float64(st.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(luaStatesDesc, prometheus.GaugeValue, float64(st.InUse), "in_use")
}

// observe records one answered request.
func (m *promMetrics) observe(status int, d, wait time.Duration) {
	if status < 100 || status >= len(m.codes) {
		m.requests.WithLabelValues(strconv.Itoa(status)).Inc()
	} else {
		p := m.codes[status].Load()
		if p == nil {
			c := m.requests.WithLabelValues(strconv.Itoa(status)) // the same child, should two make it
			p = &c
			m.codes[status].Store(p)
		}
		(*p).Inc()
	}
	m.duration.Observe(d.Seconds())
	if wait > 0 {
		m.wait.Observe(wait.Seconds())
	}
}

// MetricsHandler serves the server's metrics in Prometheus's text format
// (docs/operations.md). Like StatusHandler it belongs on an operators'
// listener.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
