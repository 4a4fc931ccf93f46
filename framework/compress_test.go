package framework

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"lasp/scope"
	"lasp/scripting"
)

// compressFiles is an application with text and non-text responses above
// and below the compressor's minimum size (1 KiB).
var compressFiles = map[string]string{
	"big.lasp":      `<% Session["seen"] = true %><%= string.rep("lasp page ", 300) %>`,
	"small.lasp":    `tiny`,
	"json.lasp":     `<% Response.ContentType = "application/json" %>[<%= string.rep("1,", 800) %>1]`,
	"style.css":     strings.Repeat("body { color: red; }\n", 200),
	"app.js":        strings.Repeat("console.log('lasp');\n", 200),
	"image.svg":     `<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat("<g/>", 400) + `</svg>`,
	"photo.png":     "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00pixels", 600),
	"encoded.lasp":  `<% Response.AddHeader("Content-Encoding", "br") %><%= string.rep("x", 3000) %>`,
	"unbuffer.lasp": `<% Response.Buffer = false %><%= string.rep("streamed ", 300) %>`,
}

// rawClient is a's client without the transport's transparent gzip: it
// sees Content-Encoding and the bytes as sent.
func rawClient(a *app) *http.Client {
	tr := a.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	return &http.Client{Transport: tr}
}

// zget requests path with the given headers and returns the response and
// its body, gunzipped when it came gzipped, and how many bytes came.
func zget(t *testing.T, a *app, method, path string, header map[string]string) (*http.Response, string, int) {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := rawClient(a).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: gzip header: %v", path, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: gunzip: %v", path, err)
		}
		body = string(b)
	}
	return res, body, len(raw)
}

// varies reports whether h says Vary: Accept-Encoding.
func varies(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Encoding") {
				return true
			}
		}
	}
	return false
}

// TestCompress: text responses (pages, CSS, JavaScript, JSON, SVG) go
// gzipped to a client that accepts gzip; images, small bodies, HEAD, Range
// requests, bodies the page encoded itself and clients without gzip get
// the plain body. Every response says Vary: Accept-Encoding.
func TestCompress(t *testing.T) {
	a := newApp(t, compressFiles)
	gz := map[string]string{"Accept-Encoding": "gzip, deflate, br"}
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		wantGzip           bool
		wantStatus         int
		want               string // the (decoded) body; empty: the file's
	}{
		{name: "page", path: "/big.lasp", header: gz, wantGzip: true, want: strings.Repeat("lasp page ", 300)},
		{name: "JSON page", path: "/json.lasp", header: gz, wantGzip: true, want: "[" + strings.Repeat("1,", 800) + "1]"},
		{name: "Buffer = false", path: "/unbuffer.lasp", header: gz, wantGzip: true, want: strings.Repeat("streamed ", 300)},
		{name: "CSS", path: "/style.css", header: gz, wantGzip: true},
		{name: "JavaScript", path: "/app.js", header: gz, wantGzip: true},
		{name: "SVG", path: "/image.svg", header: gz, wantGzip: true},
		{name: "image", path: "/photo.png", header: gz},
		{name: "small page", path: "/small.lasp", header: gz, want: "tiny"},
		{name: "already encoded", path: "/encoded.lasp", header: gz, want: strings.Repeat("x", 3000)},
		{name: "no Accept-Encoding", path: "/style.css"},
		{name: "gzip;q=0", path: "/style.css", header: map[string]string{"Accept-Encoding": "gzip;q=0, br"}},
		{name: "identity", path: "/big.lasp", header: map[string]string{"Accept-Encoding": "identity"}, want: strings.Repeat("lasp page ", 300)},
		{name: "Range", path: "/style.css", header: map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-9"},
			wantStatus: http.StatusPartialContent, want: compressFiles["style.css"][:10]},
		{name: "Range past the file", path: "/style.css", header: map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=999999-"},
			wantStatus: http.StatusRequestedRangeNotSatisfiable, want: "-"},
		{name: "HEAD", method: http.MethodHead, path: "/style.css", header: gz, want: "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body, _ := zget(t, a, cmp.Or(tc.method, http.MethodGet), tc.path, tc.header)
			if want := cmp.Or(tc.wantStatus, http.StatusOK); res.StatusCode != want {
				t.Fatalf("status %d, want %d\nlog:\n%s", res.StatusCode, want, a.log)
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
				t.Errorf("gzipped: %v, want %v (Content-Encoding %q)", got, tc.wantGzip, res.Header.Get("Content-Encoding"))
			}
			if tc.wantGzip && res.Header.Get("Accept-Ranges") != "" {
				t.Errorf("a gzipped response says Accept-Ranges: %q", res.Header.Get("Accept-Ranges"))
			}
			if !varies(res.Header) {
				t.Errorf("Vary = %q, want Accept-Encoding", res.Header.Values("Vary"))
			}
			want := cmp.Or(tc.want, compressFiles[strings.TrimPrefix(tc.path, "/")])
			if want != "-" && body != want {
				t.Errorf("body %.60q… (%d bytes), want %.60q… (%d bytes)", body, len(body), want, len(want))
			}
		})
	}
}

// TestCompressOff: Config.NoCompression sends every body as it is, without
// Vary.
func TestCompressOff(t *testing.T) {
	a := newApp(t, compressFiles, func(c *Config) { c.NoCompression = true })
	for _, path := range []string{"/big.lasp", "/style.css"} {
		res, _, _ := zget(t, a, http.MethodGet, path, map[string]string{"Accept-Encoding": "gzip"})
		if ce := res.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("%s: Content-Encoding %q with NoCompression", path, ce)
		}
		if varies(res.Header) {
			t.Errorf("%s: Vary %q with NoCompression", path, res.Header.Values("Vary"))
		}
	}
}

// TestCompressSessionCookie: a gzipped page still sets its session cookie.
func TestCompressSessionCookie(t *testing.T) {
	a := newApp(t, compressFiles)
	res, _, _ := zget(t, a, http.MethodGet, "/big.lasp", map[string]string{"Accept-Encoding": "gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v", res.Header)
	}
	if len(res.Cookies()) == 0 {
		t.Errorf("no session cookie on a gzipped page: %v", res.Header)
	}
}

// TestCompressETag: a gzipped static file's ETag is the file's, made weak
// (the gzipped bytes are not the file's); conditional requests still answer
// 304, to gzip clients and to the others.
func TestCompressETag(t *testing.T) {
	a := newApp(t, compressFiles)
	gz := map[string]string{"Accept-Encoding": "gzip"}
	plain, _, _ := zget(t, a, http.MethodGet, "/style.css", nil)
	strong := plain.Header.Get("ETag")
	if strong == "" || strings.HasPrefix(strong, "W/") {
		t.Fatalf("plain ETag %q, want a strong one", strong)
	}
	zipped, _, _ := zget(t, a, http.MethodGet, "/style.css", gz)
	weak := zipped.Header.Get("ETag")
	if weak != "W/"+strong {
		t.Fatalf("gzipped ETag %q, want W/%s", weak, strong)
	}
	for _, tc := range []struct {
		name    string
		header  map[string]string
		want    int
		wantTag string
	}{
		{"gzip client, weak tag", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": weak}, http.StatusNotModified, weak},
		{"gzip client, strong tag", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": strong}, http.StatusNotModified, strong},
		{"plain client", map[string]string{"If-None-Match": strong}, http.StatusNotModified, strong},
		{"plain client, weak tag", map[string]string{"If-None-Match": weak}, http.StatusNotModified, strong},
		{"changed", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `W/"other"`}, http.StatusOK, weak},
		// If-Range compares strongly: a weak tag gets the whole file, never a
		// range to splice into a gzipped copy.
		{"If-Range weak", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-9", "If-Range": weak}, http.StatusOK, strong},
		{"If-Range strong", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-9", "If-Range": strong}, http.StatusPartialContent, strong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _, _ := zget(t, a, http.MethodGet, "/style.css", tc.header)
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d", res.StatusCode, tc.want)
			}
			if got := res.Header.Get("ETag"); got != tc.wantTag {
				t.Errorf("ETag %q, want %q", got, tc.wantTag)
			}
		})
	}
}

// TestCompressAccessLogBytes: the access log counts the bytes sent, the
// gzipped ones when the response was gzipped.
func TestCompressAccessLogBytes(t *testing.T) {
	a := newApp(t, compressFiles)
	for _, path := range []string{"/big.lasp", "/style.css", "/photo.png"} {
		res, body, sent := zget(t, a, http.MethodGet, path, map[string]string{"Accept-Encoding": "gzip"})
		if path != "/photo.png" && (res.Header.Get("Content-Encoding") != "gzip" || sent >= len(body)) {
			t.Fatalf("%s: %d bytes sent for %d, Content-Encoding %q", path, sent, len(body), res.Header.Get("Content-Encoding"))
		}
		// The body came chunked, so its end came after the handler returned
		// and logged.
		if got := loggedBytes(t, a, path); got != int64(sent) {
			t.Errorf("%s: access log bytes=%d, want %d (sent)", path, got, sent)
		}
	}
}

// loggedBytes is the bytes of the last access log line for path.
func loggedBytes(t *testing.T, a *app, path string) int64 {
	t.Helper()
	n := int64(-1)
	sc := bufio.NewScanner(strings.NewReader(a.log.String()))
	for sc.Scan() {
		var line struct {
			Msg   string
			Path  string
			Bytes int64
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" && line.Path == path {
			n = line.Bytes
		}
	}
	if n < 0 {
		t.Fatalf("no access log line for %s:\n%s", path, a.log)
	}
	return n
}

// flushGate is a Go component whose Wait blocks until the test opens it.
type flushGate chan struct{}

func (g flushGate) Call(ctx context.Context, _ string, _ []scope.Value) ([]scope.Value, error) {
	select {
	case <-g:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, nil
}

// TestCompressFlushStreams: Response.Flush and Response.Buffer = false
// still stream through gzip: what the page sent before it blocks reaches
// the client, gzipped, while the page is blocked.
func TestCompressFlushStreams(t *testing.T) {
	g := make(flushGate)
	a := newApp(t, map[string]string{
		"flush.lasp":    `first<% Response.Flush() Server.CreateObject("Test.Gate"):Wait() %>second`,
		"unbuffer.lasp": `<% Response.Buffer = false %>first<% Server.CreateObject("Test.Gate"):Wait() %>second`,
	}, func(c *Config) {
		c.Components = []Component{{ProgID: "Test.Gate", Threading: scope.Agile,
			New: func() (scripting.Instance, error) { return g, nil }}}
	})
	for _, path := range []string{"/flush.lasp", "/unbuffer.lasp"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, a.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := rawClient(a).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if ce := res.Header.Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("Content-Encoding %q, want gzip", ce)
			}
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			first := make([]byte, len("first"))
			if _, err := io.ReadFull(zr, first); err != nil || string(first) != "first" {
				t.Fatalf("while the page waits: read %q, %v; want \"first\"", first, err)
			}
			g <- struct{}{} // the page goes on
			rest, err := io.ReadAll(zr)
			if err != nil || string(rest) != "second" {
				t.Errorf("then: %q, %v; want \"second\"", rest, err)
			}
		})
	}
}
