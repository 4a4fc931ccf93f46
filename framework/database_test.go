package framework

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lasp/internal/pgtest"
)

// dbKind is one database a test runs against: how pages name it, how the
// test reads it directly, and its SQL dialect.
type dbKind struct {
	name   string
	url    func(t *testing.T, dir string) (config, direct string) // -database URL, and the test's own data source
	driver string
	param  func(i int) string
	serial string // an auto-increment primary key column
	series string // SELECT of the numbers 1..n ({1})
	slow   string // a query that runs for many seconds
}

var dbKinds = []dbKind{
	{
		name: "sqlite",
		url: func(t *testing.T, dir string) (string, string) {
			return "sqlite:data/shop.db", filepath.Join(dir, "data", "shop.db")
		},
		driver: "sqlite",
		param:  func(int) string { return "?" },
		serial: "id INTEGER PRIMARY KEY",
		series: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {1}) SELECT x FROM c",
		slow:   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1e10) SELECT max(x) FROM c",
	},
	{
		name: "postgres",
		url: func(t *testing.T, dir string) (string, string) {
			u := pgtest.Start(t).URL
			return u, u
		},
		driver: "pgx",
		param:  func(i int) string { return "$" + strconv.Itoa(i) },
		serial: "id SERIAL PRIMARY KEY",
		series: "SELECT generate_series(1, {1}::int) AS x",
		slow:   "SELECT pg_sleep(30)",
	},
}

