package scripting

import (
	"io"
	"net/url"
	"os"
	"testing"
	"testing/fstest"
)

// BenchmarkRun is the per-request cost of rendering a cached page in a pooled
// state: no state or proto is made per iteration.
func BenchmarkRun(b *testing.B) {
	// The page the load benchmark measures (bench/run.sh): it escapes a
	// query parameter and renders a 20-row table.
	table, err := os.ReadFile("../bench/app/table.lasp")
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, "table.lasp", string(table))
}

// BenchmarkRunLoops is BenchmarkRun for pages that spend their time in
// the VM: a numeric loop, string building, and calls of a Lua function.
func BenchmarkRunLoops(b *testing.B) {
	for name, src := range map[string]string{
		"sum":    `<% local s, n = 0, 0 for i = 1, 100000 do if i > n then n = n + 1 s = s + i end end %><%= s %>`,
		"concat": `<% local t = {} for i = 1, 2000 do t[#t + 1] = tostring(i) .. "," end %><%= #table.concat(t) %>`,
		"calls":  `<% local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end %><%= fib(20) %>`,
	} {
		b.Run(name, func(b *testing.B) { benchRun(b, name+".lasp", src) })
	}
}

func benchRun(b *testing.B, name, src string) {
	e := New(Config{FS: fstest.MapFS{name: {Data: []byte(src)}}})
	defer e.Close()
	p, err := e.Page(name)
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
