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
	e := New(Config{FS: fstest.MapFS{"table.lasp": {Data: table}}})
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
