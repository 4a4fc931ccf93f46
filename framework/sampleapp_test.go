package framework

import (
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// serveSampleApp serves the real ../sampleapp directory in production mode;
// configure, if given, changes its Config.
func serveSampleApp(t *testing.T, configure ...func(*Config)) *app {
	t.Helper()
	dir, err := filepath.Abs("../sampleapp")
	if err != nil {
		t.Fatal(err)
	}
	return serveDir(t, dir, configure...)
}

// mustContain fails for each of wants that body does not contain.
func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q; body:\n%s", what, w, body)
		}
	}
}

// mustNotContain fails for each of unwanted that body contains.
func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s contains %q; body:\n%s", what, u, body)
		}
	}
}

func TestSampleAppPages(t *testing.T) {
	a := serveSampleApp(t)
	layout := []string{`<link rel="stylesheet" href="/css/site.css">`, `<a class="brand" href="/">Lasp sample</a>`, "</main>\n<footer class=\"site\">", "</html>"}
	tests := []struct {
		path string
		want []string
	}{
		{"/", append([]string{
			"<title>Home · Lasp sample</title>",
			`<a href="/" aria-current="page">Home</a>`,
			"<h1>Welcome to the Lasp sample</h1>",
			`<li><a href="/echo.lasp">Echo</a>`,
			`<li><a href="/table.lasp?name=Lasp">Table</a>`,
			`<li><a href="/info.lasp">Request info</a>`,
			`<li><a href="/error.lasp">Error</a>`,
		}, layout...)},
		{"/index.lasp", []string{`<a href="/" aria-current="page">Home</a>`}},
		{"/echo.lasp", append([]string{
			"<title>Echo · Lasp sample</title>",
			`<a href="/echo.lasp" aria-current="page">Echo</a>`,
			`<form class="card" method="post" action="/echo.lasp">`,
			`<input name="name"`,
			`<textarea name="message"`,
			`<input type="checkbox" name="tags" value="lua">`,
			`<input type="checkbox" name="tags" value="web">`,
		}, layout...)},
		{"/table.lasp", []string{"<h1>Hello, world</h1>", "<tr><td>20</td><td>400</td><td>row 20</td></tr>"}},
		{"/info.lasp?x=1", append([]string{
			"<title>Request info · Lasp sample</title>",
			"<tr><th><code>REQUEST_METHOD</code></th><td>GET</td></tr>",
			"<tr><th><code>URL</code></th><td>/info.lasp</td></tr>",
			"<tr><th><code>QUERY_STRING</code></th><td>x=1</td></tr>",
			"<tr><th><code>REMOTE_ADDR</code></th><td>127.0.0.1</td></tr>",
			"<tr><th><code>HTTPS</code></th><td>off</td></tr>",
			"Server time: <strong>",
		}, layout...)},
		{"/500.lasp", []string{"<h1>Sorry, something went wrong</h1>", "No error to report"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			body := a.mustGet(t, tt.path)
			mustContain(t, "GET "+tt.path, body, tt.want...)
			mustNotContain(t, "GET "+tt.path, body, "<%", "%>")
		})
	}
}