// dbApp is an application over database "main" of kind k: pages get
// {1}, {2} … replaced by k's parameter placeholders, {serial} and
// {series}. It returns the app and the database as the test sees it
// directly.
func dbApp(t *testing.T, k dbKind, files map[string]string, configure ...func(*Config)) (*app, *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	cfgURL, direct := k.url(t, dir)
	for name, src := range files {
		src = strings.ReplaceAll(src, "{serial}", k.serial)
		src = strings.ReplaceAll(src, "{series}", k.series)
		src = strings.ReplaceAll(src, "{slow}", k.slow)
		for i := 1; i <= 9; i++ {
			src = strings.ReplaceAll(src, "{"+strconv.Itoa(i)+"}", k.param(i))
		}
		files[name] = src
	}
	writeTree(t, dir, files)
	a := serveDir(t, dir, append([]func(*Config){func(c *Config) { c.Databases = map[string]string{"main": cfgURL} }}, configure...)...)
	mustFetch(t, a, a.Client(), "/setup.lasp")
	db, err := sql.Open(k.driver, direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return a, db
}

// names lists the items' names in the database, in id order.
func names(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM items ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return strings.Join(out, ",")
}

const dbSetup = `<% local db = Server.CreateObject("Lasp.Database") db:Open("main")
db:Execute("CREATE TABLE items ({serial}, name TEXT NOT NULL, price REAL, note TEXT)") %>ok`

// TestDatabase: Lasp.Database over HTTP, on SQLite and a real PostgreSQL:
// Execute, Query and QueryRow with parameters only, values as plain data,
// injection attempts stored literally, the row limit, and errors at the
// page's line.
func TestDatabase(t *testing.T) {
	t.Parallel()
	for _, k := range dbKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			a, db := dbApp(t, k, map[string]string{
				"setup.lasp": dbSetup,
				"add.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open("main")
local n, id = db:Execute("INSERT INTO items (name, price) VALUES ({1}, {2})", Request.QueryString["name"], tonumber(Request.QueryString["price"])) %><%= n %> <%= tostring(id) %>`,
				"list.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open("main") %><% for _, row in ipairs(db:Query("SELECT id, name, price, note FROM items WHERE price < {1} ORDER BY id", 100)) do %>[<%= row.id %> <%= row.name %> <%= row.price %> <%= tostring(row.note) %>]<% end %>`,
				"one.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open("main")
local row = db:QueryRow("SELECT name FROM items WHERE name = {1}", Request.QueryString["name"]) %><%= row and row.name or "none" %>`,
				"bad.lasp":   "<% local db = Server.CreateObject(\"Lasp.Database\") db:Open(\"main\")\ndb:Execute(\"INSERT INTO nope VALUES (1)\") %>",
				"many.lasp":  `<% local db = Server.CreateObject("Lasp.Database") db:Open("main") local n = #db:Query("{series}", tonumber(Request.QueryString["n"])) %><%= n %>`,
				"table.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open("main") db:Execute("SELECT {1}", {1, 2}) %>`,
				"slow.lasp":  `<% Server.ScriptTimeout = 0.5 local db = Server.CreateObject("Lasp.Database") db:Open("main") db:Query("{slow}") %>`,
			}, func(c *Config) { c.Dev = true })
			got := mustFetch(t, a, a.Client(), "/add.lasp?name=pen&price=2.5")
			if k.name == "sqlite" && got != "1 1" || k.name == "postgres" && got != "1 nil" {
				t.Errorf("Execute: %q (rows affected, last insert id where the database has one)", got)
			}
			const evil = `x'); DROP TABLE items; --`
			mustFetch(t, a, a.Client(), "/add.lasp?name="+urlQuery(evil)+"&price=1")
			if got := mustFetch(t, a, a.Client(), "/list.lasp"); got != "[1 pen 2.5 nil][2 "+htmlEscape(evil)+" 1 nil]" {
				t.Errorf("Query: %q", got)
			}
			if got := mustFetch(t, a, a.Client(), "/one.lasp?name="+urlQuery(evil)); got != htmlEscape(evil) {
				t.Errorf("QueryRow of the injection attempt: %q", got)
			}
			if got := mustFetch(t, a, a.Client(), "/one.lasp?name=nothing"); got != "none" {
				t.Errorf("QueryRow of no row: %q", got)
			}
			if got := names(t, db); got != "pen,"+evil {
				t.Errorf("in the database: %q", got)
			}
			status, body := a.get(t, "/bad.lasp")
			if status != 500 || !strings.Contains(body, "bad.lasp") || !strings.Contains(body, ":2") || !strings.Contains(body, "Lasp.Database.Execute") {
				t.Errorf("a database error: %d\n%s", status, body)
			}
			if got := mustFetch(t, a, a.Client(), "/many.lasp?n=10000"); got != "10000" {
				t.Errorf("10,000 rows: %q", got)
			}
			if status, body := a.get(t, "/many.lasp?n=10001"); status != 500 || !strings.Contains(body, "more than 10000 rows") {
				t.Errorf("10,001 rows: %d\n%s", status, body)
			}
			if status, body := a.get(t, "/table.lasp"); status != 500 || !strings.Contains(body, "parameter 1 must be nil, a boolean, a number or a string") {
				t.Errorf("a table as a parameter: %d\n%s", status, body)
			}
			// The page's timeout cancels its query.
			start := time.Now()
			if status, body := a.get(t, "/slow.lasp"); status != 500 || !strings.Contains(body, "script timeout") {
				t.Errorf("a query past the script timeout: %d\n%s", status, body)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the query ran on for %v after the page's timeout of 0.5s", d)
			}
		})
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestDatabaseOpen: a page's SQLite database is under data/ (made when
// missing); other paths are errors; -database names an operator's.
func TestDatabaseOpen(t *testing.T) {
	t.Parallel()
	elsewhere := filepath.Join(t.TempDir(), "ops.db")
	a := newApp(t, map[string]string{
		"open.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open(Request.QueryString["u"]) db:Execute("CREATE TABLE IF NOT EXISTS t (x)") %>ok`,
	}, func(c *Config) { c.Dev = true; c.Databases = map[string]string{"ops": "sqlite:" + elsewhere} })
	for _, u := range []string{"sqlite:data/a.db", "sqlite:data/sub/b.db", "ops"} {
		if got := mustFetch(t, a, a.Client(), "/open.lasp?u="+u); got != "ok" {
			t.Errorf("Open(%s): %q", u, got)
		}
	}
	for _, f := range []string{filepath.Join(a.dir, "data", "a.db"), filepath.Join(a.dir, "data", "sub", "b.db"), elsewhere} {
		if !fileExists(f) {
			t.Errorf("%s was not made", f)
		}
	}
	for u, want := range map[string]string{
		"sqlite:shop.db":         "must be under the application&#39;s data/ folder",
		"sqlite:data/../shop.db": "must be under the application&#39;s data/ folder",
		"sqlite:/tmp/x.db":       "must be under the application&#39;s data/ folder",
		"nothing":                "is not a database URL",
		"mysql://x":              "is not a database URL",
	} {
		if status, body := a.get(t, "/open.lasp?u="+u); status != 500 || !strings.Contains(body, want) {
			t.Errorf("Open(%s): %d, want an error containing %q\n%s", u, status, want, body)
		}
	}
	if _, err := New(Config{Root: a.srv.fsys, Databases: map[string]string{"bad name": "sqlite:x.db"}}); err == nil {
		t.Error("a database name with a space was accepted")
	}
}

