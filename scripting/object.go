package scripting

import (
	lua "github.com/yuin/gopher-lua"
)

// object is an intrinsic object as scripts see it: an empty, protected proxy
// table. Reads find methods and fields in members (a plain table lookup),
// then fall back to get; writes go to set. Methods work with "." and ":".
type object struct {
	name    string
	proxy   *lua.LTable
	members *lua.LTable
	mt      *lua.LTable
}

// getter answers a property read; ok false means the property does not exist.
type getter func(L *lua.LState, key string) (v lua.LValue, ok bool)

// setter handles a property write; ok false means the property does not exist.
type setter func(L *lua.LState, key string, v lua.LValue) (ok bool)

func (s *state) newObject(name string, get getter, set setter) *object {
	L := s.L
	o := &object{name: name, proxy: L.CreateTable(0, 4), members: L.CreateTable(0, 4), mt: L.CreateTable(0, 4)}
	o.mt.RawSetString("__index", o.members)
	o.mt.RawSetString("__metatable", lua.LFalse)
	o.mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		key := L.CheckString(2)
		if set == nil || !set(L, key, L.Get(3)) {
			L.RaiseError("%s.%s cannot be set", name, key)
		}
		return 0
	}))
	o.mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(name))
		return 1
	}))
	if get != nil {
		o.members.Metatable = L.CreateTable(0, 4)
		o.members.Metatable.(*lua.LTable).RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			key, ok := L.Get(2).(lua.LString)
			if !ok {
				return 0
			}
			if v, ok := get(L, string(key)); ok {
				L.Push(v)
				return 1
			}
			return 0
		}))
	}
	o.proxy.Metatable = o.mt
	s.readOnly[o.proxy] = true
	s.readOnly[o.members] = true
	return o
}

// method adds a method. fn sees its arguments from index 1 whether it was
// called with "." or ":".
func (o *object) method(L *lua.LState, name string, fn lua.LGFunction) {
	o.members.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() > 0 && L.Get(1) == o.proxy {
			L.Remove(1)
		}
		return fn(L)
	}))
}

// field adds a fixed member, such as a sub-object.
func (o *object) field(name string, v lua.LValue) { o.members.RawSetString(name, v) }

// meta sets a metamethod (__call, __tostring) on the proxy.
func (o *object) meta(L *lua.LState, event string, fn lua.LGFunction) {
	o.mt.RawSetString(event, L.NewFunction(fn))
}
