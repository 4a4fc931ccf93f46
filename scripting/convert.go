package scripting

import (
	"math"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// toValue converts a Lua value to a scope.Value for Application or Session
// scope. What is not plain data becomes scope.Unstorable, which the agility
// check refuses by name: a function, a userdata, a thread, a table that
// contains itself or has keys other than strings and 1..n.
func toValue(v lua.LValue) scope.Value {
	return convertIn(v, map[*lua.LTable]bool{})
}

func convertIn(v lua.LValue, seen map[*lua.LTable]bool) scope.Value {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		return string(v)
	case *lua.LFunction:
		return scope.Unstorable{What: "a function"}
	case *lua.LState:
		return scope.Unstorable{What: "a thread"}
	case *lua.LUserData:
		if o, ok := v.Value.(scope.Object); ok {
			return o
		}
		return scope.Unstorable{What: "a userdata"}
	case *lua.LTable:
		if seen[v] {
			return scope.Unstorable{What: "a table that contains itself"}
		}
		seen[v] = true
		defer delete(seen, v)
		if mt, ok := v.Metatable.(*lua.LTable); ok {
			if progid, ok := mt.RawGetString("__progid").(lua.LString); ok {
				return luaInstance{string(progid)}
			}
			return scope.Unstorable{What: "a table with a metatable"}
		}
		return tableIn(v, seen)
	}
	return scope.Unstorable{What: "a " + v.Type().String()}
}

// tableIn converts a table: a sequence 1..n becomes an array, a table of
// string keys a map; an empty table is an empty map.
func tableIn(t *lua.LTable, seen map[*lua.LTable]bool) scope.Value {
	n := t.Len()
	count := 0
	bad := lua.LValue(nil)
	t.ForEach(func(k, _ lua.LValue) {
		count++
		if _, ok := k.(lua.LString); !ok && bad == nil {
			if f, ok := k.(lua.LNumber); !ok || float64(f) != math.Trunc(float64(f)) || int(f) < 1 || int(f) > n {
				bad = k
			}
		}
	})
	if n > 0 && count == n {
		arr := make([]scope.Value, n)
		for i := range arr {
			arr[i] = convertIn(t.RawGetInt(i+1), seen)
		}
		return arr
	}
	if n > 0 {
		return scope.Unstorable{What: "a table that mixes array items and keys"}
	}
	if bad != nil {
		return scope.Unstorable{What: "a table with a " + bad.Type().String() + " key"}
	}
	m := make(map[string]scope.Value, count)
	t.ForEach(func(k, v lua.LValue) { m[string(k.(lua.LString))] = convertIn(v, seen) })
	return m
}

// fromValue converts a scope.Value to a fresh Lua value in L. Objects come
// back as the userdata that wraps them.
func (s *state) fromValue(L *lua.LState, v scope.Value) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []scope.Value:
		t := L.CreateTable(len(v), 0)
		for _, e := range v {
			t.Append(s.fromValue(L, e))
		}
		return t
	case map[string]scope.Value:
		t := L.CreateTable(0, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.RawSetString(k, s.fromValue(L, v[k]))
		}
		return t
	case *Proxy:
		if self, ok := s.apartment.local(v); ok {
			return self // an object of this very apartment: call it directly
		}
		return s.wrapObject(L, v)
	case caller:
		return s.wrapObject(L, v)
	case scope.Object:
		ud := L.NewUserData()
		ud.Value = v
		return ud
	}
	return lua.LNil
}