// TestTransactionalPages: Transaction="Required" pages commit their
// statements and their session together, or neither: an error, SetAbort,
// a timeout or a client that goes away roll both back, checked in the
// database afterwards. Server.Execute joins the caller's transaction when
// the executed page says Supported or Required.
func TestTransactionalPages(t *testing.T) {
	t.Parallel()
	for _, k := range dbKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			const add = `local db = Server.CreateObject("Lasp.Database") db:Open("main")
local function add(name) db:Execute("INSERT INTO items (name) VALUES ({1})", name) end
`
			a, db := dbApp(t, k, map[string]string{
				"setup.lasp": dbSetup,
				"ok.lasp": `<%@ Transaction="Required" %><% ` + add + `add("a") add("b") Session["n"] = (Session["n"] or 0) + 1 %>done
<script runat="server">function OnTransactionCommit() Response.Write(" committed") end</script>`,
				"fail.lasp": `<%@ Transaction="Required" %><% ` + add + `add("failed") Session["n"] = 100 error("after the insert") %>`,
				"abort.lasp": `<%@ Transaction="Required" %><% ` + add + `add("aborted") Session["n"] = 100 ObjectContext:SetAbort() %>ran to the end
<script runat="server">function OnTransactionAbort() Response.Write(" aborted") end</script>`,
				"undo.lasp": `<%@ Transaction="Requires_New" %><% ` + add + `ObjectContext.SetAbort() add("undone abort") ObjectContext:SetComplete() %>ok`,
				"slow.lasp": `<%@ Transaction="Required" %><% ` + add + `Server.ScriptTimeout = 0.3 add("timed out") Server.Sleep(5) %>`,
				"gone.lasp": `<%@ Transaction="Required" %><% ` + add + `add("client gone") Server.Sleep(5) %>`,
				"outer.lasp": `<%@ Transaction="Required" %><% ` + add + `add("outer") Server.Execute("joins.lasp")
if Request.QueryString["apart"] then Server.Execute("apart.lasp") end
if Request.QueryString["fail"] then error("outer fails") end %>`,
				"joins.lasp": `<%@ Transaction="Supported" %><% ` + add + `add("joined") %>`,
				"apart.lasp": `<% ` + add + `add("apart") %>`,
				"alone.lasp": `<%@ Transaction="Supported" %><% ` + add + `add("supported alone") error("no transaction here") %>`,
				"plain.lasp": `<% ` + add + `add("autocommit") error("after an autocommit insert") %>`,
				"n.lasp":     `<%@ EnableSessionState="ReadOnly" %><%= tostring(Session["n"]) %>`,
			})
			c := client(t, a)
			if got := mustFetch(t, a, c, "/ok.lasp"); got != "done\n committed" {
				t.Errorf("ok.lasp: %q", got)
			}
			for _, page := range []string{"/fail.lasp", "/slow.lasp"} {
				if status, _ := fetch(t, a, c, page); status != 500 {
					t.Errorf("%s: %d", page, status)
				}
			}
			if got := mustFetch(t, a, c, "/abort.lasp"); got != "ran to the end\n aborted" {
				t.Errorf("abort.lasp: %q", got)
			}
			mustFetch(t, a, c, "/undo.lasp")

			// The client goes away while the page runs.
			ctx, cancel := context.WithCancel(t.Context())
			req, _ := http.NewRequestWithContext(ctx, "GET", a.URL+"/gone.lasp", nil)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if res, err := c.Do(req); err == nil {
					res.Body.Close()
				}
			}()
			waitFor(t, "gone.lasp to run", func() bool { return a.srv.Snapshot(t.Context()).States.InUse == 1 })
			cancel()
			<-done
			waitFor(t, "gone.lasp to end", func() bool { return a.srv.Snapshot(t.Context()).InFlight == 0 })

			if got := names(t, db); got != "a,b,undone abort" {
				t.Errorf("rows after commit, error, SetAbort, SetComplete, timeout and a client gone: %q, want a,b,undone abort", got)
			}
			if got := mustFetch(t, a, c, "/n.lasp"); got != "1" {
				t.Errorf("the session after the failed and aborted pages: n = %q, want 1", got)
			}

			// Server.Execute joins when the executed page says so. A page
			// that does not runs outside the transaction: its row stays
			// (PostgreSQL; SQLite has one writer, which the transaction
			// holds: docs/data.md).
			apart, kept := "", ""
			if k.name == "postgres" {
				apart, kept = "&apart=1", ",apart"
			}
			if status, _ := fetch(t, a, c, "/outer.lasp?fail=1"+apart); status != 500 {
				t.Errorf("outer.lasp?fail=1: %d", status)
			}
			if got := names(t, db); got != "a,b,undone abort"+kept {
				t.Errorf("after a failed outer page: %q", got)
			}
			mustFetch(t, a, c, "/outer.lasp?ok=1"+apart)
			if got := names(t, db); got != "a,b,undone abort"+kept+",outer,joined"+kept {
				t.Errorf("after the outer page: %q", got)
			}
			for _, page := range []string{"/alone.lasp", "/plain.lasp"} {
				if status, _ := fetch(t, a, c, page); status != 500 {
					t.Errorf("%s: %d", page, status)
				}
			}
			if got := names(t, db); !strings.HasSuffix(got, ",supported alone,autocommit") {
				t.Errorf("pages without a transaction keep what they wrote before failing: %q", got)
			}
		})
	}
}

