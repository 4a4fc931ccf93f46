package lpattern

import (
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// serializer defines ser(...), which turns values into a string: the count,
// then type:value for each.
const serializer = `
function ser(...)
  local n = select('#', ...)
  local t = {}
  for i = 1, n do
    local v = select(i, ...)
    local s = tostring(v)
    if type(v) == "number" then s = string.format("%.17g", v) end
    t[#t+1] = type(v) .. ":" .. s
  end
  return n .. " [" .. table.concat(t, ", ") .. "]"
end
`

// newState returns a state with the base, table and string libraries; with
// install it has this package's functions, with maxSteps.
func newState(t testing.TB, install bool, maxSteps int) *lua.LState {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	if install {
		Install(L, L.GetGlobal("string").(*lua.LTable), maxSteps)
	}
	if err := L.DoString(serializer); err != nil {
		t.Fatal(err)
	}
	return L
}

// evalIn runs code (a function body) in L under pcall and returns its
// serialized results.
func evalIn(t testing.TB, L *lua.LState, code string) string {
	t.Helper()
	if err := L.DoString("RESULT = ser(pcall(function() " + code + "\nend))"); err != nil {
		t.Fatalf("running %q: %v", code, err)
	}
	return L.GetGlobal("RESULT").String()
}

// sameResult reports whether the serialized results of gopher-lua (orig)
// and of this package (ours) agree. Where gopher-lua failed with a Go
// runtime panic, any Lua error of ours is accepted.
func sameResult(orig, ours string) bool {
	if orig == ours {
		return true
	}
	const failed = "2 [boolean:false, string:"
	return strings.HasPrefix(orig, failed+"runtime error:") && strings.HasPrefix(ours, failed) &&
		!strings.Contains(ours, "runtime error")
}

// callsSnippet calls every function under test with the globals S (subject),
// P (pattern), I (init), R (replacement string) and N (gsub's max n), and
// returns one serialized line per call.
const callsSnippet = `
local out = {}
local function add(...) out[#out+1] = ser(...) end
add(pcall(string.find, S, P, I))
add(pcall(string.find, S, P, I, true))
add(pcall(function() return S:find(P) end))
add(pcall(string.match, S, P, I))
add(pcall(string.match, S, P))
add(pcall(function()
  local t = {}
  for a, b, c in S:gmatch(P) do t[#t+1] = ser(a, b, c) end
  return table.concat(t, ";")
end))
add(pcall(string.gsub, S, P, R))
add(pcall(string.gsub, S, P, R, N))
add(pcall(string.gsub, S, P, {a = "<A>", b = false, ab = 1.5, [1] = "one", [3] = {}, x = true}))
add(pcall(string.gsub, S, P, function(...)
  local n = select('#', ...)
  if n > 0 and ... == "b" then return false end
  if n > 0 and ... == "c" then return 42 end
  local t = {}
  for i = 1, n do t[i] = tostring((select(i, ...))) end
  return "[" .. table.concat(t, "|") .. "]"
end, N))
RESULT = table.concat(out, "\n")
`

// differ runs callsSnippet in gopher-lua's string library and in ours.
type differ struct {
	mu         sync.Mutex
	orig, ours *lua.LState
	calls      *lua.FunctionProto // callsSnippet, compiled
}

// stepGuard is the step budget of our side. A case that needs more is not
// run on gopher-lua's side, whose matcher cannot be stopped.
const stepGuard = 200000

func newDiffer(t testing.TB) *differ {
	t.Helper()
	chunk, err := parse.Parse(strings.NewReader(callsSnippet), "calls")
	if err != nil {
		t.Fatal(err)
	}
	proto, err := lua.Compile(chunk, "calls")
	if err != nil {
		t.Fatal(err)
	}
	return &differ{orig: newState(t, false, 0), ours: newState(t, true, stepGuard), calls: proto}
}

// run returns both results, or skip=true when our side ran out of steps.
func (d *differ) run(t testing.TB, s, p string, init int, repl string, n int) (orig, ours string, skip bool) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	eval := func(L *lua.LState) string {
		L.SetGlobal("S", lua.LString(s))
		L.SetGlobal("P", lua.LString(p))
		L.SetGlobal("I", lua.LNumber(init))
		L.SetGlobal("R", lua.LString(repl))
		L.SetGlobal("N", lua.LNumber(n))
		L.Push(L.NewFunctionFromProto(d.calls))
		if err := L.PCall(0, 0, nil); err != nil {
			t.Fatalf("s=%q p=%q: %v", s, p, err)
		}
		return L.GetGlobal("RESULT").String()
	}
	ours = eval(d.ours)
	if strings.Contains(ours, "pattern too complex") {
		return "", ours, true
	}
	return eval(d.orig), ours, false
}

// compare fails t on the first call whose results differ.
func compare(t testing.TB, s, p string, orig, ours string) {
	t.Helper()
	ol, ml := strings.Split(orig, "\n"), strings.Split(ours, "\n")
	for i := range ol {
		if !sameResult(ol[i], ml[i]) {
			t.Errorf("s=%q p=%q call %d:\ngopher-lua: %s\nlpattern:   %s", s, p, i+1, ol[i], ml[i])
		}
	}
}
