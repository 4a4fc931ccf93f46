package framework

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"lasp/scope"
	"lasp/scripting"
)

// The pages of the body tests.
var bodyPages = map[string]string{
	"index.lasp": `ok`,
	"form.lasp":  `a=<%= Request.Form("a") %> n=<%= #(Request.Form("a") or "") %>`,
	"body.lasp":  `<%= #Request.Body %>`,
	"query.lasp": `<%= Request.QueryString.Count %>`,
	"quiet.lasp": `quiet`, // reads nothing of the request
}

// chunked makes a body of unknown length: the client sends it chunked.
func chunked(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

// post sends body to path with content type ctype; body may be a string or
// an io.Reader (chunked).
func (a *app) post(t *testing.T, path, ctype string, body any) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case string:
		r = strings.NewReader(b)
	case io.Reader:
		r = b
	}
	req, err := http.NewRequest("POST", a.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return a.do(t, req)
}

// stillServes checks that the server answers a plain page after a test's
// request.
func (a *app) stillServes(t *testing.T) {
	t.Helper()
	if body := a.mustGet(t, "/index.lasp"); body != "ok" {
		t.Fatalf("GET /index.lasp = %q, want ok", body)
	}
}

const formType = "application/x-www-form-urlencoded"

// multipartBody is a multipart form with the field a and, when file is not
// empty, a file part "upload" holding it.
func multipartBody(a, file string) (ctype, body string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	w.WriteField("a", a)
	if file != "" {
		fw, _ := w.CreateFormFile("upload", "big.bin")
		io.WriteString(fw, file)
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

func TestRequestBodyBounds(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	a := newApp(t, bodyPages, func(c *Config) { c.MaxRequestBody = limit })
	over := "a=" + strings.Repeat("x", limit)
	at := "a=" + strings.Repeat("x", limit-2)
	mpType, mpOver := multipartBody(strings.Repeat("y", limit), "")
	mpAtType, mpAt := multipartBody("y", strings.Repeat("z", limit/2))
	tests := []struct {
		name   string
		path   string
		ctype  string
		body   any
		status int
		want   string // "": any body
	}{
		{name: "declared form over the limit", path: "/form.lasp", ctype: formType, body: over, status: 413},
		{name: "chunked form over the limit", path: "/form.lasp", ctype: formType, body: chunked(over), status: 413},
		{name: "declared body over the limit", path: "/body.lasp", ctype: "text/plain", body: over, status: 413},
		{name: "chunked body over the limit", path: "/body.lasp", ctype: "text/plain", body: chunked(over), status: 413},
		{name: "declared multipart over the limit", path: "/form.lasp", ctype: mpType, body: mpOver, status: 413},
		{name: "chunked multipart over the limit", path: "/form.lasp", ctype: mpType, body: chunked(mpOver), status: 413},
		{name: "form at the limit", path: "/form.lasp", ctype: formType, body: at, status: 200, want: fmt.Sprintf("n=%d", limit-2)},
		{name: "chunked form at the limit", path: "/form.lasp", ctype: formType, body: chunked(at), status: 200, want: fmt.Sprintf("n=%d", limit-2)},
		{name: "chunked multipart under the limit", path: "/form.lasp", ctype: mpAtType, body: chunked(mpAt), status: 200, want: "a=y"},
		{name: "a page that reads no body", path: "/quiet.lasp", ctype: formType, body: over, status: 200, want: "quiet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := a.post(t, tt.path, tt.ctype, tt.body)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("POST %s: %d %q, want %d with %q\nlog:\n%s", tt.path, res.StatusCode, body, tt.status, tt.want, a.log)
			}
			if tt.status == 413 && strings.Contains(body, "xxxx") {
				t.Errorf("the 413 page shows the body: %q", body)
			}
			a.stillServes(t)
		})
	}
}

