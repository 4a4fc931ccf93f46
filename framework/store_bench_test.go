package framework

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"lasp/scope"
)

// benchServer is a Server over an empty application, for the stores.
func benchServer(b *testing.B, store string) *Server {
	srv, err := New(Config{Root: emptyFS{}, SessionStore: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	return srv
}

// emptyFS is an application with no files.
type emptyFS struct{}

func (emptyFS) Open(string) (fs.File, error) { return nil, fs.ErrNotExist }

// discard is a ResponseWriter that keeps only its headers.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkSessionCycle is what a True page pays its store per request: load
// the session named by the cookie and take its lock, save a change, leave.
func BenchmarkSessionCycle(b *testing.B) {
	for _, store := range stores {
		b.Run(store, func(b *testing.B) {
			srv := benchServer(b, storeURL(b, store))
			g := srv.g.Load()
			w := &discard{h: http.Header{}}
			r := httptest.NewRequest("GET", "/", nil)
			rec := srv.sessions.create(w, r, g, 1, true)
			change := scope.NewContents("Session")
			change.Set("n", 1.0)
			srv.sessions.save(b.Context(), w, r, rec, change, false)
			srv.sessions.leave(rec, 1)
			r.Header.Set("Cookie", w.h.Get("Set-Cookie"))
			b.ReportAllocs()
			for b.Loop() {
				owner := new(int)
				rec, err := srv.sessions.load(b.Context(), r, owner, true)
				if err != nil || rec == nil {
					b.Fatalf("load: %v %v", rec, err)
				}
				if err := srv.sessions.save(b.Context(), w, r, rec, change, false); err != nil {
					b.Fatal(err)
				}
				srv.sessions.leave(rec, owner)
				clear(w.h)
			}
		})
	}
}

// BenchmarkIdleSession measures the memory store's cost of one idle session
// before its data: its table entries, cookie, lock and place in the expiry
// heap.
func BenchmarkIdleSession(b *testing.B) {
	srv := benchServer(b, "memory")
	g := srv.g.Load()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		rec := srv.sessions.create(w, r, g, 1, false)
		srv.sessions.leave(rec, 1)
		clear(w.h)
		n++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/session")
	runtime.KeepAlive(srv)
}

// BenchmarkExpire100k is the cost of ending 100,000 idle sessions whose
// timeout passed, Session_OnEnd aside (the application has none).
func BenchmarkExpire100k(b *testing.B) {
	const n = 100_000
	srv := benchServer(b, "memory")
	m := srv.sessions.(*memoryStore)
	g := srv.g.Load()
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	for b.Loop() {
		b.StopTimer()
		for range n {
			rec := m.create(w, r, g, 1, false)
			m.leave(rec, 1)
			clear(w.h)
		}
		later := time.Now().Add(time.Hour)
		m.now = func() time.Time { return later }
		b.StartTimer()
		m.expire()
		b.StopTimer()
		if left := m.len(); left != 0 {
			b.Fatalf("%d sessions left", left)
		}
		m.now = time.Now
		b.StartTimer()
	}
}
