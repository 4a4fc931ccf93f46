package framework

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestTrustedProxies: X-Forwarded-For and X-Forwarded-Proto set
// REMOTE_ADDR, HTTPS and the session cookie's Secure only when the peer is
// a trusted proxy; the addresses a client wrote itself are not believed.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"who.lasp": `<% Session["x"] = 1 %><%= Request.ServerVariables("REMOTE_ADDR") %> <%= Request.ServerVariables("HTTPS") %>`,
	}
	trusted := newApp(t, files, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	untrusted := newApp(t, files)
	for _, tc := range []struct {
		name       string
		a          *app
		xff, proto string
		want       string
		secure     bool
	}{
		{name: "trusted, one hop", a: trusted, xff: "203.0.113.7", proto: "https", want: "203.0.113.7 on", secure: true},
		{name: "trusted, a client's lie left of the real address", a: trusted, xff: "6.6.6.6, 203.0.113.7, 10.1.2.3", proto: "http, https", want: "203.0.113.7 on", secure: true},
		{name: "trusted, plain http", a: trusted, xff: "203.0.113.7", proto: "http", want: "203.0.113.7 off"},
		{name: "trusted, garbage", a: trusted, xff: "not-an-ip", want: "127.0.0.1 off"},
		{name: "trusted, no headers", a: trusted, want: "127.0.0.1 off"},
		{name: "untrusted peer", a: untrusted, xff: "203.0.113.7", proto: "https", want: "127.0.0.1 off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, "GET", tc.a.URL+"/who.lasp", "")
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			res, body := tc.a.do(t, req)
			if body != tc.want {
				t.Errorf("REMOTE_ADDR HTTPS = %q, want %q", body, tc.want)
			}
			cookies := res.Cookies()
			if len(cookies) != 1 || cookies[0].Secure != tc.secure {
				t.Errorf("session cookie %v, want Secure=%v", res.Header.Values("Set-Cookie"), tc.secure)
			}
		})
	}
}

// TestCrossOrigin: a browser's POST from another origin answers 403 and
// runs nothing; same-origin POSTs, GETs from anywhere and requests
// without browser headers pass; a trusted origin passes; the protection
// can be turned off.
func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	files := map[string]string{"post.lasp": `<%@ EnableSessionState="False" %><% Application["n"] = (Application["n"] or 0) + 1 %><%= Application["n"] %>`}
	a := newApp(t, files)
	trusting := http.NewCrossOriginProtection()
	if err := trusting.AddTrustedOrigin("https://partner.example"); err != nil {
		t.Fatal(err)
	}
	b := newApp(t, files, func(c *Config) { c.CrossOrigin = trusting })
	off := newApp(t, files, func(c *Config) { c.AllowCrossOrigin = true })
	post := func(a *app, method string, headers ...string) (int, string) {
		req := newRequest(t, method, a.URL+"/post.lasp", "x=1")
		for i := 0; i < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, body := a.do(t, req)
		return res.StatusCode, body
	}
	for _, tc := range []struct {
		name    string
		a       *app
		method  string
		headers []string
		want    int
	}{
		{"cross-site POST", a, "POST", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"cross-origin POST by Origin", a, "POST", []string{"Origin", "https://evil.example"}, 403},
		{"cross-site PUT", a, "PUT", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-origin POST", a, "POST", []string{"Sec-Fetch-Site", "same-origin"}, 200},
		{"POST without browser headers", a, "POST", nil, 200},
		{"cross-site GET", a, "GET", []string{"Sec-Fetch-Site", "cross-site"}, 200},
		{"trusted origin", b, "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://partner.example"}, 200},
		{"other origin, trusting one", b, "POST", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"protection off", off, "POST", []string{"Sec-Fetch-Site", "cross-site"}, 200},
	} {
		if status, body := post(tc.a, tc.method, tc.headers...); status != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, status, body, tc.want)
		}
	}
	// The refused requests ran nothing: a's counter saw only its three.
	if got := a.mustGet(t, "/post.lasp"); got != "4" {
		t.Errorf("a's page ran %s times, want 4 (the refused requests ran nothing)", got)
	}
}

// TestMountedUnderPrefix: under http.StripPrefix the framework's own
// directory redirect stays under the prefix, and APPL_PATH, SCRIPT_NAME and
// URL give the paths as the client sees them, for building links.
func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"sub/index.lasp": `<%= Request.ServerVariables("APPL_PATH") %>|<%= Request.ServerVariables("SCRIPT_NAME") %>|<%= Request.ServerVariables("URL") %>`,
	})
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", a.srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(ts.URL + "/app/sub?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 301 || res.Header.Get("Location") != "sub/?x=1" {
		t.Errorf("GET /app/sub: %d, Location %q, want 301 to sub/?x=1", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = http.Get(ts.URL + "/app/sub") // following the redirect
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	if res.Request.URL.Path != "/app/sub/" || body != "/app/|/app/sub/|/app/sub/" {
		t.Errorf("followed to %s: %q", res.Request.URL.Path, body)
	}
	// At the root, nothing changes.
	if got := a.mustGet(t, "/sub/"); got != "/|/sub/|/sub/" {
		t.Errorf("at the root: %q", got)
	}
	res, err = c.Get(a.URL + "/sub")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); !strings.HasSuffix(loc, "sub/") {
		t.Errorf("at the root, Location %q", loc)
	}
}