func TestMalformedRequest(t *testing.T) {
	a := newApp(t, bodyPages)
	mpType, mpBody := multipartBody("1", "")
	manyFields := strings.Repeat("a=1&", 1_000_000)
	manyParams := func(n int) string {
		q := make([]string, n)
		for i := range q {
			q[i] = fmt.Sprintf("k%d=%d", i, i)
		}
		return strings.Join(q, "&")
	}
	tests := []struct {
		name   string
		method string
		path   string
		ctype  string
		body   string
		status int
		want   string // "": any body
	}{
		{name: "multipart cut short", path: "/form.lasp", ctype: mpType, body: mpBody[:len(mpBody)-10], status: 400},
		{name: "multipart with another boundary", path: "/form.lasp", ctype: "multipart/form-data; boundary=nope", body: mpBody, status: 400},
		{name: "multipart without a boundary", path: "/form.lasp", ctype: "multipart/form-data", body: mpBody, status: 400},
		{name: "urlencoded with a bad escape", path: "/form.lasp", ctype: formType, body: "a=%zz", status: 400},
		{name: "a million urlencoded fields", path: "/form.lasp", ctype: formType, body: manyFields, status: 400},
		{name: "a well-formed multipart", path: "/form.lasp", ctype: mpType, body: mpBody, status: 200, want: "a=1"},
		{name: "10,001 query parameters", method: "GET", path: "/query.lasp?" + manyParams(10_001), status: 400},
		{name: "10,001 query parameters, page ignores them", method: "GET", path: "/quiet.lasp?" + manyParams(10_001), status: 400},
		{name: "10,000 query parameters", method: "GET", path: "/query.lasp?" + manyParams(10_000), status: 200, want: "10000"},
		{name: "a bad escape in the query", method: "GET", path: "/query.lasp?a=%zz", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "POST"
			}
			req := newRequest(t, method, a.URL+tt.path, tt.body)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			res, body := a.do(t, req)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %q, want %d with %q\nlog:\n%s", res.StatusCode, body, tt.status, tt.want, a.log)
			}
			if tt.status == 400 && !strings.Contains(body, "Bad Request") {
				t.Errorf("the 400 page lacks its title: %q", body)
			}
			a.stillServes(t)
		})
	}
	t.Run("a page that catches it", func(t *testing.T) {
		a := newApp(t, map[string]string{"form.lasp": `<% local ok, err = pcall(function() return Request.Form.a end) %><%= ok %> <%= err %>`})
		res, body := a.post(t, "/form.lasp", formType, "a=%zz")
		if res.StatusCode != 200 || !strings.Contains(body, "false") || !strings.Contains(body, "Request.Form: the request is malformed") {
			t.Fatalf("%d %q, want 200 with the error the page caught", res.StatusCode, body)
		}
	})
}

// gate is a Go component whose Wait blocks until the test opens it, so
// that a test can look at a request while its page runs.
type gate struct {
	entered chan struct{}
	open    chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), open: make(chan struct{})} }

func (g *gate) Call(ctx context.Context, method string, _ []scope.Value) ([]scope.Value, error) {
	switch method {
	case "Wait":
		g.entered <- struct{}{}
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return nil, nil
	case "Panic":
		panic("gate panics")
	}
	return nil, fmt.Errorf("no method %q", method)
}

func (g *gate) component() Component {
	return Component{ProgID: "Test.Gate", Threading: scope.Agile, New: func() (scripting.Instance, error) { return g, nil }}
}

// tempFiles lists dir's multipart temporary files and their sizes.
func tempFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]int64{}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), "multipart-") {
			files[e.Name()] = info.Size()
		}
	}
	return files
}

func TestMultipartSpillsToTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where mime/multipart puts the files
	g := newGate()
	a := newApp(t, map[string]string{
		"index.lasp": `ok`,
		"wait.lasp":  `<% local a = Request.Form("a"); Server.CreateObject("Test.Gate"):Wait() %>a=<%= a %>`,
		"fail.lasp":  `<% local a = Request.Form("a"); Server.CreateObject("Test.Gate"):Wait(); error("the page fails") %>`,
		"panic.lasp": `<% local a = Request.Form("a"); Server.CreateObject("Test.Gate"):Wait(); Server.CreateObject("Test.Gate"):Panic() %>`,
	}, func(c *Config) { c.Components = []Component{g.component()} })
	big := strings.Repeat("z", 2*multipartMemory)
	tests := []struct {
		name      string
		path      string
		file      string
		wantSpill bool
		status    int
	}{
		{name: "large file", path: "/wait.lasp", file: big, wantSpill: true, status: 200},
		{name: "small file", path: "/wait.lasp", file: "small", wantSpill: false, status: 200},
		{name: "large file, page fails", path: "/fail.lasp", file: big, wantSpill: true, status: 500},
		{name: "large file, component panics", path: "/panic.lasp", file: big, wantSpill: true, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype, body := multipartBody("1", tt.file)
			type result struct {
				status int
				body   string
				err    error
			}
			done := make(chan result, 1)
			go func() {
				req, _ := http.NewRequest("POST", a.URL+tt.path, strings.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				res, err := a.Client().Do(req)
				if err != nil {
					done <- result{err: err}
					return
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				done <- result{res.StatusCode, string(b), err}
			}()
			select {
			case <-g.entered:
			case r := <-done:
				t.Fatalf("the page ended before its gate: %+v\nlog:\n%s", r, a.log)
			}
			var spilled int64
			for _, size := range tempFiles(t, tmp) {
				spilled += size
			}
			g.open <- struct{}{} // wakes this request's Wait
			if tt.wantSpill && spilled < int64(len(tt.file)) {
				t.Errorf("temporary files hold %d bytes while the page runs, want the file's %d", spilled, len(tt.file))
			}
			if !tt.wantSpill && spilled != 0 {
				t.Errorf("temporary files hold %d bytes for a file under the memory threshold", spilled)
			}
			r := <-done
			if r.err != nil || r.status != tt.status {
				t.Fatalf("POST %s: %d %q (%v), want %d\nlog:\n%s", tt.path, r.status, r.body, r.err, tt.status, a.log)
			}
			if tt.status == 200 && r.body != "a=1" {
				t.Errorf("POST %s = %q, want a=1", tt.path, r.body)
			}
			if left := tempFiles(t, tmp); len(left) != 0 {
				t.Errorf("temporary files left after the request: %v", left)
			}
			a.stillServes(t)
		})
	}
}

