package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// nopHost is a host without Session_OnEnd.
type nopHost struct{}

func (nopHost) End(context.Context, *Record) {}
func (nopHost) Down(err error) error         { return err }

// testOptions are the options of a store under test: random keys, the
// framework's default timeouts.
func testOptions() Options {
	return Options{Keys: [][]byte{securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)},
		Timeout: 20 * time.Minute, LockWait: 90 * time.Second}
}

// discard is a ResponseWriter that keeps only its headers.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkExpire100k is the cost of ending 100,000 idle sessions whose
// timeout passed, Session_OnEnd aside (the host has none).
func BenchmarkExpire100k(b *testing.B) {
	const n = 100_000
	st, err := Open("memory", nopHost{}, testOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close(context.Background()) })
	m := st.(*memoryStore)
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest("GET", "/", nil)
	for b.Loop() {
		b.StopTimer()
		for range n {
			rec := m.Create(w, r, 1, false, nil)
			m.Leave(rec, 1)
			clear(w.h)
		}
		later := time.Now().Add(time.Hour)
		m.now = func() time.Time { return later }
		b.StartTimer()
		m.expire()
		b.StopTimer()
		if left := m.Len(); left != 0 {
			b.Fatalf("%d sessions left", left)
		}
		m.now = time.Now
		b.StartTimer()
	}
}
