package lpattern

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchCalls are common calls; each is the body of a Lua function that the
// benchmark calls once per iteration, with S a 1 KB text.
var benchCalls = []struct {
	name, code string
}{
	{name: "gsub_spaces_1KB", code: `return string.gsub(S, "%s+", " ")`},
	{name: "find_plain", code: `return string.find(S, "needle", 1, true)`},
	{name: "find_pattern", code: `return string.find(S, "n%a+e")`},
	{name: "match_range", code: `return string.match("order 12345-67890 shipped", "(%d+)-(%d+)")`},
	{name: "match_trim", code: `return string.match("   some value   ", "^%s*(.-)%s*$")`},
	{name: "gmatch_words_1KB", code: `local n = 0 for w in S:gmatch("%a+") do n = n + 1 end return n`},
	{name: "gsub_func_1KB", code: `return S:gsub("%w+", string.upper)`},
}

// benchText is about 1 KB of words, spaces and newlines, with "needle" near
// the end.
var benchText = strings.Repeat("lorem  ipsum dolor\tsit amet, consectetur\n", 24) + "a needle."

func BenchmarkPatterns(b *testing.B) {
	for _, c := range benchCalls {
		for _, impl := range []struct {
			name    string
			install bool
		}{{"gopherlua", false}, {"lpattern", true}} {
			b.Run(c.name+"/"+impl.name, func(b *testing.B) {
				L := lua.NewState()
				defer L.Close()
				if impl.install {
					Install(L, L.GetGlobal("string").(*lua.LTable), 0)
				}
				L.SetGlobal("S", lua.LString(benchText))
				if err := L.DoString("BENCH = function() " + c.code + " end"); err != nil {
					b.Fatal(err)
				}
				fn := L.GetGlobal("BENCH")
				b.ReportAllocs()
				for b.Loop() {
					if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
