package framework

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notFoundFiles is an application with files that must never be served,
// each holding secretText.
var notFoundFiles = map[string]string{
	"index.lasp":                 "home",
	"global.lasa":                "<!-- " + secretText + " -->",
	"lib/x.lua":                  "return '" + secretText + "'",
	"components/Animals.Dog.lua": secretText,
	"data/shop.db":               secretText,
	"data/sub/x":                 secretText,
	"data/index.html":            secretText,
	"inc/header.inc":             secretText,
	".git/config":                secretText,
	"sub/data/x.txt":             "fine: data/ only at the root",
}

// rawDo sends one request with the request target exactly as given (no
// client cleans or re-escapes it) and returns the response with its body.
func rawDo(t *testing.T, addr, method, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", method, target); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %q: %v", method, target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestNotFoundData(t *testing.T) {
	a := newApp(t, notFoundFiles)
	addr := a.Listener.Addr().String()
	for _, target := range []string{
		"/data/shop.db", "/DATA/shop.db", "/Data/sub/x", "/dAtA/SHOP.DB",
		"/data", "/data/", "/DATA/", "/%64ata/shop.db", "/%44ATA/shop.db",
		"/data%2fshop.db", "/sub/../data/shop.db", "/%2e/data/shop.db",
	} {
		res, body := rawDo(t, addr, "GET", target)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
		if strings.Contains(body, secretText) {
			t.Errorf("GET %s: body leaks the secret: %q", target, body)
		}
	}
	if got := a.mustGet(t, "/sub/data/x.txt"); got != "fine: data/ only at the root" {
		t.Errorf("GET /sub/data/x.txt = %q", got)
	}
}

// TestNotFoundPage: 404.lasp runs with status 404 already set and sees the
// URL asked for, for every method, its own URL included.
func TestNotFoundPage(t *testing.T) {
	files := map[string]string{
		"404.lasp":     `<%@ ContentType="text/plain" %>[<%= Response.Status %>] <%= Request.ServerVariables["URL"] %> <%= Request.ServerVariables["REQUEST_METHOD"] %>`,
		"index.lasp":   "home",
		"sub/404.lasp": "a page like any other",
		"lib/x.lua":    secretText,
	}
	a := newApp(t, files)
	cases := []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/missing.html", 404, "[404] /missing.html GET"},
		{"GET", "/dir/nope.lasp?x=1", 404, "[404] /dir/nope.lasp GET"},
		{"GET", "/lib/x.lua", 404, "[404] /lib/x.lua GET"},
		{"POST", "/missing.lasp", 404, "[404] /missing.lasp POST"},
		{"DELETE", "/missing.css", 404, "[404] /missing.css DELETE"},
		{"PUT", "/lib/x.lua", 404, "[404] /lib/x.lua PUT"},
		{"HEAD", "/missing.html", 404, ""},
		{"GET", "/404.lasp", 404, "[404] /404.lasp GET"},
		{"POST", "/404.lasp", 404, "[404] /404.lasp POST"},
		{"HEAD", "/404.lasp", 404, ""},
		{"GET", "/sub/404.lasp", 200, "a page like any other"},
		{"GET", "/", 200, "home"},
	}
	for _, c := range cases {
		res, body := a.do(t, newRequest(t, c.method, a.URL+c.path, ""))
		if res.StatusCode != c.status || body != c.want {
			t.Errorf("%s %s: %d %q, want %d %q\nlog:\n%s", c.method, c.path, res.StatusCode, body, c.status, c.want, a.log.String())
		}
		if c.status == 404 {
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("%s %s: Content-Type %q, want 404.lasp's text/plain", c.method, c.path, ct)
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s %s: 404.lasp sets a cookie: %q", c.method, c.path, res.Header.Get("Set-Cookie"))
			}
		}
	}
}

