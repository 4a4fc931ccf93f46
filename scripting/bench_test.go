package scripting

import (
	"io"
	"net/url"
	"testing"
	"testing/fstest"
)

// tablePage escapes a query parameter and renders a 20-row table: the page
// the load benchmark in bench/ measures.
const tablePage = `<!DOCTYPE html>
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

// BenchmarkRun is the per-request cost of rendering a cached page in a pooled
// state: no state or proto is made per iteration.
func BenchmarkRun(b *testing.B) {
	e := New(Config{FS: fstest.MapFS{"table.lasp": {Data: []byte(tablePage)}}})
	defer e.Close()
	p, err := e.Page("table.lasp")
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{Request: &testRequest{query: url.Values{"name": {"<Bob & Alice>"}}}}
	b.ReportAllocs()
	for b.Loop() {
		env.Response = &testResponse{}
		if err := e.Run(b.Context(), io.Discard, p, env); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s := e.Stats(); s.Created != 1 {
		b.Fatalf("%d states created, want 1 reused", s.Created)
	}
}
