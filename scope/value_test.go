package scope

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// testObject is an Object for tests.
type testObject struct {
	progID    string
	threading Threading
}

func (o *testObject) ProgID() string       { return o.progID }
func (o *testObject) Threading() Threading { return o.threading }

// testProxy is a Proxy for tests; like every proxy it says it is agile.
type testProxy struct{ target *testObject }

func (p *testProxy) ProgID() string       { return p.target.progID }
func (p *testProxy) Threading() Threading { return Agile }
func (p *testProxy) Apartment() string    { return "test apartment" }

var (
	_ Object = (*testObject)(nil)
	_ Proxy  = (*testProxy)(nil)

	dict  = &testObject{progID: "Lasp.Dictionary", threading: Agile}
	horse = &testObject{progID: "Animals.Horse", threading: Apartment}
)

// selfTable returns a table that contains itself at t["self"]["back"].
func selfTable() map[string]Value {
	t := map[string]Value{"name": "loop"}
	t["self"] = map[string]Value{"back": t}
	return t
}

// nested returns n tables nested in one another.
func nested(n int) Value {
	var v Value = "bottom"
	for range n {
		v = map[string]Value{"in": v}
	}
	return v
}

func TestCopy(t *testing.T) {
	tests := []struct {
		name string
		v    Value
	}{
		{name: "nil", v: nil},
		{name: "bool", v: true},
		{name: "number", v: 3.5},
		{name: "NaN", v: math.NaN()},
		{name: "string", v: "héllo"},
		{name: "empty array", v: []Value{}},
		{name: "nil array", v: []Value(nil)},
		{name: "nil table", v: map[string]Value(nil)},
		{name: "array with holes", v: []Value{1.0, nil, "x"}},
		{name: "table", v: map[string]Value{"a": 1.0, "b": []Value{true, map[string]Value{"c": "d"}}}},
		{name: "agile object", v: dict},
		{name: "apartment object", v: horse},
		{name: "objects in a table", v: map[string]Value{"d": dict, "h": horse}},
		{name: "shared subtable", v: func() Value {
			sub := []Value{1.0}
			return []Value{sub, sub}
		}()},
		{name: "100 deep", v: nested(MaxDepth)},
		{name: "mixed table", v: Table{1.0: 1.0, 2.0: 2.0, "n": 2.0}},
		{name: "sparse table", v: Table{1.0: "a", 10.0: "b"}},
		{name: "number and boolean keys", v: Table{true: "yes", false: []Value{"no"}, 2.5: Table{-1.0: "x"}, 0.0: "zero"}},
		{name: "empty and nil mixed tables", v: []Value{Table{}, Table(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Copy(tt.v)
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if !Equal(c, tt.v) {
				t.Errorf("Copy(%v) = %v, not Equal", tt.v, c)
			}
		})
	}
}

func TestCopyIsDeep(t *testing.T) {
	v := map[string]Value{"cart": []Value{map[string]Value{"name": "pen"}}, "dict": dict}
	c, err := Copy(v)
	if err != nil {
		t.Fatal(err)
	}
	ct := c.(map[string]Value)
	ct["cart"].([]Value)[0].(map[string]Value)["name"] = "ink"
	ct["new"] = 1.0
	if got := v["cart"].([]Value)[0].(map[string]Value)["name"]; got != "pen" {
		t.Errorf("changing the copy changed the original: name = %v", got)
	}
	if _, ok := v["new"]; ok {
		t.Error("a key added to the copy appeared in the original")
	}
	if ct["dict"] != Value(dict) {
		t.Error("an Object was not kept by reference")
	}
}

func TestCopyErrors(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want string // the error message
	}{
		{
			name: "function",
			v:    Unstorable{What: "a function"},
			want: "a function is not plain data",
		},
		{
			name: "nameless unstorable",
			v:    Unstorable{},
			want: "a value that is not plain data is not plain data",
		},
		{
			name: "Go int",
			v:    map[string]Value{"n": 3},
			want: `a Go value of type int (at ["n"]) is not plain data`,
		},
		{
			name: "path through arrays and tables",
			v: map[string]Value{"cart": []Value{nil, nil, map[string]Value{
				"name": Unstorable{What: "a userdata"}}}},
			want: `a userdata (at ["cart"][3]["name"]) is not plain data`,
		},
		{
			name: "quoted key",
			v:    map[string]Value{"a \"b\"\n": struct{}{}},
			want: `a Go value of type struct {} (at ["a \"b\"\n"]) is not plain data`,
		},
		{
			name: "table of another key type",
			v:    map[any]Value{1: 2.0},
			want: `a Go value of type map[interface {}]interface {} is not plain data`,
		},
		{
			name: "mixed table with a Go int key",
			v:    Table{1.0: "a", 2: "b"},
			want: `a table with a key of Go type int is not plain data`,
		},
		{
			name: "mixed table with a NaN key",
			v:    map[string]Value{"t": Table{math.NaN(): true}},
			want: `a table with a NaN key (at ["t"]) is not plain data`,
		},
		{
			name: "path through number and boolean keys",
			v:    Table{10.0: Table{true: Table{2.5: Unstorable{What: "a function"}}}},
			want: `a function (at [10][true][2.5]) is not plain data`,
		},
		{
			name: "table that contains itself",
			v:    selfTable(),
			want: `a table that contains itself (at ["self"]["back"]) is not plain data`,
		},
		{
			name: "array that contains itself",
			v: func() Value {
				a := []Value{1.0, nil}
				a[1] = a
				return a
			}(),
			want: `a table that contains itself (at [2]) is not plain data`,
		},
		{
			name: "wide table that contains itself",
			v: func() Value {
				t := map[string]Value{}
				for i := range 20_000 { // enough to run over MaxElements before MaxDepth
					t[strconv.Itoa(i)] = 1.0
				}
				t["self"] = t
				return t
			}(),
			want: `a table that contains itself (at ["self"]) is not plain data`,
		},
		{
			name: "too deep",
			v:    nested(MaxDepth + 1),
			want: `a table nested more than 100 deep (at ` + strings.Repeat(`["in"]`, MaxDepth) + `) is not plain data`,
		},
		{
			name: "too many elements",
			v:    make([]Value, MaxElements+1),
			want: `a value of more than 1000000 elements is not plain data`,
		},
		{
			name: "too many elements in all",
			v:    []Value{make([]Value, MaxElements/2), 1.0, make([]Value, MaxElements/2)},
			want: `a value of more than 1000000 elements is not plain data`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Copy(tt.v)
			if err == nil {
				t.Fatalf("Copy succeeded: %v", c)
			}
			var de *DataError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DataError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// TestCopyErrorIsDeterministic: with several faults in one table, the one
// reported does not depend on map order.
func TestCopyErrorIsDeterministic(t *testing.T) {
	v := map[string]Value{}
	for _, k := range []string{"m", "c", "x", "a", "q", "f"} {
		v[k] = Unstorable{What: "a function"}
	}
	for range 20 {
		_, err := Copy(v)
		if want := `a function (at ["a"]) is not plain data`; err == nil || err.Error() != want {
			t.Fatalf("error = %v, want %s", err, want)
		}
	}
}

// uncomparable is an Object of a type == cannot compare.
type uncomparable struct{ m map[string]int }

func (uncomparable) ProgID() string       { return "Odd.Thing" }
func (uncomparable) Threading() Threading { return Agile }

func TestEqual(t *testing.T) {
	other := &testObject{progID: "Lasp.Dictionary", threading: Agile}
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{name: "nils", a: nil, b: nil, want: true},
		{name: "nil and false", a: nil, b: false, want: false},
		{name: "bools", a: true, b: true, want: true},
		{name: "different bools", a: true, b: false, want: false},
		{name: "numbers", a: 1.5, b: 1.5, want: true},
		{name: "NaN", a: math.NaN(), b: math.NaN(), want: true},
		{name: "zero and minus zero", a: 0.0, b: math.Copysign(0, -1), want: true},
		{name: "number and string", a: 1.0, b: "1", want: false},
		{name: "strings", a: "a", b: "a", want: true},
		{name: "different strings", a: "a", b: "A", want: false},
		{name: "arrays", a: []Value{1.0, "x"}, b: []Value{1.0, "x"}, want: true},
		{name: "arrays of other lengths", a: []Value{1.0}, b: []Value{1.0, nil}, want: false},
		{name: "nil array and empty array", a: []Value(nil), b: []Value{}, want: true},
		{name: "mixed tables", a: Table{1.0: "a", "n": 1.0, true: false}, b: Table{true: false, "n": 1.0, 1.0: "a"}, want: true},
		{name: "a number key and a string key", a: Table{1.0: "a"}, b: Table{"1": "a"}, want: false},
		{name: "mixed tables of other values", a: Table{1.0: "a"}, b: Table{1.0: "b"}, want: false},
		{name: "a mixed table and a table", a: Table{"a": 1.0}, b: map[string]Value{"a": 1.0}, want: false},
		{name: "array and table", a: []Value{}, b: map[string]Value{}, want: false},
		{name: "tables", a: map[string]Value{"a": []Value{true}}, b: map[string]Value{"a": []Value{true}}, want: true},
		{name: "tables with other keys", a: map[string]Value{"a": nil}, b: map[string]Value{"b": nil}, want: false},
		{name: "tables with other values", a: map[string]Value{"a": 1.0}, b: map[string]Value{"a": 2.0}, want: false},
		{name: "same object", a: dict, b: dict, want: true},
		{name: "equal-looking objects", a: dict, b: other, want: false},
		{name: "uncomparable objects", a: uncomparable{}, b: uncomparable{}, want: false},
		{name: "Go int", a: 1, b: 1, want: false},
		{name: "unstorable", a: Unstorable{What: "a function"}, b: Unstorable{What: "a function"}, want: false},
		{name: "cycles", a: selfTable(), b: selfTable(), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(a, b) = %v, want %v", got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal(b, a) = %v, want %v", got, tt.want)
			}
		})
	}
}

