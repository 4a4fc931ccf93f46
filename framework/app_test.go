package framework

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// TestConfigDir: Config.Dir alone (no Root) is the application, confined
// as serve confines -root; a Dir that is not a directory is an error.
func TestConfigDir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "app")
	writeTree(t, base, map[string]string{"secret": secretText})
	writeTree(t, dir, map[string]string{
		"index.lasp":  `<%= Server.MapPath("data/shop.db") %>`,
		"style.css":   styleCSS,
		"global.lasa": "<!-- " + secretText + " -->",
	})
	if err := os.Symlink(filepath.Join(base, "secret"), filepath.Join(dir, "link-out")); err != nil {
		t.Logf("no symbolic links: %v", err)
	}
	srv, err := New(Config{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close(context.Background())
	})
	a := &app{Server: ts, srv: srv, dir: dir, log: &syncBuffer{}}
	if got, want := a.mustGet(t, "/"), filepath.Join(dir, "data", "shop.db"); got != want {
		t.Errorf("MapPath = %q, want %q", got, want)
	}
	if got := a.mustGet(t, "/style.css"); got != styleCSS {
		t.Errorf("GET /style.css = %q", got)
	}
	for _, path := range []string{"/global.lasa", "/link-out", "/missing"} {
		if status, body := a.get(t, path); status != http.StatusNotFound || strings.Contains(body, secretText) {
			t.Errorf("GET %s: %d %q, want 404", path, status, body)
		}
	}

	if _, err := New(Config{Dir: filepath.Join(base, "nowhere")}); err == nil {
		t.Error("New with a missing Dir: no error")
	}
}
