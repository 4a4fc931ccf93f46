package lasp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The module's dependency rules (STYLE.md, convention 1), written down as
// data and checked against what `go list` reports, in the manner of Go's own
// go/build/deps_test.go:
//
//	cmd/serve → framework → {framework/session, scripting, scope, internal/redisstore, globalfile, templates}
//	framework/session → {scope, internal/redisstore}
//	scripting → {scope, internal/database}
//	internal/database → scope
//
// Only non-test code is checked: tests may import what they need.

// module is the module path of this repository.
const module = "lasp"

// none allows no package of the module.
var none = []string{}

// depRule restricts the packages that match pkgs. A package must match at
// least one rule (a new package needs a line here), and every rule it
// matches applies.
type depRule struct {
	// pkgs is an import path, or a path ending in "/..." that matches
	// itself and everything below it.
	pkgs string

	// lasp lists the packages of this module that may be imported
	// directly, as patterns like pkgs. Nil means any; none means none.
	lasp []string

	// stdOnly allows direct imports of the standard library only.
	stdOnly bool

	// forbid lists patterns that must not be imported directly.
	forbid []string

	// forbidDeps lists patterns that must not be imported at all, not even
	// through another package.
	forbidDeps []string

	// why is the rule in words, for the failure message.
	why string
}

var depRules = []depRule{
	{
		pkgs: "lasp/cmd/...",
		why:  "commands may import anything",
	},
	{
		pkgs: "lasp/bench/...",
		why:  "benchmarks may import anything",
	},
	{
		pkgs: "lasp/framework",
		lasp: []string{"lasp/framework/session", "lasp/scripting/...", "lasp/scope/...", "lasp/internal/redisstore", "lasp/globalfile", "lasp/templates", "lasp/internal/scan"},
		why:  "framework sits on its sessions, scripting, scope, the Redis store, globalfile and templates (and numbers source lines as the parsers do), never on cmd",
	},
	{
		pkgs:       "lasp/framework/session",
		lasp:       []string{"lasp/scope", "lasp/internal/redisstore"},
		forbidDeps: []string{"lasp/framework", "lasp/scripting/...", "github.com/yuin/gopher-lua/..."},
		why:        "sessions are plain data kept by stores: scope and the Redis store, never the framework, the script engine or Lua",
	},
	{
		pkgs:   "lasp/scripting/...",
		lasp:   []string{"lasp/scope", "lasp/scripting/...", "lasp/internal/scan", "lasp/internal/database"},
		forbid: []string{"net/http"},
		why:    "the script engine knows no HTTP and builds on scope (and Lasp.Database's SQL)",
	},
	{
		pkgs:       "lasp/scripting/page",
		lasp:       []string{"lasp/internal/scan"},
		forbid:     []string{"github.com/...", "golang.org/..."},
		forbidDeps: []string{"github.com/...", "golang.org/..."},
		why:        "the page parser is a leaf: the standard library and the scanning (helpers, tag lexer, Error) it shares with globalfile",
	},
	{
		pkgs:       "lasp/globalfile",
		lasp:       []string{"lasp/internal/scan"},
		forbid:     []string{"github.com/...", "golang.org/..."},
		forbidDeps: []string{"github.com/...", "golang.org/..."},
		why:        "the global file parser is a leaf: the standard library and the scanning (helpers, tag lexer, Error) it shares with the page parser",
	},
	{
		pkgs:    "lasp/internal/scan",
		stdOnly: true,
		why:     "what the parsers share (helpers, tag lexer, Error): standard library only",
	},
	{
		pkgs:       "lasp/scope",
		lasp:       none,
		forbid:     []string{"net/http"},
		forbidDeps: []string{"github.com/yuin/gopher-lua/..."},
		why:        "scope holds plain Go values: no Lua, no HTTP, no other package of the module",
	},
	{
		pkgs:       "lasp/internal/redisstore",
		lasp:       none,
		forbid:     []string{"net/http"},
		forbidDeps: []string{"github.com/yuin/gopher-lua/..."},
		why:        "the Redis store keeps bytes: no Lua, no HTTP, no other package of the module",
	},
	{
		pkgs:       "lasp/internal/database",
		lasp:       []string{"lasp/scope"},
		forbid:     []string{"net/http"},
		forbidDeps: []string{"github.com/yuin/gopher-lua/..."},
		why:        "Lasp.Database speaks SQL in plain data: no Lua, no HTTP",
	},
	{
		pkgs: "lasp/internal/redistest",
		lasp: none,
		why:  "the test helper that runs redis-server stands alone",
	},
	{
		pkgs: "lasp/internal/pgtest",
		lasp: none,
		why:  "the test helper that runs PostgreSQL stands alone",
	},
	{
		pkgs:    "lasp/templates",
		stdOnly: true,
		why:     "templates are files and html/template: standard library only",
	},
}