// valueBuilder builds a Value from fuzz input, deterministically: the same
// input always gives an equal value, built afresh.
type valueBuilder struct {
	data  []byte
	nodes int
}

func (b *valueBuilder) byte() byte {
	if len(b.data) == 0 {
		return 0
	}
	c := b.data[0]
	b.data = b.data[1:]
	return c
}

func (b *valueBuilder) string() string {
	n := min(int(b.byte()%16), len(b.data))
	s := string(b.data[:n])
	b.data = b.data[n:]
	return s
}

func (b *valueBuilder) value(depth int) Value {
	b.nodes++
	op := b.byte() % 8
	if depth > 8 || b.nodes > 2000 {
		op %= 4 // scalars only
	}
	switch op {
	case 0:
		return nil
	case 1:
		return b.byte()%2 == 1
	case 2:
		var buf [8]byte
		for i := range buf {
			buf[i] = b.byte()
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(buf[:]))
	case 3:
		return b.string()
	case 5:
		n := int(b.byte() % 6)
		t := make(Table, n)
		for range n {
			var k any
			switch c := b.byte(); c % 3 {
			case 0:
				k = c%2 == 1
			case 1:
				k = float64(int8(b.byte())) / 2
			default:
				k = b.string()
			}
			t[k] = b.value(depth + 1)
		}
		return t
	case 4:
		n := int(b.byte() % 6)
		a := make([]Value, n)
		for i := range a {
			a[i] = b.value(depth + 1)
		}
		return a
	case 6:
		n := int(b.byte() % 6)
		t := make(map[string]Value, n)
		for range n {
			t[b.string()] = b.value(depth + 1)
		}
		return t
	}
	if b.byte()%2 == 0 {
		return dict
	}
	return horse
}

