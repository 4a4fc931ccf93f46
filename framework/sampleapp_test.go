package framework

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// copyApp copies the application in dir (relative to this package) into a
// temp dir, without any data/ a developer's run left there, and returns the
// copy's path: tests serve the copy, so that data/shop.db is made there and
// never in the repository.
func copyApp(t testing.TB, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "app")
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dst, "data")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// serveSampleApp serves a copy of ../sampleapp (Lasp Shop) in production
// mode; extra files (slash-separated name → content) are added to the copy
// first, and configure, if given, changes its Config.
func serveSampleApp(t *testing.T, extra map[string]string, configure ...func(*Config)) *app {
	t.Helper()
	dir := copyApp(t, "../sampleapp")
	writeTree(t, dir, extra)
	return serveDir(t, dir, configure...)
}

// shopDB opens the shop's SQLite database in a's directory, to check what
// the pages wrote.
func shopDB(t *testing.T, a *app) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(a.dir, "data", "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryInt runs a query that returns one integer.
func queryInt(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
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

// shopLayout is what every styled page of the shop has: the stylesheet,
// the header bar and the footer.
var shopLayout = []string{
	`<link rel="stylesheet" href="/css/site.css">`,
	`<a class="brand" href="/"><span class="logo" aria-hidden="true">L</span> Lasp Shop</a>`,
	"</main>\n<footer class=\"site\">",
	`<a href="/animals.lasp">Don Box's animals</a>`,
	"</html>",
}

// post posts form to path with client c, following redirects, and returns
// the final response with its body read.
func post(t *testing.T, a *app, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(a.URL+path, form)
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

// mustPost is post that fails unless the final answer is 200.
func mustPost(t *testing.T, a *app, c *http.Client, path string, form url.Values) string {
	t.Helper()
	res, body := post(t, a, c, path, form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d, body:\n%s\nlog:\n%s", path, res.StatusCode, body, a.log.String())
	}
	return body
}

// shopSession is the session cookie c holds for a, or "".
func shopSession(t *testing.T, a *app, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(a.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	return ""
}

// TestSampleAppPages: every page a visitor can open answers 200 with the
// layout and its own content, and no page source leaks.
func TestSampleAppPages(t *testing.T) {
	a := serveSampleApp(t, nil)
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{
			"<title>Teas · Lasp Shop</title>",
			`<a href="/" aria-current="page">Teas</a>`,
			`<a href="/login.lasp" class="button small">Sign in</a>`,
			"<h1>Fine teas, brewed in Lua</h1>",
			`<input type="search" id="q" name="q"`,
			`<script src="/js/search.js"></script>`,
			`<a href="/product.lasp?id=1">`,
			`<strong class="name">Sencha Green Tea</strong>`,
			`<span class="price">$12.50</span>`,
			`<span class="stock out">Sold out</span>`,
			`<span class="stock low">Only 3 left</span>`,
		}},
		{"/index.lasp", []string{`<a href="/" aria-current="page">Teas</a>`, "Sencha Green Tea"}},
		{"/product.lasp?id=4", []string{
			"<title>Jasmine Pearls · Lasp Shop</title>",
			"<h1>Jasmine Pearls</h1>",
			`<p class="price big">$18.00</p>`,
			`<form method="post" action="/cart.lasp" class="add">`,
			`<input type="hidden" name="id" value="4">`,
			`<button id="add">Add to cart</button>`,
		}},
		{"/product.lasp?id=7", []string{"<h1>Gyokuro Imperial</h1>", "Sold out: back soon."}},
		{"/cart.lasp", []string{"<title>Your cart · Lasp Shop</title>", "Your cart is empty."}},
		{"/login.lasp", []string{
			"<title>Sign in · Lasp Shop</title>",
			`<form method="post" action="/login.lasp" class="stack">`,
			`<input type="hidden" name="next" value="/account.lasp">`,
			`<input type="password" name="password" id="password"`,
		}},
		{"/login.lasp?next=/cart.lasp", []string{`<input type="hidden" name="next" value="/cart.lasp">`}},
		{"/login.lasp?next=https://evil.example/", []string{`<input type="hidden" name="next" value="/account.lasp">`}},
		{"/animals.lasp", []string{"<h1>Don Box's animals</h1>", "Your dog says: Woof #1"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			body := a.mustGet(t, tt.path)
			mustContain(t, "GET "+tt.path, body, append(tt.want, shopLayout...)...)
			mustNotContain(t, "GET "+tt.path, body, "<%", "%>")
		})
	}
	t.Run("/500.lasp", func(t *testing.T) {
		body := a.mustGet(t, "/500.lasp")
		mustContain(t, "500.lasp", body, `<link rel="stylesheet" href="/css/site.css">`,
			"<h1>Sorry, something went wrong</h1>", "No error to report")
	})
}

func TestSampleAppStatic(t *testing.T) {
	a := serveSampleApp(t, nil)
	for _, tt := range []struct{ path, ctype, want string }{
		{"/css/site.css", "text/css", "header.site"},
		{"/js/search.js", "text/javascript", `fetch("/search.lasp?q="`},
	} {
		res, body := a.do(t, newRequest(t, "GET", a.URL+tt.path, ""))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", tt.path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", tt.path, ct, tt.ctype)
		}
		mustContain(t, tt.path, body, tt.want)
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag: %v", tt.path, res.Header)
		}
		req := newRequest(t, "GET", a.URL+tt.path, "")
		req.Header.Set("If-None-Match", etag)
		if res, _ := a.do(t, req); res.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: status %d, want 304", tt.path, etag, res.StatusCode)
		}
	}
}

