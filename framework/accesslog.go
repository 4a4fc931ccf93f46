package framework

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// meter is the client's http.ResponseWriter, counting what goes out to it
// for the access log and the metrics. Unwrap lets http.ResponseController reach the
// connection (Flush, read deadlines); ReadFrom keeps sendfile for static
// files.
type meter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (m *meter) WriteHeader(status int) {
	if m.status == 0 {
		m.status = status
	}
	m.ResponseWriter.WriteHeader(status)
}

func (m *meter) Write(p []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	n, err := m.ResponseWriter.Write(p)
	m.bytes += int64(n)
	return n, err
}

func (m *meter) ReadFrom(src io.Reader) (int64, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	n, err := io.Copy(m.ResponseWriter, src) // the client's ReadFrom, if it has one
	m.bytes += n
	return n, err
}

func (m *meter) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// finish records an answered request: its metrics, and its access log
// line (docs/operations.md).
func (s *Server) finish(r *http.Request, id string, rw *response, start time.Time) {
	status := rw.meter.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	end := time.Now()
	s.metrics.observe(status, end.Sub(start), rw.waited)
	if s.cfg.NoAccessLog || !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	// A record made here, not by Logger.LogAttrs: no caller's PC to look
	// up, and the end time read once.
	rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rw.meter.bytes),
		slog.Duration("duration", end.Sub(start)),
		slog.String("request_id", id),
	)
	if rw.waited > 0 {
		rec.AddAttrs(slog.Duration("session_wait", rw.waited))
	}
	s.log.Handler().Handle(r.Context(), rec)
}
