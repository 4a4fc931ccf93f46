package scripting

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lasp/scripting/page"
)

var update = flag.Bool("update", false, "rewrite testdata/compile/*.golden from the compiler's output")

// TestGolden compiles each testdata/compile/*.lasp page (its includes live
// beside it) and compares the Lua generated for it, chunk by chunk, with
// the page's .golden file. Every line of generated Lua is shown with its
// number: line N of a chunk is line N of the file the chunk is named after.
// Regenerate with: go test ./scripting -run TestGolden -update
func TestGolden(t *testing.T) {
	fsys := os.DirFS("testdata/compile")
	pages, err := fs.Glob(fsys, "*.lasp")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in testdata/compile: %v", err)
	}
	for _, name := range pages {
		t.Run(strings.TrimSuffix(name, ".lasp"), func(t *testing.T) {
			var chunks []chunk
			p, err := compilePageEmit(fsys, name, func(file, kind, lua string) {
				chunks = append(chunks, chunk{file, kind, lua})
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range chunks {
				if c.kind != "spliced" {
					checkLines(t, fsys, c)
				}
			}
			got := goldenText(p, chunks)
			golden := filepath.Join("testdata/compile", strings.TrimSuffix(name, ".lasp")+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./scripting -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("generated Lua of %s differs from %s:\n--- got ---\n%s\n--- want ---\n%s", name, golden, got, want)
			}
		})
	}
}

// chunk is one piece of generated Lua: a file's body or its script blocks.
type chunk struct{ file, kind, lua string }

// checkLines checks that each line of the code, expressions and script
// blocks of the chunk's file is on the same line of the generated Lua, and
// that the Lua has no line the file does not have.
func checkLines(t *testing.T, fsys fs.FS, c chunk) {
	t.Helper()
	src, err := fs.ReadFile(fsys, c.file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := page.Parse(c.file, string(src))
	if err != nil {
		t.Fatal(err)
	}
	lua := strings.Split(c.lua, "\n")
	if n := strings.Count(string(src), "\n") + 1; len(lua) > n {
		t.Errorf("%s (%s): %d lines of Lua for a file of %d lines", c.file, c.kind, len(lua), n)
	}
	for _, n := range f.Nodes {
		var code string
		switch n := n.(type) {
		case *page.Code:
			code = n.Code
		case *page.Expr:
			code = n.Code
		case *page.Script:
			code = n.Code
		}
		_, isScript := n.(*page.Script)
		if code == "" || isScript != (c.kind == "script blocks") {
			continue
		}
		for i, line := range strings.Split(stripTrailingComment(code), "\n") {
			line = strings.TrimSpace(line)
			at := n.Position().Line + i
			if line != "" && (at > len(lua) || !strings.Contains(lua[at-1], line)) {
				t.Errorf("%s:%d: %q is not on line %d of the generated Lua", c.file, at, line, at)
			}
		}
	}
}

// goldenText shows a compiled page: its directives and objects, each chunk
// of Lua with line numbers, and the text segments and fused writes that
// the chunks refer to by index.
func goldenText(p *Page, chunks []chunk) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", p.Name)
	if p.Directives != (page.Directives{}) {
		fmt.Fprintf(&b, "# directives: %+v\n", p.Directives)
	}
	for _, o := range p.Objects {
		fmt.Fprintf(&b, "# object %s: %s (line %d)\n", o.ID, o.ProgID, o.Pos.Line)
	}
	for _, c := range chunks {
		fmt.Fprintf(&b, "\n== %s: %s ==\n", c.file, c.kind)
		for i, line := range strings.Split(c.lua, "\n") {
			fmt.Fprintf(&b, "%3d| %s\n", i+1, strings.TrimRight(line, " "))
		}
	}
	b.WriteString("\n== texts (__t) ==\n")
	for i, s := range p.texts {
		fmt.Fprintf(&b, "%3d: %q\n", i, s)
	}
	if len(p.writes) > 0 {
		b.WriteString("\n== fused writes (__w) ==\n")
		for i, ops := range p.writes {
			parts := make([]string, len(ops))
			for j, op := range ops {
				switch {
				case op.text >= 0:
					parts[j] = fmt.Sprintf("text %d", op.text)
				case op.raw:
					parts[j] = "raw arg"
				default:
					parts[j] = "escaped arg"
				}
			}
			fmt.Fprintf(&b, "%3d: %s\n", i, strings.Join(parts, ", "))
		}
	}
	return b.String()
}
