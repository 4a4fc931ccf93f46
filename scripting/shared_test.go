package scripting

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// runIn runs a Lua chunk in s with a fresh environment and returns its
// first result as a string.
func runIn(s *state, src string) (string, error) {
	fn, err := s.L.LoadString(src)
	if err != nil {
		return "", err
	}
	fn.Env = s.newEnv()
	s.L.Push(fn)
	if err := s.L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	defer s.L.Pop(1)
	return lua.LVAsString(s.L.Get(-1)), nil
}

// TestSharedLibrariesConcurrent: states on several goroutines use the
// libraries they share at once (go test -race).
func TestSharedLibrariesConcurrent(t *testing.T) {
	e := New(Config{})
	defer e.Close()
	const src = `local t = {}
for i = 1, 20 do
	t[#t+1] = string.format("%5.2f|%s|%q|%d", math.sqrt(i), ("ab"):rep(2), 'a"b', math.floor(i / 3))
	t[#t+1] = (("k=v; x=y"):gsub("(%w+)=(%w+)", "%2=%1"))
	for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t+1] = k .. v end
	t[#t+1] = tostring(string.find("hello world", "o w", 1, true)) .. tostring(("hello"):match("l+"))
	t[#t+1] = os.date("!%Y-%m-%d %H:%M", 86400 * i)
	t[#t+1] = json.encode(json.decode('{"a":[1,2,{"b":null}],"c":"d"}'))
	t[#t+1] = json.encode(json.array({})) .. tostring(json.null)
	local co = coroutine.wrap(function(x) coroutine.yield(x + 1) end)
	t[#t+1] = tostring(co(i)) .. select("#", unpack({1, 2, 3})) .. ("%d"):rep(2, "")
	t[#t+1] = tostring(pcall(error, "e", 0)) .. type(next({})) .. tostring(rawget(t, 1) ~= nil)
end
table.sort(t)
table.insert(t, 1, "first")
table.remove(t)
return table.concat(t, ",")`
	want, err := runIn(newState(e), src)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		s := newState(e)
		if g%2 == 1 {
			s = newApartmentState(e)
		}
		wg.Go(func() {
			defer s.close()
			for range 20 {
				if got, err := runIn(s, src); got != want || err != nil {
					t.Errorf("state %d: %v, output differs: %t", g, err, got != want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestSharedLibrariesReadOnly: no route lets a script change a library
// that states share; each attempt fails, and another state sees every
// shared table as it was.
func TestSharedLibrariesReadOnly(t *testing.T) {
	e := New(Config{})
	defer e.Close()
	a, b := newState(e), newState(e)
	defer a.close()
	defer b.close()
	before := snapshot(e.shared)
	for _, attack := range []string{
		`string.upper = nil`,
		`string.x = 1`,
		`string.__index = {}`,
		`rawset(string, "upper", print)`,
		`setmetatable(string, nil)`,
		`getmetatable("").__index.upper = nil`,
		`getmetatable(string).__index.upper = nil`,
		`("x").upper = nil`,
		`local s = "x" s.len = nil`,
		`table.insert(string, "x")`,
		`table.insert(math, 1, "x")`,
		`table.remove(table, 1)`,
		`table.sort(os)`,
		`json.array(string)`,
		`rawset(json, "encode", print)`,
		`json.null.x = 1`,
		`setmetatable(json.null, {})`,
		`getmetatable(json.array()).x = 1`,
		`setmetatable(json.array(), nil)`,
		`_G.string.x = 1`,
		`coroutine.wrap = nil`,
		`os.date = nil`,
		`math.pi = 3`,
		`setfenv(print, {})`,
		`string.dump(print)`,
		`rawset(getmetatable(_G), "x", 1)`,
	} {
		if _, err := runIn(a, "local ok, err = pcall(function() "+attack+" end) assert(not ok, 'no error') return err"); err != nil {
			t.Errorf("%s: succeeded", attack)
		}
		if _, err := runIn(a, attack); err == nil {
			t.Errorf("%s: succeeded outside pcall", attack)
		}
	}
	if after := snapshot(e.shared); after != before {
		t.Errorf("the shared libraries changed:\n%s\nwant\n%s", after, before)
	}
	const probe = `return table.concat({string.upper("a"), ("b"):upper(), tostring(string.x), tostring(rawget(string, 1)),
		tostring(#string), tostring(next(string)), type(os.date), tostring(math.pi), type(json.encode), type(coroutine.wrap), type(string.dump)}, " ")`
	const want = "A B nil nil 0 nil function 3.141592653589793 function function nil"
	for name, s := range map[string]*state{"the attacking state": a, "another state": b} {
		if got, err := runIn(s, probe); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}

// snapshot writes out every table reachable from the shared libraries.
func snapshot(x *libraries) string {
	var lines []string
	seen := map[*lua.LTable]bool{}
	var walk func(path string, v lua.LValue)
	walk = func(path string, v lua.LValue) {
		lines = append(lines, fmt.Sprintf("%s = %s %p", path, v.Type(), v))
		if ud, ok := v.(*lua.LUserData); ok {
			walk(path+"<mt>", ud.Metatable)
		}
		t, ok := v.(*lua.LTable)
		if !ok || seen[t] {
			return
		}
		seen[t] = true
		lines = append(lines, fmt.Sprintf("%s # %d", path, t.Len()))
		t.ForEach(func(k, v lua.LValue) { walk(path+"."+k.String(), v) })
		walk(path+"<mt>", t.Metatable)
	}
	for _, g := range x.globals {
		walk(g.name, g.value)
	}
	walk("<string mt>", x.stringMT)
	walk("<base mt>", x.baseMT)
	walk("<json array mt>", x.jsonArrayMT)
	walk("<json null>", x.jsonNull)
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestStateMemory reports the heap one pooled page state and one
// apartment state hold, the engine's shared libraries not counted
// (go test -run StateMemory -v).
func TestStateMemory(t *testing.T) {
	e := New(Config{})
	defer e.Close()
	e.libraries()
	for _, c := range []struct {
		name string
		make func(*Engine) *state
	}{{"pooled page state", newState}, {"apartment state", newApartmentState}} {
		const n = 200
		states := make([]*state, n)
		runtime.GC()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range states {
			states[i] = c.make(e)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		t.Logf("one %s: %d bytes of heap (mean of %d)", c.name, int(after.HeapAlloc-before.HeapAlloc)/n, n)
		runtime.KeepAlive(states)
	}
}
