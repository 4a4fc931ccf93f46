package scripting

import (
	"testing"
	"testing/fstest"
)

// TestIsolation runs pages that try to leak state into the next run of the
// same Lua state. Each attack runs inside pcall, so the page succeeds and
// its state is reused: the probe must see nothing of the attack.
func TestIsolation(t *testing.T) {
	attacks := map[string]string{
		"global":      `leaked = "yes"`,
		"string":      `string.upper = nil`,
		"table":       `table.insert = nil`,
		"metatable":   `getmetatable("").__index = {}`,
		"stringmeta":  `local mt = getmetatable("") mt.__index.upper = nil`,
		"rawset":      `rawset(string, "upper", function() return "pwned" end)`,
		"setmeta":     `setmetatable(string, nil)`,
		"g":           `_G.string = nil; _G.leaked = "g"`,
		"envmeta":     `getmetatable(_G).__index.leaked = "mt"`,
		"request":     `Request.QueryString = nil`,
		"response":    `Response.Write = function() end`,
		"members":     `rawset(Response, "Write", nil)`,
		"coroutine":   `coroutine.create = nil`,
		"osdate":      `os.date = nil`,
		"upvalue":     `local up = string; up.upper = nil`,
		"stringindex": `string.__index = nil`,
		"setmetaG":    `setmetatable(_G, {__index = function() return "mt" end})`,
		"cookie":      `Response.Cookies["leak"] = "x"`,
	}
	fsys := fstest.MapFS{
		"probe.lasp": {Data: []byte(`<%= tostring(leaked) %>|<%= string.upper("a") %>|<%= ("b"):upper() %>|<% table.insert({}, 1) %>ok|<%= type(os.date) %>|<% Response.Write("w") %>|<%= tostring(Response.Cookies["leak"]) %>`)},
	}
	for name, attack := range attacks {
		fsys[name+".lasp"] = &fstest.MapFile{Data: []byte("<% local ok, err = pcall(function() " + attack + " end) %>done")}
	}
	e := New(Config{FS: fsys})
	defer e.Close()
	const want = "nil|A|B|ok|function|w|nil"
	if got, err := runPage(t, e, "probe.lasp", nil); got != want || err != nil {
		t.Fatalf("probe before: %q, %v; want %q", got, err, want)
	}
	for name := range attacks {
		t.Run(name, func(t *testing.T) {
			if got, err := runPage(t, e, name+".lasp", nil); got != "done" || err != nil {
				t.Fatalf("attack page: %q, %v", got, err)
			}
			if got, err := runPage(t, e, "probe.lasp", nil); got != want || err != nil {
				t.Errorf("after %s: probe says %q, %v; want %q", name, got, err, want)
			}
		})
	}
	if s := e.Stats(); s.Created != 1 || s.Idle != 1 || s.InUse != 0 {
		t.Errorf("stats after sequential runs: %+v, want 1 state made, idle, reused", s)
	}
}
