package scripting

import (
	"math"
	"strconv"
	"testing"

	"lasp/scope"
)

// valueFrom builds a plain value from fuzz bytes: a small stack machine, so
// that every input is some value.
func valueFrom(data []byte) scope.Value {
	var build func(depth int) scope.Value
	build = func(depth int) scope.Value {
		if len(data) == 0 {
			return nil
		}
		op := data[0]
		data = data[1:]
		switch op % 8 {
		case 0:
			return nil
		case 1:
			return op&8 != 0
		case 2:
			return float64(int8(op)) / 4
		case 3:
			return strconv.Itoa(int(op)) + "\x00é"
		case 4:
			if depth > 4 {
				return "deep"
			}
			n := int(op/7) % 4
			arr := make([]scope.Value, 0, n)
			for range n {
				v := build(depth + 1)
				if v == nil {
					v = false // arrays hold no nil
				}
				arr = append(arr, v)
			}
			if len(arr) == 0 {
				return map[string]scope.Value{}
			}
			return arr
		case 5:
			if depth > 4 {
				return "deep"
			}
			m := map[string]scope.Value{}
			for i := range int(op/7) % 4 {
				if v := build(depth + 1); v != nil {
					m["k"+strconv.Itoa(i)] = v
				}
			}
			return m
		case 6:
			if depth > 4 {
				return "deep"
			}
			// A scope.Table as the converter makes one: no nil values, and
			// keys neither all strings nor exactly 1..n (a true key sees to
			// that).
			m := scope.Table{true: "mixed"}
			for i := range int(op/8) % 5 {
				v := build(depth + 1)
				if v == nil {
					continue
				}
				switch i % 3 {
				case 0:
					m[float64(int8(op))/4+float64(i)] = v
				case 1:
					m["k"+strconv.Itoa(i)] = v
				default:
					m[float64(i)] = v
				}
			}
			return m
		}
		return math.Inf(1)
	}
	return build(0)
}

// FuzzConvert: a plain value converted to Lua and back is the same value.
func FuzzConvert(f *testing.F) {
	for _, seed := range []string{"", "\x01", "\x04\x03\x02", "\x05\x33\x03\x04\x0b\x01\x02", "\x2e\x05\x05\x03", "\x26\x01\x0c\x03\x06\x02"} {
		f.Add([]byte(seed))
	}
	s := newState(New(Config{}))
	defer s.close()
	f.Fuzz(func(t *testing.T, data []byte) {
		v := valueFrom(data)
		back := toValue(s.fromValue(s.L, v))
		if !scope.Equal(v, back) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v", v, back)
		}
		if err := scope.Check("Session", "k", back); err != nil {
			t.Fatalf("a converted plain value fails the agility check: %v", err)
		}
	})
}
