package framework

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// apiCase is one use of the Lua API (docs/lua-api.md) over HTTP: a page, the
// request sent to it and what must come back. What a script computes, prints
// or fails with is tested in scripting's TestLuaAPI, against an in-memory
// Env; the cases here keep what only HTTP shows: real requests as net/http
// parses them (query, form, cookies, body, server variables), status codes,
// headers and cookies as sent, streaming, the framework's configuration,
// error pages and log lines, and state across requests.
type apiCase struct {
	name string

	// The application: page is the source of /t.lasp (when not empty); files
	// are more files, slash-separated name → content.
	page   string
	files  map[string]string
	config func(*Config)

	// The request: GET /t.lasp unless told otherwise.
	method  string
	target  string // path and query
	body    string
	ctype   string // Content-Type of body
	header  map[string]string
	cookies []*http.Cookie
	before  []string // paths requested first, in order, from the same app

	// What must come back. {dir} in want is the app's directory, {port} the
	// server's port.
	status     int               // zero means 200
	want       string            // the body, exactly, unless contains is set
	contains   []string          // substrings of the body, instead of want
	excludes   []string          // strings the body must not contain
	headers    map[string]string // response headers, all values joined by ", "
	present    []string          // response headers that must be set, to anything
	absent     []string          // response headers that must not be set
	setCookies []string          // the Set-Cookie header lines, exactly, in order
	log        []string          // substrings of the log output
	// partial: the page fails after its head is sent, so reading the body may
	// end in an error (errors_test.go checks how the response ends).
	partial bool
	// stream, when set, is the beginning of the body, which the client must
	// receive while the page still runs (the page then waits in Server.Sleep
	// until the client goes). want and contains are not checked.
	stream string
	check  func(t *testing.T, a *app, res *http.Response, body string)
}