func TestSampleAppInfoExpires(t *testing.T) {
	a := serveSampleApp(t)
	res, _ := a.do(t, newRequest(t, "GET", a.URL+"/info.lasp", ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	exp, err := http.ParseTime(res.Header.Get("Expires"))
	if err != nil {
		t.Fatalf("Expires %q: %v", res.Header.Get("Expires"), err)
	}
	date, err := http.ParseTime(res.Header.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	if exp.After(date) {
		t.Errorf("Expires %v is after Date %v: Response.Expires = 0 should expire the page at once", exp, date)
	}
}

// postForm posts form to path, urlencoded, and returns the body; it fails
// unless the answer is 200.
func postForm(t *testing.T, a *app, path string, form url.Values) string {
	t.Helper()
	req := newRequest(t, "POST", a.URL+path, form.Encode())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := a.do(t, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d, body:\n%s\nlog:\n%s", path, res.StatusCode, body, a.log.String())
	}
	return body
}

func TestSampleAppEcho(t *testing.T) {
	a := serveSampleApp(t)
	t.Run("escapes", func(t *testing.T) {
		body := postForm(t, a, "/echo.lasp", url.Values{
			"name":    {`<script>alert("name")</script>`},
			"message": {"<script>alert('x')</script>   two\nthree & four"},
		})
		mustContain(t, "echo", body,
			`<dt>Name</dt><dd>&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;</dd>`,
			"<dd class=\"message\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;   two\nthree &amp; four</dd>",
			`<dd class="words">5 words</dd>`,
			`<dd class="tags"><em>none</em></dd>`,
		)
		mustNotContain(t, "echo", body, "<script>", `<form class="card"`)
	})
	t.Run("title case and one word", func(t *testing.T) {
		body := postForm(t, a, "/echo.lasp", url.Values{"name": {"ada LOVELACE"}, "message": {"hello"}})
		mustContain(t, "echo", body, "<h2>Thank you, Ada Lovelace</h2>", `<dd class="words">1 word</dd>`)
	})
	t.Run("several tags", func(t *testing.T) {
		body := postForm(t, a, "/echo.lasp", url.Values{
			"name": {"Ann"}, "message": {"one two three"}, "tags": {"lua", "go", "web"},
		})
		mustContain(t, "echo", body, `<dd class="tags">lua, go, web</dd>`, `<dd class="words">3 words</dd>`)
	})
	t.Run("multipart", func(t *testing.T) {
		var b strings.Builder
		mw := multipart.NewWriter(&b)
		for _, kv := range [][2]string{{"name", "Bo"}, {"message", "a b"}, {"tags", "asp"}, {"tags", "lua"}} {
			if err := mw.WriteField(kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		mw.Close()
		req := newRequest(t, "POST", a.URL+"/echo.lasp", b.String())
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, body := a.do(t, req)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		mustContain(t, "echo", body, `<dd class="tags">asp, lua</dd>`, `<dd class="words">2 words</dd>`, "<dt>Name</dt><dd>Bo</dd>")
	})
}

// benchmarkTable is sampleapp/table.lasp exactly: bench/run.sh measures it.
const benchmarkTable = `<!DOCTYPE html>
<html><head><title>Table</title></head>
<body>
<h1>Hello, <%= Request.QueryString["name"] or "world" %></h1>
<table>
<tr><th>#</th><th>Square</th><th>Label</th></tr>
<% for i = 1, 20 do %>
<tr><td><%= i %></td><td><%= i * i %></td><td>row <%= i %></td></tr>
<% end %>
</table>
</body></html>
`

func TestSampleAppTable(t *testing.T) {
	src, err := os.ReadFile("../sampleapp/table.lasp")
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != benchmarkTable {
		t.Errorf("sampleapp/table.lasp changed; the benchmark relies on it being:\n%s", benchmarkTable)
	}
	a := serveSampleApp(t)
	body := a.mustGet(t, "/table.lasp?name="+url.QueryEscape("<b>Bench</b>"))
	mustContain(t, "table", body, "<h1>Hello, &lt;b&gt;Bench&lt;/b&gt;</h1>")
	mustNotContain(t, "table", body, "<b>")
	rows := regexp.MustCompile(`<tr><td>(\d+)</td><td>(\d+)</td><td>row (\d+)</td></tr>`).FindAllStringSubmatch(body, -1)
	if len(rows) != 20 {
		t.Fatalf("%d rows, want 20:\n%s", len(rows), body)
	}
	for i, r := range rows {
		n := i + 1
		if want := []string{itoa(int64(n)), itoa(int64(n * n)), itoa(int64(n))}; r[1] != want[0] || r[2] != want[1] || r[3] != want[2] {
			t.Errorf("row %d is %q, want %v", n, r[0], want)
		}
	}
}

func TestSampleAppStatic(t *testing.T) {
	a := serveSampleApp(t)
	res, body := a.do(t, newRequest(t, "GET", a.URL+"/css/site.css", ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Last-Modified") == "" {
		t.Fatalf("no ETag or Last-Modified: %v", res.Header)
	}
	mustContain(t, "site.css", body, "header.site", "table.data")
	req := newRequest(t, "GET", a.URL+"/css/site.css", "")
	req.Header.Set("If-None-Match", etag)
	if res, _ := a.do(t, req); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: status %d, want 304", etag, res.StatusCode)
	}
}

func TestSampleAppErrorPage(t *testing.T) {
	a := serveSampleApp(t)
	res, body := a.do(t, newRequest(t, "GET", a.URL+"/error.lasp", ""))
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body:\n%s", res.StatusCode, body)
	}
	mustContain(t, "error page", body,
		"<h1>Sorry, something went wrong</h1>",
		"<dt>Where</dt><dd><code>inc/order.inc:3</code></dd>",
		"Lua runtime error: attempt to index",
		"<pre>&lt;p&gt;Order total: &lt;%= order.total %&gt;&lt;/p&gt;</pre>",
	)
	// Nothing the failed page wrote before the error is sent.
	mustNotContain(t, "error page", body, "An order summary")
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	mustContain(t, "log", a.log.String(), `"file":"inc/order.inc"`, `"line":3`)
	// The reference the page shows is the request ID of the log entry.
	ref := regexp.MustCompile(`<code class="ref">([^<]+)</code>`).FindStringSubmatch(body)
	if ref == nil {
		t.Fatalf("no reference in the error page:\n%s", body)
	}
	mustContain(t, "log", a.log.String(), `"request_id":"`+ref[1]+`"`)
}

func TestSampleAppHidden(t *testing.T) {
	a := serveSampleApp(t)
	for _, p := range []string{"/lib/textutil.lua", "/inc/header.inc", "/inc/footer.inc", "/inc/order.inc", "/INC/header.inc", "/lib/", "/nope.lasp"} {
		if status, body := a.get(t, p); status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404; body:\n%s", p, status, body)
		}
	}
}

// TestSampleAppAnimals: Don Box's example in the sample app. The cat and the
// hit counter are shared by every visitor, each session has its own dog.
func TestSampleAppAnimals(t *testing.T) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			url := storeURL(t, store)
			testAnimals(t, serveSampleApp(t, func(c *Config) { c.SessionStore = url }))
		})
	}
}

// testAnimals: the Application cat, a dog per session (passed to the cat
// as a proxy) and the hit counter, in whatever store a keeps sessions.
func testAnimals(t *testing.T, a *app) {
	alice, bob := client(t, a), client(t, a)
	mustContain(t, "alice 1", mustFetch(t, a, alice, "/animals.lasp"),
		"served <strong>1</strong> times", "visit number 1", "Your dog says: Woof #1",
		"Meow! (0 dates so far)", "Morris met a dog who says Woof #2")
	mustContain(t, "alice 2", mustFetch(t, a, alice, "/animals.lasp"),
		"served <strong>2</strong> times", "visit number 2", "Your dog says: Woof #3", "Meow! (1 dates so far)")
	mustContain(t, "bob 1", mustFetch(t, a, bob, "/animals.lasp"),
		"served <strong>3</strong> times", "visit number 1", "Your dog says: Woof #1", "Meow! (2 dates so far)")
}