// TestSampleAppNotFound: missing and never-served URLs get the styled
// 404.lasp, with status 404; so does a product that does not exist.
func TestSampleAppNotFound(t *testing.T) {
	a := serveSampleApp(t, nil)
	a.mustGet(t, "/") // makes data/shop.db
	for _, p := range []string{"/nope.lasp", "/no/such/page", "/global.lasa", "/lib/shop.lua", "/inc/header.inc", "/INC/footer.inc", "/data/shop.db", "/components/Animals.Cat.lua", "/404.lasp"} {
		status, body := a.get(t, p)
		if status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404; body:\n%s", p, status, body)
			continue
		}
		mustContain(t, "GET "+p, body, append([]string{
			"<title>Page not found · Lasp Shop</title>",
			`<section class="card notice narrow" id="not-found">`,
			"<h1>We could not find that page</h1>",
			"There is nothing at <code>" + p + "</code>",
		}, shopLayout...)...)
	}
	status, body := a.get(t, "/product.lasp?id=99")
	if status != http.StatusNotFound {
		t.Errorf("GET /product.lasp?id=99: status %d, want 404", status)
	}
	mustContain(t, "missing product", body, append([]string{"<h1>No such tea</h1>"}, shopLayout...)...)
}

// TestSampleAppErrorPage: a page that fails gets the styled 500.lasp, which
// names the file and line and the request ID of the log entry, and nothing
// the failed page wrote.
func TestSampleAppErrorPage(t *testing.T) {
	a := serveSampleApp(t, map[string]string{
		"broken.lasp": "<% title = \"Broken\" %><!--#include file=\"inc/header.inc\"-->\n<h1>An order summary</h1>\n<% local order = nil %>\n<p>Total: <%= order.total %></p>\n<!--#include file=\"inc/footer.inc\"-->\n",
	})
	res, body := a.do(t, newRequest(t, "GET", a.URL+"/broken.lasp", ""))
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body:\n%s", res.StatusCode, body)
	}
	mustContain(t, "error page", body,
		`<link rel="stylesheet" href="/css/site.css">`,
		"<h1>Sorry, something went wrong</h1>",
		"<dt>Where</dt><dd><code>broken.lasp:4</code></dd>",
		"Lua runtime error: attempt to index",
		"<pre>&lt;p&gt;Total: &lt;%= order.total %&gt;&lt;/p&gt;</pre>",
	)
	mustNotContain(t, "error page", body, "An order summary")
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	ref := regexp.MustCompile(`<code class="ref">([^<]+)</code>`).FindStringSubmatch(body)
	if ref == nil {
		t.Fatalf("no reference in the error page:\n%s", body)
	}
	mustContain(t, "log", a.log.String(), `"request_id":"`+ref[1]+`"`, `"file":"broken.lasp"`)
}