func TestLuaAPI(t *testing.T) {
	cases := []apiCase{
		// ---- Request.QueryString ----
		{
			name:   "QueryString decodes",
			target: "/t.lasp?q=a%20b%26c&plus=1+2",
			page:   `<%- Request.QueryString.q %>|<%- Request.QueryString.plus %>`,
			want:   "a b&c|1 2",
		},

		// ---- Request.Form ----
		{
			name:   "Form urlencoded",
			method: "POST",
			ctype:  "application/x-www-form-urlencoded",
			body:   "a=1&b=x&b=y&Name=J%C3%BCrg",
			page:   `<%= Request.Form["a"] %>|<%= table.concat(Request.Form:Values("b"), ",") %>|<%= table.concat(Request.Form.Values("b"), ",") %>|<%= Request.Form.Count %>|<%= Request.Form("name") %>|<%= Request.Form:Item("a") %>|<%= table.concat(Request.Form:Keys(), ",") %>`,
			want:   "1|x,y|x,y|3|Jürg|1|Name,a,b",
		},
		{
			name:   "Form multipart",
			method: "POST",
			ctype:  apiMultipartType,
			body:   apiMultipartBody,
			page:   `<%= Request.Form["a"] %>|<%= table.concat(Request.Form:Values("b"), ",") %>|<%= Request.Form.Count %>|<%= tostring(Request.Form.upload) %>`,
			want:   "1|x,y|2|nil",
		},
		{
			name: "Form on a GET is empty",
			page: `<%= Request.Form.Count %>|<%= tostring(Request.Form.a) %>`,
			want: "0|nil",
		},
		{
			name:   "Form ignores other content types",
			method: "POST",
			ctype:  "application/json",
			body:   `{"a":1}`,
			page:   `<%= Request.Form.Count %>|<%= Request.TotalBytes %>`,
			want:   "0|7",
		},

		// ---- Request.Cookies ----
		{
			name:    "Cookies[k]",
			cookies: []*http.Cookie{{Name: "a", Value: "1"}, {Name: "Theme", Value: "dark"}},
			page:    `<%= Request.Cookies["a"] %>|<%= Request.Cookies("Theme") %>|<%= Request.Cookies.theme %>|<%= Request.Cookies.Count %>|<%= tostring(Request.Cookies.none) %>`,
			want:    "1|dark|dark|2|nil",
		},

		// ---- Request.ServerVariables ----
		{
			name:   "ServerVariables",
			method: "POST",
			target: "/t.lasp?a=1&b=2",
			ctype:  "text/plain",
			body:   "x",
			header: map[string]string{"User-Agent": "lasp-test/1.0", "X-Custom-Header": "custom value"},
			page: `<% local sv = Request.ServerVariables
for _, k in ipairs({"REQUEST_METHOD", "URL", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR",
  "SERVER_NAME", "SERVER_PORT", "HTTPS", "HTTP_USER_AGENT", "HTTP_X_CUSTOM_HEADER", "CONTENT_TYPE", "HTTP_HOST"}) do
  Response.Write(k .. "=" .. tostring(sv[k]) .. "\n")
end %>`,
			want: "REQUEST_METHOD=POST\nURL=/t.lasp\nPATH_INFO=/t.lasp\nQUERY_STRING=a=1&b=2\nREMOTE_ADDR=127.0.0.1\n" +
				"SERVER_NAME=127.0.0.1\nSERVER_PORT={port}\nHTTPS=off\nHTTP_USER_AGENT=lasp-test/1.0\n" +
				"HTTP_X_CUSTOM_HEADER=custom value\nCONTENT_TYPE=text/plain\nHTTP_HOST=127.0.0.1:{port}\n",
		},
		{
			name: "ServerVariables unknown is nil",
			page: `<%= tostring(Request.ServerVariables["NO_SUCH_VAR"]) %>|<%= tostring(Request.ServerVariables["HTTP_X_ABSENT"]) %>`,
			want: "nil|nil",
		},

		// ---- Request[k] ----
		{
			name:    "Request[k] precedence",
			method:  "POST",
			target:  "/t.lasp?a=query",
			ctype:   "application/x-www-form-urlencoded",
			body:    "a=form&b=form",
			cookies: []*http.Cookie{{Name: "a", Value: "cookie"}, {Name: "b", Value: "cookie"}, {Name: "c", Value: "cookie"}},
			page:    `<%= Request["a"] %>|<%= Request["b"] %>|<%= Request["c"] %>|<%= Request["REQUEST_METHOD"] %>|<%= Request.HTTP_HOST == Request.ServerVariables.HTTP_HOST %>|<%= tostring(Request["zz"]) %>`,
			want:    "query|form|cookie|POST|true|nil",
		},

		// ---- Request.TotalBytes, Request.Body ----
		{
			name:   "TotalBytes and Body",
			method: "POST",
			ctype:  "application/octet-stream",
			body:   "hello\x00world",
			page:   `<%= Request.TotalBytes %>|<%= #Request.Body %>|<%= Request.Body:gsub("%z", "0") %>`,
			want:   "11|11|hello0world",
		},
		{
			name:   "Body then Form",
			method: "POST",
			ctype:  "application/x-www-form-urlencoded",
			body:   "a=1",
			page:   `<%- Request.Body %>|<%= Request.Form.a %>`,
			want:   "a=1|1",
		},
		{
			name: "TotalBytes of a GET",
			page: `<%= Request.TotalBytes %>|<%= Request.Body == "" %>`,
			want: "0|true",
		},

		// ---- Response.Redirect ----
		{
			name:    "Redirect",
			page:    `before<% Response.Redirect("/elsewhere?a=1&b=2") %>after`,
			status:  302,
			headers: map[string]string{"Location": "/elsewhere?a=1&b=2"},
			want:    `<html><head><title>Object moved</title></head><body><h1>Object Moved</h1>This object may be found <a href="/elsewhere?a=1&amp;b=2">here</a>.</body></html>`,
		},

		// ---- Response.Status ----
		{
			name:   "Status number",
			page:   `<% Response.Status = 404 %>nf`,
			status: 404,
			want:   "nf",
		},

		// ---- Response.ContentType, AddHeader ----
		{
			name:    "ContentType default",
			page:    `<%= Response.ContentType %>|<%= Response.Charset %>`,
			headers: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			want:    "text/html|utf-8",
		},
		{
			name:    "AddHeader",
			page:    `<% Response.AddHeader("X-Test", "1") Response:AddHeader("X-Test", "2") Response.AddHeader("X-Other", "o") %>ok`,
			headers: map[string]string{"X-Test": "1, 2", "X-Other": "o"},
			want:    "ok",
		},

		// ---- Response.Cookies ----
		{
			name:       "Cookies[name] = value",
			page:       `<% Response.Cookies["a"] = "v" Response.Cookies.n = 42 %><%= Response.Cookies["a"] %>`,
			setCookies: []string{"a=v; Path=/", "n=42; Path=/"},
			want:       "v",
		},
		{
			name: "Cookies[name] = table",
			page: `<% Response.Cookies["t"] = {Value = "v", Path = "/app", Expires = os.time() + 60, HttpOnly = true, Secure = true, SameSite = "Strict"} %>ok`,
			want: "ok",
			check: func(t *testing.T, a *app, res *http.Response, body string) {
				lines := pageCookies(res)
				if len(lines) != 1 {
					t.Fatalf("Set-Cookie: %q, want one", lines)
				}
				c, err := http.ParseSetCookie(lines[0])
				if err != nil {
					t.Fatalf("Set-Cookie %q: %v", lines[0], err)
				}
				if c.Name != "t" || c.Value != "v" || c.Path != "/app" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode {
					t.Errorf("Set-Cookie %q parsed as %+v", lines[0], c)
				}
				// os.time()+60 is a minute from now; allow a wide margin
				// for a slow machine: this checks the unit, not a duration.
				if now := time.Now(); c.Expires.Before(now) || c.Expires.After(now.Add(time.Hour)) {
					t.Errorf("cookie expires %v, want about a minute after %v", c.Expires, now)
				}
			},
		},
		{
			// Response.Cookies remembers what this request set, and only that.
			name:   "Cookies set by an earlier request are not visible",
			files:  map[string]string{"set.lasp": `<% Response.Cookies["leak"] = "secret" %>set`},
			before: []string{"/set.lasp"},
			page:   `<%= tostring(Response.Cookies["leak"]) %>`,
			want:   "nil",
			absent: []string{"Set-Cookie"},
		},

		// ---- Response.Buffer, Flush ----
		{
			name:   "Buffer = false streams",
			page:   `<% Response.Buffer = false %>first<% Server.Sleep(600) %>never`,
			config: apiShortTimeout,
			stream: "first",
		},
		{
			name:   "Flush",
			page:   `one<% Response.Flush() %><% Server.Sleep(600) %>never`,
			config: apiShortTimeout,
			stream: "one",
		},

		// ---- Response.Expires ----
		{
			name:    "Expires",
			page:    `<% Response.Expires = 10 %>ok`,
			present: []string{"Expires"},
			want:    "ok",
			check: func(t *testing.T, a *app, res *http.Response, body string) {
				at, err := http.ParseTime(res.Header.Get("Expires"))
				if err != nil {
					t.Fatalf("Expires %q: %v", res.Header.Get("Expires"), err)
				}
				if !at.After(time.Now()) {
					t.Errorf("Expires %v is not in the future", at)
				}
			},
		},

		// ---- Server ----
		{
			name:   "MapPath",
			target: "/sub/t.lasp",
			files:  map[string]string{"sub/t.lasp": `<%- Server.MapPath("/x.txt") %>|<%- Server.MapPath("y.txt") %>|<%- Server:MapPath("../z.txt") %>|<%- Server.MapPath("/") %>`},
			want:   "{dir}/x.txt|{dir}/sub/y.txt|{dir}/z.txt|{dir}",
		},
		{
			name:     "MapPath outside the root",
			page:     `<%- Server.MapPath("../../etc/passwd") %>`,
			status:   500,
			excludes: []string{"passwd"},
			log:      []string{"outside the application root"},
		},
		{
			name: "ScriptTimeout default",
			page: `<%= Server.ScriptTimeout %>`,
			want: "90",
		},
		{
			name:   "ScriptTimeout from Config",
			config: func(c *Config) { c.ScriptTimeout = 30 * time.Second },
			page:   `<%= Server.ScriptTimeout %>`,
			want:   "30",
		},
		{
			name:   "GetLastError in 500.lasp",
			files:  map[string]string{"500.lasp": `<% local e = Server.GetLastError() %><%= e.File %>:<%= e.Line %>|<%= e.Description %>|<%= e.Category %>|<%= e.Source %>`},
			page:   "line 1\n<% error(\"boom\") %>\n",
			status: 500,
			want:   `t.lasp:2|boom|Lua runtime error|&lt;% error(&#34;boom&#34;) %&gt;`,
		},
		{
			name:   "GetLastError RequestID is the logged one",
			files:  map[string]string{"500.lasp": `<%= Server.GetLastError().RequestID %>`},
			page:   `<% error("boom") %>`,
			status: 500,
			check: func(t *testing.T, a *app, res *http.Response, body string) {
				if !apiRequestID.MatchString(body) {
					t.Fatalf("RequestID %q", body)
				}
				failureLogLine(t, a, body)
			},
		},

		// ---- print ----
		{
			name:     "print goes to the log",
			page:     `<% print("hello from", "the page", 42) %>ok`,
			want:     "ok",
			excludes: []string{"hello"},
			check: func(t *testing.T, a *app, res *http.Response, body string) {
				line := apiLogLine(t, a, "hello from\tthe page\t42")
				if id, _ := line["request_id"].(string); !apiRequestID.MatchString(id) {
					t.Errorf("print log line has request_id %q: %v", id, line)
				}
				if line["page"] != "t.lasp" {
					t.Errorf("print log line has page %v", line["page"])
				}
			},
		},

		// ---- directives ----
		{
			name:     "unknown directive in -dev",
			config:   func(c *Config) { c.Dev = true },
			page:     `<%@ Transactional="Required" %>ok`,
			status:   500,
			contains: []string{"unknown directive Transactional", "compile error", "t.lasp:1"},
		},
	}

	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) { runAPICase(t, c) })
	}
}

