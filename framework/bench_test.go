package framework

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
)

// BenchmarkServePage is the whole handler's cost for the sample app's table
// page (lookup, page cache, pooled state, intrinsics, response), without the
// network. bench/run.sh measures it over HTTP against a plain handler.
func BenchmarkServePage(b *testing.B) {
	root, err := os.OpenRoot("../sampleapp")
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	srv, err := New(Config{Root: root.FS(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(b.Context())
	req := httptest.NewRequest("GET", "/table.lasp?name=%3Cb%3EBench%3C%2Fb%3E", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
