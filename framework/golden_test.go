package framework

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/golden/*.txtar")

// TestGolden serves each testdata/golden/*.txtar application and compares the
// page its comment names (default /index.lasp) with the archive's "want" file.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/golden/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			want := -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					want = i
					continue
				}
				files[f.Name] = string(f.Data)
			}
			if want < 0 {
				t.Fatal("no want file")
			}
			// The comment's first line is the URL when it starts with "/";
			// the rest describes the case.
			url := "/index.lasp"
			if first, _, _ := strings.Cut(string(ar.Comment), "\n"); strings.HasPrefix(first, "/") {
				url = strings.TrimSpace(first)
			}
			a := newApp(t, files)
			got := a.mustGet(t, url)
			if *update {
				ar.Files[want].Data = []byte(got)
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if w := string(ar.Files[want].Data); got != w {
				t.Errorf("GET %s\n--- got ---\n%s\n--- want ---\n%s", url, got, w)
			}
		})
	}
}