// TestNotFoundIdentical: a never-served path answers byte for byte as a
// missing one does (the Date header and the request ID apart), with the
// default page and with 404.lasp, for GET, HEAD and other methods.
func TestNotFoundIdentical(t *testing.T) {
	hiddenTargets := []string{
		"/global.lasa", "/GLOBAL.LASA", "/lib/x.lua", "/components/Animals.Dog.lua",
		"/data/shop.db", "/DATA/shop.db", "/data/", "/inc/header.inc", "/.git/config",
		"/%2e%2e/secret", "/%2E%2E/%2e%2e/etc/passwd", "/sub/..%2f..%2fsecret", "/%2eenv",
		"/lib", "/lib/",
	}
	for _, tt := range []struct {
		name  string
		files map[string]string
	}{
		{"default", nil},
		{"404.lasp", map[string]string{"404.lasp": `<% Response.AddHeader("X-Lasp-404", "yes") %>no such page (<%= Response.Status %>)`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range notFoundFiles {
				files[k] = v
			}
			for k, v := range tt.files {
				files[k] = v
			}
			a := newApp(t, files)
			addr := a.Listener.Addr().String()
			targets := hiddenTargets
			if tt.files != nil {
				targets = append(slices.Clip(targets), "/404.lasp")
			}
			for _, method := range []string{"GET", "HEAD", "POST", "OPTIONS"} {
				want, wantBody := rawDo(t, addr, method, "/missing.html")
				if want.StatusCode != http.StatusNotFound {
					t.Fatalf("%s /missing.html: status %d, want 404", method, want.StatusCode)
				}
				if tt.files != nil && method != "HEAD" && wantBody != "no such page (404)" {
					t.Fatalf("%s /missing.html: body %q, not 404.lasp's", method, wantBody)
				}
				for _, target := range targets {
					got, gotBody := rawDo(t, addr, method, target)
					if got.StatusCode != want.StatusCode {
						t.Errorf("%s %s: status %d, a missing page's %d", method, target, got.StatusCode, want.StatusCode)
					}
					if g, w := sameHeader(t, got, gotBody), sameHeader(t, want, wantBody); !equalHeader(g, w) {
						t.Errorf("%s %s: header\n%v\na missing page's\n%v", method, target, g, w)
					}
					if g, w := withoutRequestID(gotBody), withoutRequestID(wantBody); g != w {
						t.Errorf("%s %s: body\n%q\na missing page's\n%q", method, target, g, w)
					}
				}
			}
		})
	}
}

// sameHeader is res's header without what differs from one response to
// the next: Date, and Content-Length (the request ID's length), which is
// checked against the body instead.
func sameHeader(t *testing.T, res *http.Response, body string) http.Header {
	t.Helper()
	h := res.Header.Clone()
	if cl := h.Get("Content-Length"); cl != "" && res.Request.Method != "HEAD" {
		if n, err := strconv.Atoi(cl); err != nil || n != len(body) {
			t.Errorf("Content-Length %q, body %d bytes", cl, len(body))
		}
	}
	h.Del("Date")
	h.Del("Content-Length")
	return h
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// withoutRequestID replaces the request ID of a generic error page.
func withoutRequestID(body string) string {
	return requestIDInPage.ReplaceAllString(body, "Request ID: <code>ID</code>")
}

// TestNotFoundPageFails: a 404.lasp that fails, does not compile or uses a
// session answers the plain 404, and the log says why.
func TestNotFoundPageFails(t *testing.T) {
	cases := []struct {
		name, page, log string
	}{
		{"runtime error", `partial output<% error("the 404 page fails") %>`, "the 404 page fails"},
		{"compile error", `partial output<% if then %>`, "404.lasp does not compile"},
		{"session", `partial output<% Session["x"] = 1 %>`, "has no session"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(t, map[string]string{"404.lasp": c.page})
			for _, path := range []string{"/missing.html", "/global.lasa", "/404.lasp"} {
				res, body := a.do(t, newRequest(t, "GET", a.URL+path, ""))
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
				}
				if !strings.Contains(body, "Not Found") || strings.Contains(body, "partial output") {
					t.Errorf("GET %s: body %q, want the plain 404", path, body)
				}
				if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("GET %s: Content-Type %q", path, ct)
				}
			}
			if log := a.log.String(); !strings.Contains(log, "404.lasp") || !strings.Contains(log, c.log) {
				t.Errorf("log does not say %q:\n%s", c.log, log)
			}
		})
	}
}

// TestNotFoundPageDev: in -dev 404.lasp runs too (there are no details to
// show), and a change to it shows on the next request.
func TestNotFoundPageDev(t *testing.T) {
	a := newApp(t, map[string]string{"404.lasp": "first"}, func(c *Config) { c.Dev = true })
	if status, body := a.get(t, "/nope"); status != 404 || body != "first" {
		t.Fatalf("GET /nope: %d %q, want 404 %q", status, body, "first")
	}
	writeTree(t, a.dir, map[string]string{"404.lasp": "second, longer"})
	if status, body := a.get(t, "/nope"); status != 404 || body != "second, longer" {
		t.Errorf("GET /nope after the edit: %d %q, want 404 %q", status, body, "second, longer")
	}
}