// searchResult is one element of search.lasp's results.
type searchResult struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Price string `json:"price"`
	Stock int    `json:"stock"`
	URL   string `json:"url"`
}

// TestSampleAppSearch: search.lasp answers the search box's fetch() with
// JSON, and takes LIKE's wildcards in a query as plain characters.
func TestSampleAppSearch(t *testing.T) {
	a := serveSampleApp(t, nil)
	tests := []struct {
		q     string
		names []string
	}{
		{"green", []string{"Gyokuro Imperial", "Jasmine Pearls", "Sencha Green Tea"}},
		{"  CHAI ", []string{"Masala Chai"}},
		{"teaware", []string{"Bamboo Whisk", "Cast-Iron Teapot"}},
		{"zzz", nil},
		{"%", nil},
		{"_", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res, body := a.do(t, newRequest(t, "GET", a.URL+"/search.lasp?q="+url.QueryEscape(tt.q), ""))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Errorf("search.lasp started a session: %v", res.Header["Set-Cookie"])
			}
			var got struct {
				Query   string         `json:"query"`
				Results []searchResult `json:"results"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if !strings.Contains(body, `"results":[`) {
				t.Errorf("results is not an array: %s", body)
			}
			if want := strings.TrimSpace(tt.q); got.Query != want {
				t.Errorf("query %q, want %q", got.Query, want)
			}
			var names []string
			for _, r := range got.Results {
				names = append(names, r.Name)
				if r.URL != "/product.lasp?id="+itoa(int64(r.ID)) || !strings.HasPrefix(r.Price, "$") {
					t.Errorf("result %+v", r)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("names %q, want %q", names, tt.names)
			}
		})
	}
}

func TestSampleAppLoginFails(t *testing.T) {
	a := serveSampleApp(t, nil)
	c := client(t, a)
	for _, form := range []url.Values{
		{"username": {"demo"}, "password": {"wrong"}},
		{"username": {"nobody"}, "password": {"demo"}},
		{"username": {"demo"}},
	} {
		body := mustPost(t, a, c, "/login.lasp", form)
		mustContain(t, "failed login", body, `<p class="error" id="login-failed">`, "<h1>Sign in</h1>")
	}
	if status, _ := fetch(t, a, noRedirects(c), "/account.lasp"); status != http.StatusFound {
		t.Errorf("account page after failed logins: status %d, want a redirect to sign in", status)
	}
	// The password is stored salted and hashed, never as it is.
	db := shopDB(t, a)
	if n := queryInt(t, db, "SELECT count(*) FROM users WHERE hash = 'demo' OR salt = '' OR length(hash) <> 16"); n != 0 {
		t.Errorf("%d users with a plain or empty password hash", n)
	}
}

// noRedirects is c that does not follow redirects.
func noRedirects(c *http.Client) *http.Client {
	return &http.Client{Jar: c.Jar, Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// TestSampleAppShopping: a customer's visit from the first item in the
// cart to signing out, with what each step leaves in the database.
func TestSampleAppShopping(t *testing.T) {
	a := serveSampleApp(t, nil)
	c := client(t, a)
	db := shopDB(t, a)

	// Checkout needs a signed-in customer.
	if status, _ := fetch(t, a, noRedirects(c), "/checkout.lasp"); status != http.StatusFound {
		t.Errorf("GET /checkout.lasp: status %d, want a redirect", status)
	}

	// An item in the cart before signing in: the session starts.
	body := mustPost(t, a, c, "/cart.lasp", url.Values{"id": {"1"}, "qty": {"2"}})
	mustContain(t, "cart", body, "Sencha Green Tea", `<td class="num">2</td>`, `<td class="num total">$25.00</td>`,
		`<span class="badge" id="cart-count">2</span>`, `<a class="button" href="/login.lasp?next=/cart.lasp">Sign in to check out</a>`)
	before := shopSession(t, a, c)
	if before == "" {
		t.Fatal("no session cookie after adding to the cart")
	}

	// Signing in renews the session ID and keeps the cart.
	body = mustPost(t, a, c, "/login.lasp", url.Values{"username": {"demo"}, "password": {"demo"}, "next": {"/cart.lasp"}})
	after := shopSession(t, a, c)
	if after == "" || after == before {
		t.Errorf("the session cookie did not change at login: %q then %q", before, after)
	}
	mustContain(t, "cart after login", body, "<h1>Your cart</h1>", "Sencha Green Tea", "Demo Customer",
		`<button id="checkout">Place order for $25.00</button>`, `<button class="link" id="logout">Sign out</button>`)
	// The old ID is worth nothing now.
	old := &http.Client{Transport: c.Transport, CheckRedirect: noRedirects(c).CheckRedirect}
	req := newRequest(t, "GET", a.URL+"/account.lasp", "")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: before})
	if res, err := old.Do(req); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusFound {
		t.Errorf("account page with the ID from before the login: status %d, want a redirect to sign in", res.StatusCode)
	}

	// Checkout commits: an order, its line, the stock taken, the cart empty.
	mustPost(t, a, c, "/cart.lasp", url.Values{"id": {"5"}, "qty": {"1"}})
	body = mustPost(t, a, c, "/checkout.lasp", nil)
	mustContain(t, "checkout", body, append([]string{`id="order-placed"`, "Order #1 is on its way", "<strong>$35.50</strong>"}, shopLayout...)...)
	mustNotContain(t, "checkout", body, "cart-count")
	if n := queryInt(t, db, "SELECT count(*) FROM orders WHERE user_id = (SELECT id FROM users WHERE username = 'demo') AND total = 3550"); n != 1 {
		t.Errorf("%d orders of $35.50, want 1", n)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM order_lines WHERE order_id = 1"); n != 2 {
		t.Errorf("%d order lines, want 2", n)
	}
	if n := queryInt(t, db, "SELECT stock FROM products WHERE id = 1"); n != 23 {
		t.Errorf("Sencha stock %d, want 25 - 2", n)
	}
	if n := queryInt(t, db, "SELECT stock FROM products WHERE id = 5"); n != 19 {
		t.Errorf("Chai stock %d, want 20 - 1", n)
	}
	mustContain(t, "cart after checkout", mustFetch(t, a, c, "/cart.lasp"), "Your cart is empty.")

	// A sold-out tea: the transaction aborts, nothing is written, the cart
	// stays as it was.
	mustPost(t, a, c, "/cart.lasp", url.Values{"id": {"7"}, "qty": {"1"}})
	mustPost(t, a, c, "/cart.lasp", url.Values{"id": {"3"}, "qty": {"1"}})
	body = mustPost(t, a, c, "/checkout.lasp", nil)
	mustContain(t, "aborted checkout", body, append([]string{`id="order-aborted"`, "we could not place your order",
		"<li><strong>Gyokuro Imperial</strong>: you asked for 1, it is sold out.</li>"}, shopLayout...)...)
	mustNotContain(t, "aborted checkout", body, "Rooibos Vanilla</strong>")
	if n := queryInt(t, db, "SELECT count(*) FROM orders"); n != 1 {
		t.Errorf("%d orders after the aborted checkout, want 1", n)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM order_lines"); n != 2 {
		t.Errorf("%d order lines after the aborted checkout, want 2", n)
	}
	if n := queryInt(t, db, "SELECT stock FROM products WHERE id = 3"); n != 12 {
		t.Errorf("Rooibos stock %d after the aborted checkout, want 12", n)
	}
	if n := queryInt(t, db, "SELECT stock FROM products WHERE id = 7"); n != 0 {
		t.Errorf("Gyokuro stock %d after the aborted checkout, want 0", n)
	}
	mustContain(t, "cart after the aborted checkout", mustFetch(t, a, c, "/cart.lasp"),
		"Gyokuro Imperial", "Rooibos Vanilla", `<span class="stock out">sold out</span>`)

	// The account page lists the order; an avatar goes up and comes back.
	body = mustFetch(t, a, c, "/account.lasp")
	mustContain(t, "account", body, append([]string{"<h1>Hello, Demo Customer</h1>", "<strong>Order #1</strong>",
		"2 × Sencha Green Tea", "1 × Masala Chai", `enctype="multipart/form-data"`}, shopLayout...)...)
	res, body := a.do(t, newRequest(t, "GET", a.URL+"/avatar.lasp?id=1", ""))
	if ct := res.Header.Get("Content-Type"); ct != "image/svg+xml" || !strings.Contains(body, ">DC</text>") {
		t.Errorf("default avatar: Content-Type %q, body %s", ct, body)
	}
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe binary \x00 bytes"
	ctype, form := multipartOf(part{field: "avatar", filename: "me.png", ctype: "image/png", data: png})
	req = newRequest(t, "POST", a.URL+"/account.lasp", form)
	req.Header.Set("Content-Type", ctype)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("avatar upload: status %d: %s", res.StatusCode, page)
	}
	mustContain(t, "avatar upload", string(page), `<p class="ok" id="upload-ok">Your new picture, me.png (`)
	res, body = a.do(t, newRequest(t, "GET", a.URL+"/avatar.lasp?id=1", ""))
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "image/png" || body != png {
		t.Errorf("avatar: status %d, Content-Type %q, %d bytes, want the %d uploaded", res.StatusCode, ct, len(body), len(png))
	}
	// Not a picture: refused.
	ctype, form = multipartOf(part{field: "avatar", filename: "notes.txt", ctype: "text/plain", data: "hello"})
	req = newRequest(t, "POST", a.URL+"/account.lasp", form)
	req.Header.Set("Content-Type", ctype)
	if res, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), `id="upload-error"`) {
		t.Errorf("text avatar: status %d, body:\n%s", res.StatusCode, page)
	}

	// Signing out ends the session.
	body = mustPost(t, a, c, "/logout.lasp", nil)
	mustContain(t, "logout", body, append([]string{"<h1>You are signed out</h1>"}, shopLayout...)...)
	if status, _ := fetch(t, a, noRedirects(c), "/account.lasp"); status != http.StatusFound {
		t.Errorf("account page after signing out: status %d, want a redirect to sign in", status)
	}
	mustContain(t, "cart after signing out", mustFetch(t, a, c, "/cart.lasp"), "Your cart is empty.")
}

// TestSampleAppAnimals: Don Box's example in the sample app. The cat and the
// hit counter are shared by every visitor, each session has its own dog.
func TestSampleAppAnimals(t *testing.T) {
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			url := storeURL(t, store)
			testAnimals(t, serveSampleApp(t, nil, func(c *Config) { c.SessionStore = url }))
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

// benchmarkTable is bench/app/table.lasp exactly: bench/run.sh and
// BenchmarkServePage measure it.
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

func TestSampleAppBenchTable(t *testing.T) {
	src, err := os.ReadFile("../bench/app/table.lasp")
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != benchmarkTable {
		t.Errorf("bench/app/table.lasp changed; the benchmark relies on it being:\n%s", benchmarkTable)
	}
	a := serveDir(t, copyApp(t, "../bench/app"))
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
	// animals.lasp there starts a session, for BenchmarkServePageSession.
	res, _ := a.do(t, newRequest(t, "GET", a.URL+"/animals.lasp", ""))
	if len(res.Cookies()) == 0 {
		t.Error("bench/app/animals.lasp sets no session cookie")
	}
}
