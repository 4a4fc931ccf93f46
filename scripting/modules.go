package scripting

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"lasp/internal/scan"
)

var moduleName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// require loads lib/a/b.lua for require("a.b"), once per state, in an
// environment of its own. In -dev a changed module is loaded again.
func (s *state) require(L *lua.LState) int {
	name := L.CheckString(1)
	if !moduleName.MatchString(name) {
		L.RaiseError("require: invalid module name %q", name)
	}
	file := "lib/" + strings.ReplaceAll(name, ".", "/") + ".lua"
	proto, err := s.e.module(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			L.RaiseError("module '%s' not found: no file %s", name, file)
		}
		if se, ok := err.(*Error); ok {
			s.run.pending = se
		}
		L.RaiseError("require %q: %v", name, err)
	}
	if m := s.modules[name]; m != nil && m.proto == proto {
		if m.value == nil {
			L.RaiseError("require: loop or previous error loading module '%s'", name)
		}
		L.Push(m.value)
		return 1
	}
	m := &module{proto: proto}
	s.modules[name] = m
	fn := L.NewFunctionFromProto(proto)
	fn.Env = s.newEnv()
	L.Push(fn)
	L.Push(lua.LString(name))
	L.Call(1, 1)
	m.value = L.Get(-1)
	if m.value == lua.LNil {
		m.value = lua.LTrue
	}
	L.Pop(1)
	L.Push(m.value)
	return 1
}

// isModule reports whether file is that of a module the state loaded.
func (s *state) isModule(file string) bool {
	name, ok := strings.CutPrefix(file, "lib/")
	if !ok {
		return false
	}
	name, ok = strings.CutSuffix(name, ".lua")
	return ok && s.modules[strings.ReplaceAll(name, "/", ".")] != nil
}

// sourceLine returns line n of an app file, for error reports.
func (e *Engine) sourceLine(name string, n int) string {
	if name == "" || n <= 0 {
		return ""
	}
	src, err := fs.ReadFile(e.cfg.FS, name)
	if err != nil {
		return ""
	}
	lines := strings.Split(scan.LuaNewlines(string(src)), "\n") // numbered as Lua numbers them
	if n > len(lines) {
		return ""
	}
	return lines[n-1]
}