// rawRequest is an HTTP/1.1 request written by hand on its own
// connection, so that a test controls when its body is sent.
type rawRequest struct {
	conn net.Conn
	br   *bufio.Reader
}

// sendHead connects to a and sends a POST of path with the given content
// type and declared length, then the start of the body.
func sendHead(t *testing.T, a *app, path, ctype string, length int, start string) *rawRequest {
	t.Helper()
	conn, err := net.Dial("tcp", a.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: lasp\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", path, ctype, length, start)
	return &rawRequest{conn: conn, br: bufio.NewReader(conn)}
}

// response reads the response head.
func (q *rawRequest) response(t *testing.T) *http.Response {
	t.Helper()
	res, err := http.ReadResponse(q.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// trickle sends a byte of q's body every 20ms, up to n bytes, until stop
// is closed or the connection fails.
func (q *rawRequest) trickle(n int, stop <-chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range n {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := q.conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

func TestTrickledBody(t *testing.T) {
	t.Parallel()
	const length = 1000 // 20s at a byte every 20ms
	t.Run("a page that reads it", func(t *testing.T) {
		// The page sets its own timeout: the configured one is 90s.
		a := newApp(t, map[string]string{
			"index.lasp": `ok`,
			"form.lasp":  "<% Server.ScriptTimeout = 1 %>\n<%= Request.Form(\"a\") %>",
		})
		q := sendHead(t, a, "/form.lasp", formType, length, "a=")
		stop := make(chan struct{})
		defer close(stop)
		go q.trickle(length-2, stop)
		start := time.Now()
		res := q.response(t)
		if elapsed := time.Since(start); elapsed > 8*time.Second {
			t.Errorf("the page answered after %v, want about its 1s timeout", elapsed)
		}
		if res.StatusCode != 500 {
			t.Errorf("status %d, want 500", res.StatusCode)
		}
		if log := a.log.String(); !strings.Contains(log, `"kind":"script timeout"`) || !strings.Contains(log, `"line":2`) {
			t.Errorf("log lacks the script timeout at line 2:\n%s", log)
		}
		q.closed(t, res)
		a.stillServes(t)
	})
	t.Run("a page that leaves it unread", func(t *testing.T) {
		a := newApp(t, bodyPages, func(c *Config) { c.ScriptTimeout = time.Second })
		q := sendHead(t, a, "/quiet.lasp", formType, length, "a=")
		stop := make(chan struct{})
		defer close(stop)
		go q.trickle(length-2, stop)
		start := time.Now()
		res := q.response(t)
		if elapsed := time.Since(start); elapsed > 8*time.Second {
			t.Errorf("the page answered after %v, want about the 1s script timeout", elapsed)
		}
		if res.StatusCode != 200 {
			t.Errorf("status %d, want 200", res.StatusCode)
		}
		q.closed(t, res)
		a.stillServes(t)
	})
}

// closed reads the rest of res and checks that the server then closes the
// connection: the rest of a body it did not read is never taken for a
// request.
func (q *rawRequest) closed(t *testing.T, res *http.Response) {
	t.Helper()
	io.Copy(io.Discard, res.Body)
	q.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	// A reset is a close too: the server closed with the client's bytes
	// still unread in its socket.
	if n, err := io.Copy(io.Discard, q.br); n != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after the response: %d more bytes (%v), want the connection closed", n, err)
	}
}

func TestBodyMemoryIsShared(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	g := newGate()
	a := newApp(t, map[string]string{
		"index.lasp": `ok`,
		"form.lasp":  `n=<%= #Request.Form("a") %>`,
		"hold.lasp":  `<% Server.ScriptTimeout = 60; Server.CreateObject("Test.Gate"):Wait() %>n=<%= #Request.Form("a") %>`,
	}, func(c *Config) {
		c.MaxRequestBody = limit
		c.MaxBodyMemory = 4 * limit // two bodies of limit bytes
		c.ScriptTimeout = time.Second
		c.Components = []Component{g.component()}
	})

	// Two requests with bodies of limit bytes each reserve twice that;
	// their pages wait at the gate before they read them.
	type result struct {
		status int
		body   string
	}
	held := make(chan result, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("POST", a.URL+"/hold.lasp", strings.NewReader("a="+strings.Repeat("x", limit-2)))
			req.Header.Set("Content-Type", formType)
			res, err := a.Client().Do(req)
			if err != nil {
				held <- result{body: err.Error()}
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			held <- result{res.StatusCode, string(b)}
		}()
	}
	for range 2 {
		select {
		case <-g.entered:
		case r := <-held:
			t.Fatalf("hold.lasp ended before its gate: %+v\nlog:\n%s", r, a.log)
		}
	}

	// A third body finds no memory left: it waits its script timeout, then
	// answers 503 with Retry-After. A request without a body still runs.
	start := time.Now()
	res, body := a.post(t, "/form.lasp", formType, "a=123")
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("POST with the memory taken: %d (Retry-After %q) %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("refused after %v, want after waiting about the 1s script timeout", waited)
	}
	a.stillServes(t)

	// The holders go on: they read their bodies, and memory is free again.
	close(g.open)
	for range 2 {
		if r := <-held; r.status != 200 || r.body != fmt.Sprintf("n=%d", limit-2) {
			t.Fatalf("hold.lasp: %d %q, want 200 n=%d\nlog:\n%s", r.status, r.body, limit-2, a.log)
		}
	}
	if res, body := a.post(t, "/form.lasp", formType, "a=123"); res.StatusCode != 200 || body != "n=3" {
		t.Fatalf("POST after the holders ended: %d %q, want 200 n=3", res.StatusCode, body)
	}
	a.stillServes(t)
}

// The ResponseWriter of a router or a test may not support read deadlines:
// bodies are then read without one.
func TestBodyWithoutReadDeadlines(t *testing.T) {
	a := newApp(t, bodyPages)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/form.lasp", strings.NewReader(url.Values{"a": {"hello"}}.Encode()))
	req.Header.Set("Content-Type", formType)
	a.srv.ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "a=hello") {
		t.Fatalf("%d %q, want 200 with a=hello\nlog:\n%s", w.Code, w.Body, a.log)
	}
}

func TestBodyConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "": valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "memory twice the body", cfg: Config{MaxRequestBody: 1 << 20, MaxBodyMemory: 2 << 20}},
		{name: "memory under twice the body", cfg: Config{MaxRequestBody: 1 << 20, MaxBodyMemory: 2<<20 - 1}, wantErr: "MaxBodyMemory"},
		{name: "memory under twice the default body", cfg: Config{MaxBodyMemory: 32 << 20}, wantErr: "at least twice MaxRequestBody (33554432)"},
		{name: "negative memory", cfg: Config{MaxBodyMemory: -1}, wantErr: "negative MaxBodyMemory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// A multipart form is read straight from the connection, so, as in ASP,
// the raw body is gone once Request.Form has read it; its size is not.
func TestMultipartFormThenBody(t *testing.T) {
	a := newApp(t, map[string]string{
		"total.lasp": `<%= Request.Form("a") %> <%= Request.TotalBytes %>`,
		"body.lasp":  `<%= Request.Form("a") %> <%= #Request.Body %>`,
		"first.lasp": `<%= #Request.Body > 0 %> <%= Request.Form("a") %>`,
	})
	ctype, body := multipartBody("1", "file")
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{path: "/total.lasp", status: 200, want: fmt.Sprintf("1 %d", len(body))},
		{path: "/body.lasp", status: 500},
		{path: "/first.lasp", status: 200, want: "true 1"},
	}
	for _, tt := range tests {
		res, got := a.post(t, tt.path, ctype, body)
		if res.StatusCode != tt.status || tt.want != "" && got != tt.want {
			t.Errorf("POST %s: %d %q, want %d %q", tt.path, res.StatusCode, got, tt.status, tt.want)
		}
	}
	if log := a.log.String(); !strings.Contains(log, "Request.Body: the body was read by Request.Form as a multipart form") {
		t.Errorf("log lacks the Request.Body error:\n%s", log)
	}
}