// TestTransactionsConcurrent: 50 pages inserting at once, half of them in
// a transaction, leave exactly 50 rows, without a "database is locked".
func TestTransactionsConcurrent(t *testing.T) {
	t.Parallel()
	for _, k := range dbKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			a, db := dbApp(t, k, map[string]string{
				"setup.lasp": dbSetup,
				"add.lasp": `<%@ Transaction="Required" EnableSessionState="False" %><% local db = Server.CreateObject("Lasp.Database") db:Open("main")
local before = db:QueryRow("SELECT COUNT(*) AS n FROM items").n
db:Execute("INSERT INTO items (name) VALUES ({1})", Request.QueryString["i"]) %><%= before >= 0 %>`,
				"auto.lasp": `<%@ EnableSessionState="False" %><% local db = Server.CreateObject("Lasp.Database") db:Open("main")
db:Execute("INSERT INTO items (name) VALUES ({1})", Request.QueryString["i"]) %>`,
			})
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []string
			for i := range 50 {
				wg.Go(func() {
					page := "add" // half of them in a transaction, half autocommit
					if i%2 == 1 {
						page = "auto"
					}
					status, body := a.get(t, fmt.Sprintf("/%s.lasp?i=%d", page, i))
					if status != 200 {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%d: %s", status, body))
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(failures) > 0 {
				t.Errorf("%d pages failed: %s\nlog:\n%s", len(failures), failures[0], a.log.String())
			}
			var n int
			if err := db.QueryRow("SELECT COUNT(*) FROM items").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 50 {
				t.Errorf("%d rows, want 50", n)
			}
			if strings.Contains(a.log.String(), "locked") {
				t.Errorf("the log mentions a lock:\n%s", a.log.String())
			}
		})
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// TestDatabasePoolsBounded: a page opening a new SQLite file per request
// stops at the server's limit of open databases, with an error at its
// line, instead of exhausting file handles.
func TestDatabasePoolsBounded(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"open.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open("sqlite:data/db" .. Request.QueryString["i"] .. ".db") db:Execute("SELECT 1") %>ok`,
	}, func(c *Config) { c.Dev = true })
	for i := range 64 {
		if got := mustFetch(t, a, a.Client(), fmt.Sprintf("/open.lasp?i=%d", i)); got != "ok" {
			t.Fatalf("database %d: %q", i, got)
		}
	}
	if status, body := a.get(t, "/open.lasp?i=64"); status != 500 || !strings.Contains(body, "64 databases open already") {
		t.Errorf("the 65th database: %d\n%s", status, body)
	}
	if got := mustFetch(t, a, a.Client(), "/open.lasp?i=3"); got != "ok" {
		t.Errorf("a database already open: %q", got)
	}
}
