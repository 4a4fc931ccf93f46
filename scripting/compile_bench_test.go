package scripting

import (
	"io/fs"
	"os"
	"testing"
)

// BenchmarkCompile compiles every page of testdata/compile (with the
// files they include) and the load benchmark's table page, as a -dev
// server does each time one of them changes.
func BenchmarkCompile(b *testing.B) {
	fsys := os.DirFS("testdata/compile")
	pages, err := fs.Glob(fsys, "*.lasp")
	if err != nil || len(pages) == 0 {
		b.Fatalf("no pages in testdata/compile: %v", err)
	}
	bench := os.DirFS("../bench/app")
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range pages {
			if _, err := compilePage(fsys, name); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := compilePage(bench, "table.lasp"); err != nil {
			b.Fatal(err)
		}
	}
}