// runAPICase serves c's application and checks c's request against it.
func runAPICase(t *testing.T, c apiCase) {
	files := map[string]string{}
	for k, v := range c.files {
		files[k] = v
	}
	if c.page != "" {
		files["t.lasp"] = c.page
	}
	var configure []func(*Config)
	if c.config != nil {
		configure = append(configure, c.config)
	}
	a := newApp(t, files, configure...)
	client := apiClient(a)
	for _, p := range c.before {
		a.mustGet(t, p)
	}

	req := apiRequest(t, a, c)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	wantStatus := c.status
	if wantStatus == 0 {
		wantStatus = http.StatusOK
	}

	if c.stream != "" {
		// The page is still in Server.Sleep: the head and the first bytes
		// must arrive now. If the server buffered them instead, the page
		// would end at its script timeout with a 500.
		if res.StatusCode != wantStatus {
			t.Fatalf("status %d, want %d\nlog:\n%s", res.StatusCode, wantStatus, a.log)
		}
		first := make([]byte, len(c.stream))
		if _, err := io.ReadFull(res.Body, first); err != nil {
			t.Fatalf("reading the first %d bytes: %v", len(first), err)
		}
		if string(first) != c.stream {
			t.Errorf("first bytes %q, want %q", first, c.stream)
		}
		// Closing the body ends the connection: the page's Sleep wakes up
		// and the page stops (checked by the app's cleanup, which waits
		// for it).
		return
	}

	b, readErr := io.ReadAll(res.Body)
	body := string(b)
	if readErr != nil && !c.partial {
		t.Errorf("reading the body: %v", readErr)
	}
	if res.StatusCode != wantStatus {
		t.Errorf("status %d, want %d\nbody: %.300q\nlog:\n%s", res.StatusCode, wantStatus, body, a.log)
	}
	switch {
	case c.contains != nil:
		for _, s := range c.contains {
			if !strings.Contains(body, s) {
				t.Errorf("body does not contain %q:\n%s", s, body)
			}
		}
	case c.status == 0 || c.status < 500 || c.want != "":
		if want := apiExpand(a, c.want); body != want {
			t.Errorf("body:\n%q\nwant:\n%q\nlog:\n%s", body, want, a.log)
		}
	}
	for _, s := range c.excludes {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q:\n%s", s, body)
		}
	}
	for k, v := range c.headers {
		if got := strings.Join(res.Header.Values(k), ", "); got != v {
			t.Errorf("header %s: %q, want %q", k, got, v)
		}
	}
	for _, k := range c.present {
		if res.Header.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	for _, k := range c.absent {
		if v := res.Header.Values(k); k == "Set-Cookie" {
			v = pageCookies(res)
			if len(v) > 0 {
				t.Errorf("header %s: %q, want none", k, v)
			}
		} else if len(v) > 0 {
			t.Errorf("header %s: %q, want none", k, v)
		}
	}
	if c.setCookies != nil {
		if got := pageCookies(res); strings.Join(got, "\n") != strings.Join(c.setCookies, "\n") {
			t.Errorf("Set-Cookie: %q, want %q", got, c.setCookies)
		}
	}
	if len(c.log) > 0 {
		// A failed page is logged before its response ends, so the log
		// is complete once the body has been read.
		logs := a.log.String()
		for _, s := range c.log {
			if !strings.Contains(logs, s) {
				t.Errorf("log does not contain %q:\n%s", s, logs)
			}
		}
	}
	if c.check != nil {
		c.check(t, a, res, body)
	}
}