// mutate changes every array and table inside v, and reports whether v is
// itself one that it could change.
func mutate(v Value) bool {
	switch x := v.(type) {
	case []Value:
		for _, e := range x {
			mutate(e)
		}
		if len(x) > 0 {
			x[0] = Unstorable{What: "mutated"} // equal to nothing
			return true
		}
	case map[string]Value:
		for _, e := range x {
			mutate(e)
		}
		if x != nil {
			x["\x00mutated"] = Unstorable{What: "mutated"}
			return true
		}
	case Table:
		for _, e := range x {
			mutate(e)
		}
		if x != nil {
			x[true] = Unstorable{What: "mutated"}
			return true
		}
	}
	return false
}

func FuzzCopy(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 5, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{6, 3, 1, 'a', 4, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 'b', 7, 1})
	f.Add([]byte{4, 5, 4, 5, 6, 2, 0, 3, 1, 'x', 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := (&valueBuilder{data: data}).value(0)
		want := (&valueBuilder{data: data}).value(0) // built afresh: shares nothing with v
		c, err := Copy(v)
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		if !Equal(c, v) || !Equal(v, c) {
			t.Fatalf("Copy(v) is not Equal to v:\n v = %#v\n c = %#v", v, c)
		}
		if err := Check("Session", "k", v); err != nil {
			var ae *AgilityError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), "Animals.Horse") {
				t.Fatalf("Check: %v", err)
			}
		}
		if mutate(c) && Equal(c, v) {
			t.Fatalf("the mutated copy still equals v: %#v", c)
		}
		if !Equal(v, want) {
			t.Fatalf("mutating the copy changed v:\n v = %#v\nwant %#v", v, want)
		}
	})
}
