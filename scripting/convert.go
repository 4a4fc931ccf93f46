package scripting

import (
	"fmt"
	"maps"
	"math"
	"slices"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// toValue converts a Lua value to a scope.Value for Application or Session
// scope. What is not plain data becomes scope.Unstorable, which the agility
// check refuses by name: a function, a userdata, a thread, a table that
// contains itself or has a key that is not a string, number or boolean.
// Nesting deeper
// than scope.MaxDepth and more than scope.MaxElements elements stop the
// conversion where they are crossed, so that no value a script builds (a
// table nested a million deep, say) can exhaust the Go stack or memory.
func toValue(v lua.LValue) scope.Value {
	c := converter{seen: map[*lua.LTable]bool{}}
	if v := c.value(v); c.elems <= scope.MaxElements {
		return v
	}
	return tooLarge // the whole value is at fault, not where the count ran over
}

// jsonArrayKey marks json.array's metatable: a table marked as a JSON
// array is plain data all the same (the mark is not kept).
const jsonArrayKey = "__lasp_json_array"

// converter is one conversion of a Lua value into plain data.
type converter struct {
	seen  map[*lua.LTable]bool // tables on the current path
	depth int                  // tables entered on the current path
	elems int                  // elements converted so far
}

var (
	tooDeep  = scope.Unstorable{What: fmt.Sprintf("a table nested more than %d deep", scope.MaxDepth)}
	tooLarge = scope.Unstorable{What: fmt.Sprintf("a value of more than %d elements", scope.MaxElements)}
)

func (c *converter) value(v lua.LValue) scope.Value {
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
		if c.seen[v] {
			return scope.Unstorable{What: "a table that contains itself"}
		}
		if mt, ok := v.Metatable.(*lua.LTable); ok && mt.RawGetString(jsonArrayKey) != lua.LTrue {
			if progid, ok := mt.RawGetString("__progid").(lua.LString); ok {
				return luaInstance{string(progid)}
			}
			return scope.Unstorable{What: "a table with a metatable"}
		}
		if c.depth >= scope.MaxDepth {
			return tooDeep
		}
		c.seen[v] = true
		c.depth++
		defer func() { delete(c.seen, v); c.depth-- }()
		return c.table(v)
	}
	return scope.Unstorable{What: "a " + v.Type().String()}
}

// table converts a table: keys exactly 1..n (n > 0) make an array, string
// keys (or none) a map, any other keys of plain data a scope.Table, so that
// mixed ({1, 2, n = 2}) and sparse ({[1] = "a", [10] = "b"}) tables keep
// every key.
func (c *converter) table(t *lua.LTable) scope.Value {
	count, maxIndex := 0, 0
	strs, seq := true, true
	var bad lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		count++
		switch k := k.(type) {
		case lua.LString:
			seq = false
		case lua.LNumber:
			strs = false
			if f := float64(k); seq && f == math.Trunc(f) && f >= 1 && f <= float64(scope.MaxElements) {
				maxIndex = max(maxIndex, int(f))
			} else {
				seq = false
			}
		case lua.LBool:
			strs, seq = false, false
		default:
			if bad == nil {
				bad = k
			}
		}
	})
	if c.elems += count; c.elems > scope.MaxElements {
		return nil // toValue refuses the whole value
	}
	switch {
	case bad != nil:
		return scope.Unstorable{What: "a table with a " + bad.Type().String() + " key"}
	case count > 0 && seq && maxIndex == count:
		arr := make([]scope.Value, count)
		for i := range arr {
			arr[i] = c.value(t.RawGetInt(i + 1))
		}
		return arr
	case strs:
		m := make(map[string]scope.Value, count)
		t.ForEach(func(k, v lua.LValue) { m[string(k.(lua.LString))] = c.value(v) })
		return m
	}
	m := make(scope.Table, count)
	t.ForEach(func(k, v lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			m[string(k)] = c.value(v)
		case lua.LNumber:
			m[float64(k)] = c.value(v)
		case lua.LBool:
			m[bool(k)] = c.value(v)
		}
	})
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
		for _, k := range slices.Sorted(maps.Keys(v)) {
			t.RawSetString(k, s.fromValue(L, v[k]))
		}
		return t
	case scope.Table:
		t := L.CreateTable(0, len(v))
		for _, k := range v.Keys() {
			t.RawSet(s.fromValue(L, k), s.fromValue(L, v[k]))
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