// match reports whether the import path matches pattern (a path, or a path
// ending in "/...").
func match(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	return path == pattern
}

// refuses reports whether r forbids a direct import of imp, which is in the
// standard library when std is true.
func (r depRule) refuses(imp string, std bool) bool {
	switch {
	case matchAny(r.forbid, imp):
		return true
	case r.stdOnly && !std:
		return true
	case r.lasp != nil && match(module+"/...", imp) && !matchAny(r.lasp, imp):
		return true
	}
	return false
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// listedPackage is the part of `go list -json` that the rules need.
type listedPackage struct {
	ImportPath string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	Imports    []string
	Deps       []string
}

// listPackages runs `go list -deps` on the whole module and returns every
// package it reports, the standard library's included, by import path.
func listPackages(t *testing.T) map[string]listedPackage {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	// -e: a package another engineer is still writing may not build; its
	// imports can be checked all the same.
	cmd := exec.Command(goBin, "list", "-e", "-deps",
		"-json=ImportPath,Standard,GoFiles,CgoFiles,Imports,Deps", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listedPackage{}
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

func TestDependencyRules(t *testing.T) {
	pkgs := listPackages(t)
	if _, ok := pkgs["lasp/cmd/serve"]; !ok {
		t.Fatalf("go list did not report lasp/cmd/serve: is this the module root?")
	}
	checked := 0
	for _, path := range slices.Sorted(maps.Keys(pkgs)) {
		p := pkgs[path]
		if !match(module+"/...", path) || len(p.GoFiles)+len(p.CgoFiles) == 0 {
			continue // not ours, or only tests (like this package)
		}
		var rules []depRule
		for _, r := range depRules {
			if match(r.pkgs, path) {
				rules = append(rules, r)
			}
		}
		if len(rules) == 0 {
			t.Errorf("%s has no dependency rule: add one to depRules in deps_test.go", path)
			continue
		}
		checked++
		for _, r := range rules {
			for _, imp := range p.Imports {
				if r.refuses(imp, pkgs[imp].Standard) {
					t.Errorf("%s imports %s, which is forbidden (rule %s: %s)", path, imp, r.pkgs, r.why)
				}
			}
			for _, dep := range p.Deps {
				if matchAny(r.forbidDeps, dep) {
					t.Errorf("%s depends on %s, which is forbidden even indirectly (rule %s: %s)", path, dep, r.pkgs, r.why)
					break // one is enough: the others come with it
				}
			}
		}
	}
	t.Logf("checked %d packages of the module", checked)
}

// TestDependencyRulesRefuse makes sure the rules can fail: each case is an
// import that some rule must refuse.
func TestDependencyRulesRefuse(t *testing.T) {
	tests := []struct {
		pkg, imp string
		indirect bool // refused even as an indirect dependency
	}{
		{pkg: "lasp/framework", imp: "lasp/cmd/serve"},
		{pkg: "lasp/scripting", imp: "lasp/framework"},
		{pkg: "lasp/scripting", imp: "lasp/globalfile"},
		{pkg: "lasp/scripting", imp: "lasp/templates"},
		{pkg: "lasp/scripting/lpattern", imp: "net/http"},
		{pkg: "lasp/scripting/page", imp: "lasp/scope"},
		{pkg: "lasp/scripting/page", imp: "github.com/yuin/gopher-lua"},
		{pkg: "lasp/globalfile", imp: "golang.org/x/sync/singleflight"},
		{pkg: "lasp/scope", imp: "net/http"},
		{pkg: "lasp/scope", imp: "lasp/scripting"},
		{pkg: "lasp/scope", imp: "github.com/yuin/gopher-lua/parse", indirect: true},
		{pkg: "lasp/templates", imp: "lasp/scope"},
		{pkg: "lasp/framework/session", imp: "lasp/framework"},
		{pkg: "lasp/framework/session", imp: "lasp/scripting"},
		{pkg: "lasp/framework/session", imp: "lasp/scripting", indirect: true},
		{pkg: "lasp/framework/session", imp: "github.com/yuin/gopher-lua", indirect: true},
		{pkg: "lasp/internal/redisstore", imp: "lasp/scope"},
		{pkg: "lasp/internal/redisstore", imp: "net/http"},
	}
	std := map[string]bool{"net/http": true}
	for _, tt := range tests {
		refused := false
		for _, r := range depRules {
			if !match(r.pkgs, tt.pkg) {
				continue
			}
			if tt.indirect {
				refused = refused || matchAny(r.forbidDeps, tt.imp)
			} else {
				refused = refused || r.refuses(tt.imp, std[tt.imp])
			}
		}
		if !refused {
			t.Errorf("no rule refuses %s importing %s (indirect: %v)", tt.pkg, tt.imp, tt.indirect)
		}
	}
}
