package framework

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
)

// BenchmarkServePage is the whole handler's cost for the sample app's table
// page (lookup, page cache, pooled state, intrinsics, response), without the
// network. bench/run.sh measures it over HTTP against a plain handler.
func BenchmarkServePage(b *testing.B) {
	benchPage(b, sampleServer(b))
}

// BenchmarkServePageMemoryWatch is BenchmarkServePage without the memory
// watch and with it (each run registers with the watch, which samples the
// runtime every 5 ms), to compare in one run.
func BenchmarkServePageMemoryWatch(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchPage(b, sampleServer(b, func(c *Config) { c.MemoryLimit = -1 })) })
	b.Run("on", func(b *testing.B) { benchPage(b, sampleServer(b)) })
}

func benchPage(b *testing.B, srv *Server) {
	benchGet(b, srv, "/table.lasp?name=%3Cb%3EBench%3C%2Fb%3E")
}

// BenchmarkServePageSession is BenchmarkServePage for a client that has a
// session in the memory store: it is found by its cookie and locked on
// every request.
func BenchmarkServePageSession(b *testing.B) {
	srv := sampleServer(b)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/animals.lasp", nil))
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		b.Fatal("no session cookie")
	}
	req := httptest.NewRequest("GET", "/table.lasp?name=%3Cb%3EBench%3C%2Fb%3E", nil)
	req.AddCookie(cookies[0])
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.StopTimer()
	n := liveSessions(srv)
	if n != 1 {
		b.Fatalf("%d sessions, want the one the cookie names", n)
	}
}

// sampleServer serves ../bench/app (table.lasp, and animals.lasp to start
// a session), logging nowhere, until the benchmark ends.
func sampleServer(b *testing.B, configure ...func(*Config)) *Server {
	root, err := os.OpenRoot("../bench/app")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { root.Close() })
	cfg := Config{Root: root.FS(), Logger: slog.New(slog.DiscardHandler)}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	return srv
}

// BenchmarkAccessLog is BenchmarkServePage with the access log off and on
// (slog's text handler, writing nowhere), in one run.
func BenchmarkAccessLog(b *testing.B) {
	text := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.Run("off", func(b *testing.B) {
		benchPage(b, sampleServer(b, func(c *Config) { c.Logger, c.NoAccessLog = text, true }))
	})
	b.Run("on", func(b *testing.B) { benchPage(b, sampleServer(b, func(c *Config) { c.Logger = text })) })
}