// apiRequest builds c's request for a.
func apiRequest(t *testing.T, a *app, c apiCase) *http.Request {
	t.Helper()
	method, target := c.method, c.target
	if method == "" {
		method = http.MethodGet
	}
	if target == "" {
		target = "/t.lasp"
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, a.URL+target, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	return req
}

// apiClient is a's client that does not follow redirects.
func apiClient(a *app) *http.Client {
	c := *a.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// apiExpand replaces {dir} and {port} in s.
func apiExpand(a *app, s string) string {
	u, _ := url.Parse(a.URL)
	return strings.NewReplacer("{dir}", a.dir, "{port}", u.Port()).Replace(s)
}

// apiShortTimeout bounds how long a streaming case can hang when the server
// wrongly holds its output: the page then fails instead.
func apiShortTimeout(c *Config) { c.ScriptTimeout = 10 * time.Second }

// apiRequestID is the shape of a request ID.
var apiRequestID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9]+$`)

// apiLogLines decodes the app's JSON log.
func apiLogLines(t *testing.T, a *app) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(a.log.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// apiLogLine returns the one log line whose raw text contains s.
func apiLogLine(t *testing.T, a *app, s string) map[string]any {
	t.Helper()
	js, _ := json.Marshal(s)
	frag := strings.Trim(string(js), `"`)
	var found []string
	for _, l := range strings.Split(a.log.String(), "\n") {
		if strings.Contains(l, frag) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d log lines contain %q, want 1:\n%s", len(found), s, a.log)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(found[0]), &m); err != nil {
		t.Fatalf("log line %q: %v", found[0], err)
	}
	return m
}

