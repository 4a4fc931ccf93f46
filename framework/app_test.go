package framework

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// app is an application on disk served over real HTTP for a test.
type app struct {
	*httptest.Server
	srv *Server
	dir string
	log *syncBuffer
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newApp writes files (slash-separated name → content) into a temp dir and
// serves it. configure may change the Config before the server is made.
func newApp(t testing.TB, files map[string]string, configure ...func(*Config)) *app {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	return serveDir(t, dir, configure...)
}

// serveDir serves the application in dir until the test ends, logging to
// the app's log. configure may change the Config before the server is made.
func serveDir(t testing.TB, dir string, configure ...func(*Config)) *app {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	logs := &syncBuffer{}
	cfg := Config{Root: root.FS(), Dir: dir, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close(context.Background()) // t.Context() is done by now
	})
	return &app{Server: ts, srv: srv, dir: dir, log: logs}
}

// get requests path and returns the status and body.
func (a *app) get(t testing.TB, path string) (int, string) {
	t.Helper()
	return fetch(t, a, a.Client(), path)
}

// fetch requests path with client c (which may keep cookies).
func fetch(t testing.TB, a *app, c *http.Client, path string) (int, string) {
	t.Helper()
	res, err := c.Get(a.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// do sends req and returns the response with its body read.
func (a *app) do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := a.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// mustGet requests path and fails unless it answers 200.
func (a *app) mustGet(t testing.TB, path string) string {
	t.Helper()
	return mustFetch(t, a, a.Client(), path)
}

// mustFetch is fetch that fails unless the answer is 200.
func mustFetch(t testing.TB, a *app, c *http.Client, path string) string {
	t.Helper()
	status, body := fetch(t, a, c, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body:\n%s\nlog:\n%s", path, status, body, a.log.String())
	}
	return body
}

func newRequest(t testing.TB, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
