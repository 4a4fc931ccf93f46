package framework

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

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
			rec := srv.sessions.Create(w, r, 1, true, srv.newLive(g))
			change := scope.NewContents("Session")
			change.Set("n", 1.0)
			srv.sessions.Save(b.Context(), w, r, rec, change, false)
			srv.sessions.Leave(rec, 1)
			r.Header.Set("Cookie", w.h.Get("Set-Cookie"))
			b.ReportAllocs()
			for b.Loop() {
				owner := new(int)
				rec, err := srv.sessions.Load(b.Context(), r, owner, true)
				if err != nil || rec == nil {
					b.Fatalf("load: %v %v", rec, err)
				}
				if err := srv.sessions.Save(b.Context(), w, r, rec, change, false); err != nil {
					b.Fatal(err)
				}
				srv.sessions.Leave(rec, owner)
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
		rec := srv.sessions.Create(w, r, 1, false, srv.newLive(g))
		srv.sessions.Leave(rec, 1)
		clear(w.h)
		n++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/session")
	runtime.KeepAlive(srv)
}

// BenchmarkCounterPage is the session counter page over real HTTP, each
// client with its own session, on the memory store and on Redis in one
// run: compare their ns/op (the inverse of requests/s). For Redis it also
// reports the round trips per request.
func BenchmarkCounterPage(b *testing.B) {
	files := map[string]string{"inc.lasp": `<% Session["n"] = (Session["n"] or 0) + 1 %><%= Session["n"] %>`}
	for _, store := range []string{"memory", "redis"} {
		b.Run(store, func(b *testing.B) {
			url := storeURL(b, store)
			a := newApp(b, files, func(c *Config) { c.SessionStore = url; c.Logger = slog.New(slog.DiscardHandler) })
			var calls atomic.Int64
			if rdb, ok := redisClient(a.srv); ok {
				rdb.AddHook(countHook{&calls})
			}
			b.SetParallelism(8) // 16 clients on 2 cores: requests overlap
			tr := a.Client().Transport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 64 // a connection per client, kept
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := client(b, a)
				c.Transport = tr
				for pb.Next() {
					mustFetch(b, a, c, "/inc.lasp")
				}
			})
			if store == "redis" {
				b.ReportMetric(float64(calls.Load())/float64(b.N), "redis-calls/op")
			}
		})
	}
}

// countHook counts the commands and pipelines sent to Redis: its round
// trips.
type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// BenchmarkFarmHandover is one client counting in its session on a farm
// of two servers sharing Redis: on one server (a sticky balancer), and
// alternating between them, so that every request takes the session's
// lock over from the other server. Takeover is a new session's first
// three requests: two on one server (which then keeps its lock), the
// third on the other, which must take the lock over from the first.
func BenchmarkFarmHandover(b *testing.B) {
	b.Run("takeover", func(b *testing.B) {
		a1, a2, _ := farm(b, farmFiles, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
		for b.Loop() {
			c := client(b, a1)
			mustFetch(b, a1, c, "/inc.lasp")
			mustFetch(b, a1, c, "/inc.lasp")
			if got := mustFetch(b, a2, c, "/inc.lasp"); got != "3" {
				b.Fatalf("third request: %q", got)
			}
		}
	})
	for _, name := range []string{"one-server", "alternating"} {
		b.Run(name, func(b *testing.B) {
			a1, a2, _ := farm(b, farmFiles, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
			servers := []*app{a1, a1}
			if name == "alternating" {
				servers[1] = a2
			}
			c := client(b, a1)
			mustFetch(b, a1, c, "/inc.lasp")
			i := 0
			for b.Loop() {
				mustFetch(b, servers[i%2], c, "/inc.lasp")
				i++
			}
		})
	}
}