// The multipart body of the "Form multipart" case: a and b (twice) as
// fields, and a file that is not a form value.
var apiMultipartType, apiMultipartBody = func() (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, kv := range [][2]string{{"a", "1"}, {"b", "x"}, {"b", "y"}} {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			panic(err)
		}
	}
	f, err := w.CreateFormFile("upload", "u.txt")
	if err != nil {
		panic(err)
	}
	f.Write([]byte("file content"))
	if err := w.Close(); err != nil {
		panic(err)
	}
	return w.FormDataContentType(), b.String()
}()

// TestLogLines checks the log lines that pages write: print and
// Response.AppendToLog. Their text must not collide with slog's own message
// key, which a JSON reader would then drop.
func TestLogLines(t *testing.T) {
	for _, c := range []struct {
		name string
		page string
		text string // the text that must reach the log
	}{
		{name: "print", page: `<% print("printed", "text") %>`, text: "printed\ttext"},
		{name: "AppendToLog", page: `<% Response.AppendToLog("appended text") %>`, text: "appended text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(t, map[string]string{"p.lasp": c.page})
			if got := a.mustGet(t, "/p.lasp"); got != "" {
				t.Errorf("the page shows %q", got)
			}
			line := apiLogLine(t, a, c.text)
			if id, _ := line["request_id"].(string); !apiRequestID.MatchString(id) {
				t.Errorf("log line has request_id %q: %v", id, line)
			}
			frag, _ := json.Marshal(c.text)
			for _, raw := range strings.Split(a.log.String(), "\n") {
				if strings.Contains(raw, string(frag)) && strings.Count(raw, `"msg":`) != 1 {
					t.Errorf("the log line has %d \"msg\" keys; a JSON reader keeps only one:\n%s", strings.Count(raw, `"msg":`), raw)
				}
			}
		})
	}
}

// pageCookies are the Set-Cookie lines a page wrote: all but the session's.
func pageCookies(res *http.Response) []string {
	var lines []string
	for _, l := range res.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(l, sessionCookie+"=") {
			lines = append(lines, l)
		}
	}
	return lines
}
