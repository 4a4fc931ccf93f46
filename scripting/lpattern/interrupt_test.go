package lpattern

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// catastrophic are calls that gopher-lua's matcher would run for hours.
var catastrophic = []struct {
	name, code string
}{
	{name: "find", code: `return string.find(("a"):rep(5000), ".-.-.-.-b")`},
	{name: "method", code: `return (("a"):rep(5000)):find(".-.-.-.-b")`},
	{name: "match", code: `return string.match(("a"):rep(5000), "(.-)(.-)(.-)(.-)b")`},
	{name: "gmatch", code: `for x in (("a"):rep(5000)):gmatch(".-.-.-.-b") do end`},
	{name: "gsub", code: `return string.gsub(("a"):rep(5000), ".-.-.-.-b", "")`},
	{name: "gsub method", code: `return (("a"):rep(5000)):gsub(".-.-.-.-b", "%0")`},
	{name: "brace", code: `return string.gsub(("("):rep(200000), "%b()", "")`},
	{name: "pcall", code: `local ok = pcall(string.find, ("a"):rep(5000), ".-.-.-.-b"); return ok`},
	{name: "coroutine", code: `
		local co = coroutine.wrap(function() return string.find(("a"):rep(5000), ".-.-.-.-b") end)
		return co()`},
}

// runToEnd runs code in L and returns its error. It fails the test if the
// run does not end at all (a generous guard, not a timing assertion).
func runToEnd(t *testing.T, L *lua.LState, code string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- L.DoString(code) }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: still running after two minutes", code)
		return nil
	}
}

func newInstalled(maxSteps int) *lua.LState {
	L := lua.NewState()
	Install(L, L.GetGlobal("string").(*lua.LTable), maxSteps)
	return L
}

func TestStopsAtDeadline(t *testing.T) {
	for _, c := range catastrophic {
		t.Run(c.name, func(t *testing.T) {
			L := newInstalled(0)
			defer L.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			L.SetContext(ctx)
			err := runToEnd(t, L, c.code)
			if err == nil {
				t.Fatal("no error")
			}
			if ctx.Err() == nil {
				t.Fatalf("failed before the deadline: %v", err)
			}
			if !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
				t.Fatalf("error does not mention the deadline: %v", err)
			}
		})
	}
}

func TestStopsWhenCanceled(t *testing.T) {
	L := newInstalled(0)
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	L.SetContext(ctx)
	// The VM itself would stop at the next instruction; the pattern
	// function must not start the search.
	L.SetGlobal("S", lua.LString(strings.Repeat("a", 5000)))
	fn := L.GetField(L.GetGlobal("string"), "find")
	err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, L.GetGlobal("S"), lua.LString(".-.-.-.-b"))
	if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("got %v, want %v", err, context.Canceled)
	}
}

func TestStepLimit(t *testing.T) {
	for _, c := range catastrophic {
		t.Run(c.name, func(t *testing.T) {
			L := newInstalled(100000)
			defer L.Close()
			code := c.code
			if c.name == "pcall" {
				// The step limit is an ordinary error, which pcall catches.
				code = `local ok, err = pcall(string.find, ("a"):rep(5000), ".-.-.-.-b"); assert(not ok); error(err)`
			}
			err := runToEnd(t, L, code)
			if err == nil || !strings.Contains(err.Error(), "pattern too complex (over 100000 steps)") {
				t.Fatalf("got %v, want pattern too complex", err)
			}
		})
	}
}

// TestOrdinaryCallsUnaffected runs everyday calls under a deadline and a
// step limit.
func TestOrdinaryCallsUnaffected(t *testing.T) {
	tests := []struct {
		code, want string
	}{
		{code: `return string.find("hello world", "o w")`, want: "5 7"},
		{code: `return ("hello world"):find("l+")`, want: "3 4"},
		{code: `return string.find("a.b", ".", 1, true)`, want: "2 2"},
		{code: `return string.match("2024-01-15", "(%d+)-(%d+)")`, want: "2024 01"},
		{code: `return string.gsub("  trim me  ", "^%s*(.-)%s*$", "%1")`, want: "trim me 1"},
		{code: `return string.gsub("a b c", "%w", {a = 1, b = true})`, want: "1  c 3"}, // gopher-lua: true becomes ""
		{code: `return string.gsub("abc", ".", string.upper, 2)`, want: "ABc 2"},
		{code: `local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",")`, want: "a1,b2"},
		{code: `return select("#", string.match("abc", "x"))`, want: "0"},
		{code: `return string.gsub(("x"):rep(10000), "x", "y"):len()`, want: "10000"},
	}
	L := newInstalled(100000)
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	L.SetContext(ctx)
	for _, tt := range tests {
		if err := L.DoString(`RESULT = (function(...) local t = {} for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end return table.concat(t, " ") end)((function() ` + tt.code + ` end)())`); err != nil {
			t.Errorf("%s: %v", tt.code, err)
			continue
		}
		if got := L.GetGlobal("RESULT").String(); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.code, got, tt.want)
		}
	}
}

// TestInstallKeepsLibrary checks that Install replaces the functions in the
// table that strings use as methods, and the gfind alias.
func TestInstallKeepsLibrary(t *testing.T) {
	L := newInstalled(0)
	defer L.Close()
	if err := L.DoString(`
		assert(string.gfind == string.gmatch)
		assert(getmetatable("").__index.find == string.find)
		assert(("abc"):upper() == "ABC")
	`); err != nil {
		t.Fatal(err)
	}
	orig := lua.NewState()
	defer orig.Close()
	for _, name := range []string{"find", "match", "gmatch", "gsub", "gfind"} {
		if L.GetField(L.GetGlobal("string"), name) == orig.GetField(orig.GetGlobal("string"), name) {
			t.Errorf("string.%s not replaced", name)
		}
	}
}
