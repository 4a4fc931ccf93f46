package framework

import (
	"net/http/httptest"
	"os"
	"testing"
)

// BenchmarkDatabasePage is a page that runs one indexed QueryRow on SQLite
// and renders the row, beside the sample app's table page, in one run.
func BenchmarkDatabasePage(b *testing.B) {
	table, err := os.ReadFile("../bench/app/table.lasp")
	if err != nil {
		b.Fatal(err)
	}
	a := newApp(b, map[string]string{
		"table.lasp": string(table),
		"setup.lasp": `<% local db = Server.CreateObject("Lasp.Database") db:Open("sqlite:data/shop.db")
db:Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
for i = 1, 1000 do db:Execute("INSERT INTO items (name, price) VALUES (?, ?)", "item " .. i, i / 4) end %>`,
		"item.lasp": `<%@ EnableSessionState="False" %><% local db = Server.CreateObject("Lasp.Database") db:Open("sqlite:data/shop.db")
local item = db:QueryRow("SELECT id, name, price FROM items WHERE id = ?", tonumber(Request.QueryString["id"])) %>
<h1><%= item.name %></h1><p>#<%= item.id %> costs <%= item.price %></p>`,
	})
	mustFetch(b, a, a.Client(), "/setup.lasp")
	b.Run("table", func(b *testing.B) { benchGet(b, a.srv, "/table.lasp?name=%3Cb%3EBench%3C%2Fb%3E") })
	b.Run("queryrow", func(b *testing.B) { benchGet(b, a.srv, "/item.lasp?id=500") })
}

// BenchmarkTransactionInsert is one INSERT on SQLite by a page without a
// transaction (autocommit) and by a Transaction="Required" page, in one run.
func BenchmarkTransactionInsert(b *testing.B) {
	const insert = `<% local db = Server.CreateObject("Lasp.Database") db:Open("sqlite:data/t.db")
db:Execute("INSERT INTO t (x) VALUES (?)", 1) %>`
	a := newApp(b, map[string]string{
		"setup.lasp":    `<% local db = Server.CreateObject("Lasp.Database") db:Open("sqlite:data/t.db") db:Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x)") %>`,
		"auto.lasp":     `<%@ EnableSessionState="False" %>` + insert,
		"required.lasp": `<%@ EnableSessionState="False" Transaction="Required" %>` + insert,
	})
	mustFetch(b, a, a.Client(), "/setup.lasp")
	b.Run("autocommit", func(b *testing.B) { benchGet(b, a.srv, "/auto.lasp") })
	b.Run("required", func(b *testing.B) { benchGet(b, a.srv, "/required.lasp") })
}

// benchGet serves GET url with srv, without the network, b.N times.
func benchGet(b *testing.B, srv *Server, url string) {
	req := httptest.NewRequest("GET", url, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
