package scope

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// kv is a key and its value, for building Contents in order.
type kv struct {
	k string
	v Value
}

// contentsOf returns Session contents with kvs set in order.
func contentsOf(tb testing.TB, kvs ...kv) *Contents {
	tb.Helper()
	c := NewContents("Session")
	for _, p := range kvs {
		if err := c.Set(p.k, p.v); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// sameContents reports how a and b differ in keys, order or values, or "".
func sameContents(a, b *Contents) string {
	if ka, kb := a.Keys(), b.Keys(); !slices.Equal(ka, kb) {
		return fmt.Sprintf("keys %q, want %q", ka, kb)
	}
	// Value by value: a snapshot would add a level of nesting, and Equal
	// stops at MaxDepth.
	for _, k := range a.Keys() {
		va, _ := a.Get(k)
		vb, _ := b.Get(k)
		if !Equal(va, vb) {
			return fmt.Sprintf("[%q] = %v, want %v", k, va, vb)
		}
	}
	return ""
}

// enc concatenates the parts of a hand-made encoding: a byte or an int is
// one byte, a uint64 a uvarint, a string its length (uvarint) and bytes, a
// []byte itself.
func enc(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch x := p.(type) {
		case byte:
			b = append(b, x)
		case int:
			b = append(b, byte(x))
		case uint64:
			b = binary.AppendUvarint(b, x)
		case string:
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case []byte:
			b = append(b, x...)
		default:
			panic(fmt.Sprintf("enc: %T", p))
		}
	}
	return b
}

// deepArrays returns n arrays nested in one another around true, encoded.
func deepArrays(n int) []byte {
	var b []byte
	for range n {
		b = append(b, tagArray, 1)
	}
	return append(b, tagTrue)
}

// richContents holds every kind of value.
func richContents(tb testing.TB) *Contents {
	return contentsOf(tb,
		kv{"User", "ann"},
		kv{"n", 42.0},
		kv{"neg", -7.0},
		kv{"pi", math.Pi},
		kv{"ok", true},
		kv{"no", false},
		kv{"cart", []Value{
			map[string]Value{"sku": "P-1", "qty": 2.0, "price": 12.5},
			nil,
			map[string]Value{"sku": "Ω-2", "tags": []Value{"a", nil, "b"}},
		}},
		kv{"Straße", map[string]Value{"ünï": "cödé", "": []Value{}}},
	)
}

func TestContentsBinaryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		kvs  []kv
	}{
		{name: "empty"},
		{name: "booleans", kvs: []kv{{"t", true}, {"f", false}}},
		{name: "small integers", kvs: []kv{{"zero", 0.0}, {"one", 1.0}, {"minus one", -1.0}, {"63", 63.0}, {"64", 64.0}, {"-64", -64.0}, {"-65", -65.0}}},
		{name: "big integers", kvs: []kv{{"1e15", 1e15}, {"max", float64(maxInt - 1)}, {"min", float64(1 - maxInt)},
			{"2^53", float64(maxInt)}, {"-2^53", -float64(maxInt)}, {"2^60", float64(1 << 60)}, {"1e300", 1e300}}},
		{name: "special floats", kvs: []kv{{"NaN", math.NaN()}, {"-0", math.Copysign(0, -1)}, {"+Inf", math.Inf(1)},
			{"-Inf", math.Inf(-1)}, {"tiny", math.SmallestNonzeroFloat64}, {"max", math.MaxFloat64}, {"half", 0.5}}},
		{name: "strings", kvs: []kv{{"empty", ""}, {"ascii", "hello"}, {"unicode", "日本語 ✓"}, {"not UTF-8", "\xff\xfe"},
			{"long", strings.Repeat("x", 300)}}},
		{name: "arrays with nil holes", kvs: []kv{{"holes", []Value{nil, 1.0, nil, nil, "x", nil}}, {"nil array", []Value(nil)}, {"empty", []Value{}}}},
		{name: "tables", kvs: []kv{{"empty", map[string]Value{}}, {"t", map[string]Value{"b": 1.0, "a": []Value{nil}, "c": map[string]Value{"d": "e"}}}}},
		{name: "unicode keys", kvs: []kv{{"Straße", 1.0}, {"été", 2.0}, {"\u212Aey", 3.0}, {"日本", 4.0}, {"\xff", 5.0}, {"", 6.0}}},
		{name: "deepest nesting", kvs: []kv{{"deep", nested(MaxDepth)}}},
		{name: "every kind", kvs: []kv{{"x", []Value{nil, true, false, 3.0, 2.5, "s", []Value{}, map[string]Value{"k": nil}}}}},
		{name: "mixed and sparse tables", kvs: []kv{{"mixed", Table{1.0: 1.0, 2.0: 2.0, "n": 2.0}}, {"sparse", Table{1.0: "a", 10.0: "b"}},
			{"keys", Table{true: "yes", false: "no", -1.5: []Value{Table{}}, 1e300: "big", math.Copysign(0, -1): "zero", "": Table{2.0: "deep"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := contentsOf(t, tt.kvs...)
			b, err := c.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got := contentsOf(t, kv{"old", "gone after Unmarshal"})
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if d := sameContents(got, c); d != "" {
				t.Error(d)
			}
			// Encoding again gives the same bytes, which also checks what
			// Equal cannot see: -0 and NaN bits.
			again, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, b) {
				t.Errorf("encoded again:\n%x\nwant\n%x", again, b)
			}
			if got.Name() != "Session" {
				t.Errorf("Name() = %q", got.Name())
			}
		})
	}
}

func TestContentsBinaryFormat(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want []byte // the value's encoding
	}{
		{name: "false", v: false, want: enc(tagFalse)},
		{name: "true", v: true, want: enc(tagTrue)},
		{name: "zero", v: 0.0, want: enc(tagInt, 0)},
		{name: "one", v: 1.0, want: enc(tagInt, 2)},
		{name: "minus one", v: -1.0, want: enc(tagInt, 1)},
		{name: "63", v: 63.0, want: enc(tagInt, 126)},
		{name: "64 takes two bytes", v: 64.0, want: enc(tagInt, 0x80, 1)},
		{name: "8191", v: 8191.0, want: enc(tagInt, 0xfe, 0x7f)},
		{name: "-0 is a float", v: math.Copysign(0, -1), want: enc(tagFloat, 0, 0, 0, 0, 0, 0, 0, 0x80)},
		{name: "2^53 is a float", v: float64(maxInt), want: enc(tagFloat, 0, 0, 0, 0, 0, 0, 0x40, 0x43)},
		{name: "1.5", v: 1.5, want: enc(tagFloat, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f)},
		{name: "string", v: "ab", want: enc(tagString, "ab")},
		{name: "array", v: []Value{nil, true}, want: enc(tagArray, 2, tagNil, tagTrue)},
		{name: "table keys sorted", v: map[string]Value{"b": 1.0, "a": true, "B": false},
			want: enc(tagTable, 3, "B", tagFalse, "a", tagTrue, "b", tagInt, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := contentsOf(t, kv{"k", tt.v}).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if want := enc(codecVersion1, 1, "k", tt.want); !bytes.Equal(b, want) {
				t.Errorf("MarshalBinary() = %x, want %x", b, want)
			}
		})
	}
}

// TestContentsBinaryMixed: a mixed table is written in version 2, its keys
// sorted booleans, numbers, strings; contents without one stay version 1,
// which servers before mixed tables read.
func TestContentsBinaryMixed(t *testing.T) {
	b, err := contentsOf(t, kv{"k", Table{"n": 2.0, 1.0: "a", true: false}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := enc(codecVersion, 1, "k", tagMixed, 3, tagTrue, tagFalse, tagInt, 2, tagString, "a", tagString, "n", tagInt, 4)
	if !bytes.Equal(b, want) {
		t.Errorf("MarshalBinary() = %x, want %x", b, want)
	}
	if b, _ := contentsOf(t, kv{"k", []Value{map[string]Value{}}}).MarshalBinary(); b[0] != codecVersion1 {
		t.Errorf("contents without a mixed table: version %d, want %d", b[0], codecVersion1)
	}
}

func TestContentsBinaryOrder(t *testing.T) {
	c := contentsOf(t, kv{"b", 1.0}, kv{"a", 2.0}, kv{"C", 3.0}, kv{"B", 4.0})
	c.Remove("a")
	if err := c.Set("a", 5.0); err != nil {
		t.Fatal(err)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got := NewContents("Session")
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if keys, want := got.Keys(), []string{"b", "C", "a"}; !slices.Equal(keys, want) {
		t.Errorf("Keys() = %q, want %q", keys, want)
	}
	if err := got.Set("new", 1.0); err != nil {
		t.Fatal(err)
	}
	if err := got.Set("B", 6.0); err != nil {
		t.Fatal(err)
	}
	if keys, want := got.Keys(), []string{"b", "C", "a", "new"}; !slices.Equal(keys, want) {
		t.Errorf("Keys() after Set = %q, want %q", keys, want)
	}
}

func TestContentsBinaryDeterministic(t *testing.T) {
	big := map[string]Value{}
	for i := range 500 {
		big[fmt.Sprintf("key%03d", i)] = map[string]Value{"i": float64(i), fmt.Sprint(i % 7): []Value{"x", float64(i)}}
	}
	c := contentsOf(t, kv{"big", big}, kv{"x", "y"})
	first, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		// Contents built anew hold new maps, with their own order.
		b, err := contentsOf(t, kv{"big", big}, kv{"x", "y"}).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, first) {
			t.Fatal("the same contents encoded to different bytes")
		}
	}
}

func TestContentsBinaryObject(t *testing.T) {
	tests := []struct {
		name  string
		scope string
		kvs   []kv
		want  string
	}{
		{name: "top level", scope: "Session", kvs: []kv{{"a", 1.0}, {"dict", dict}},
			want: `Session["dict"]: Lasp.Dictionary object cannot be saved by this session store`},
		{name: "nested", scope: "Session", kvs: []kv{{"pets", map[string]Value{"name": "x", "stable": []Value{1.0, dict}}}},
			want: `Session["pets"]: Lasp.Dictionary object (at ["stable"][2]) cannot be saved by this session store`},
		{name: "proxy", scope: "Application", kvs: []kv{{"Ed", &testProxy{target: horse}}},
			want: `Application["Ed"]: Animals.Horse object cannot be saved by this session store`},
		{name: "no ProgID", scope: "Session", kvs: []kv{{"o", &testObject{threading: Agile}}},
			want: `Session["o"]: an object of Go type *scope.testObject cannot be saved by this session store`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewContents(tt.scope)
			for _, p := range tt.kvs {
				if err := c.Set(p.k, p.v); err != nil {
					t.Fatal(err)
				}
			}
			b, err := c.MarshalBinary()
			if err == nil || err.Error() != tt.want {
				t.Errorf("MarshalBinary() error = %v, want %s", err, tt.want)
			}
			if b != nil {
				t.Errorf("MarshalBinary() returned %x with an error", b)
			}
		})
	}
}

func TestContentsUnmarshalBinaryErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{name: "empty", b: nil, want: "byte 0: unexpected end of data"},
		{name: "version 0", b: enc(0, 0), want: "unknown version 0"},
		{name: "version 3", b: enc(3, 0), want: "unknown version 3"},
		{name: "a mixed table in version 1", b: enc(codecVersion1, 1, "k", tagMixed, 0), want: `key "k": byte 4: unknown tag 8`},
		{name: "mixed table key nil", b: enc(codecVersion, 1, "k", tagMixed, 1, tagNil, tagTrue),
			want: `key "k": byte 6: a mixed table's key is not a boolean, number or string`},
		{name: "mixed table key a table", b: enc(codecVersion, 1, "k", tagMixed, 1, tagTable, 0, tagTrue),
			want: `key "k": byte 6: a mixed table's key is not a boolean, number or string`},
		{name: "mixed table key NaN", b: enc(codecVersion, 1, "k", tagMixed, 1, tagFloat, 1, 0, 0, 0, 0, 0, 0xf8, 0x7f, tagTrue),
			want: `key "k": byte 6: a table with a NaN key`},
		{name: "mixed table key twice", b: enc(codecVersion, 1, "k", tagMixed, 2, tagInt, 2, tagTrue, tagFloat, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, tagFalse),
			want: `key "k": byte 9: table has key 1 twice`},
		{name: "lying mixed table length", b: enc(codecVersion, 1, "k", tagMixed, uint64(1<<60), tagTrue, tagTrue),
			want: `key "k": byte 5: length 1152921504606846976 is more than the data left`},
		{name: "no count", b: enc(codecVersion1), want: "byte 1: unexpected end of data"},
		{name: "trailing byte", b: enc(codecVersion1, 0, 0), want: "byte 2: 1 bytes after the end"},
		{name: "unknown tag", b: enc(codecVersion1, 1, "k", 8), want: `key "k": byte 4: unknown tag 8`},
		{name: "top-level nil", b: enc(codecVersion1, 1, "k", tagNil), want: `key "k": byte 4: nil value`},
		{name: "keys the same in another case", b: enc(codecVersion1, 2, "Cart", tagTrue, "CART", tagTrue),
			want: `keys "Cart" and "CART" are the same key`},
		{name: "keys the same by Unicode folding", b: enc(codecVersion1, 2, "key", tagTrue, "\u212Aey", tagTrue),
			want: "keys \"key\" and \"\u212Aey\" are the same key"},
		{name: "table key twice", b: enc(codecVersion1, 1, "t", tagTable, 2, "a", tagTrue, "a", tagFalse),
			want: `key "t": byte 9: table has key "a" twice`},
		{name: "integer 2^53", b: enc(codecVersion1, 1, "k", tagInt, binary.AppendVarint(nil, maxInt)),
			want: `key "k": byte 5: integer 9007199254740992 out of range`},
		{name: "integer -2^53", b: enc(codecVersion1, 1, "k", tagInt, binary.AppendVarint(nil, -maxInt)),
			want: "integer -9007199254740992 out of range"},
		{name: "varint overflow", b: enc(codecVersion1, 1, "k", tagInt, bytes.Repeat([]byte{0xff}, 11)),
			want: "byte 5: varint overflows 64 bits"},
		{name: "short float", b: enc(codecVersion1, 1, "k", tagFloat, 0, 0, 0, 0, 0, 0, 0), want: "byte 5: unexpected end of data"},
		{name: "lying key count", b: enc(codecVersion1, uint64(1<<60)), want: "byte 1: length 1152921504606846976 is more than the data left"},
		{name: "key count past the data", b: enc(codecVersion1, 2, "k", tagTrue), want: "byte 1: length 2 is more than the data left"},
		{name: "lying string length", b: enc(codecVersion1, 1, "k", tagString, uint64(1<<60), "x"),
			want: "byte 5: length 1152921504606846976 is more than the data left"},
		{name: "lying array length", b: enc(codecVersion1, 1, "k", tagArray, uint64(1<<60), tagNil),
			want: "byte 5: length 1152921504606846976 is more than the data left"},
		{name: "lying table length", b: enc(codecVersion1, 1, "k", tagTable, uint64(1<<60), "a", tagNil),
			want: "byte 5: length 1152921504606846976 is more than the data left"},
		{name: "too deep", b: enc(codecVersion1, 1, "k", deepArrays(MaxDepth+1)),
			want: fmt.Sprintf("byte %d: tables nested more than 100 deep", 4+2*MaxDepth)},
		{name: "too many elements", b: enc(codecVersion1, 1, "k", tagArray, uint64(MaxElements+1), make([]byte, MaxElements+1)),
			want: "byte 4: a value of more than 1000000 elements"},
		{name: "too many elements in all", b: enc(codecVersion1, 1, "k", tagArray, 2,
			tagArray, uint64(MaxElements/2), make([]byte, MaxElements/2),
			tagArray, uint64(MaxElements/2+1), make([]byte, MaxElements/2+1)),
			want: "a value of more than 1000000 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := richContents(t)
			want := richContents(t)
			err := c.UnmarshalBinary(tt.b)
			if err == nil || !strings.HasPrefix(err.Error(), "Session contents: cannot decode saved data: ") ||
				!strings.Contains(err.Error(), tt.want) {
				t.Errorf("UnmarshalBinary() error = %v, want one containing %s", err, tt.want)
			}
			if d := sameContents(c, want); d != "" {
				t.Errorf("a failed UnmarshalBinary changed the contents: %s", d)
			}
		})
	}
}

// TestContentsUnmarshalBinaryLimits checks that the limits refuse only what
// is beyond them, and that Copy agrees.
func TestContentsUnmarshalBinaryLimits(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "deepest nesting", b: enc(codecVersion1, 1, "k", deepArrays(MaxDepth))},
		{name: "most elements", b: enc(codecVersion1, 1, "k", tagArray, 2,
			tagArray, uint64(MaxElements/2-1), make([]byte, MaxElements/2-1),
			tagArray, uint64(MaxElements/2-1), make([]byte, MaxElements/2-1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewContents("Session")
			if err := c.UnmarshalBinary(tt.b); err != nil {
				t.Fatal(err)
			}
			v, _ := c.Get("k")
			if _, err := Copy(v); err != nil {
				t.Errorf("Copy of the decoded value: %v", err)
			}
		})
	}
}

func TestContentsUnmarshalBinaryTruncated(t *testing.T) {
	b, err := richContents(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		c := contentsOf(t, kv{"old", 1.0})
		if err := c.UnmarshalBinary(b[:i]); err == nil {
			t.Errorf("the first %d of %d bytes decoded", i, len(b))
		}
		if d := sameContents(c, contentsOf(t, kv{"old", 1.0})); d != "" {
			t.Errorf("the first %d bytes: a failed UnmarshalBinary changed the contents: %s", i, d)
		}
	}
}

// TestContentsUnmarshalBinaryLyingLength checks that a length prefix larger
// than the data allocates nothing on its account.
func TestContentsUnmarshalBinaryLyingLength(t *testing.T) {
	for _, b := range [][]byte{
		enc(codecVersion1, uint64(1<<60)),
		enc(codecVersion1, uint64(MaxElements)),
		enc(codecVersion1, 1, "k", tagArray, uint64(MaxElements), tagNil),
		enc(codecVersion1, 1, "k", tagTable, uint64(MaxElements/2), "", tagNil),
		enc(codecVersion1, 1, "k", tagString, uint64(1<<40), "x"),
	} {
		c := NewContents("Session")
		const runs = 50
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			if err := c.UnmarshalBinary(b); err == nil {
				t.Fatalf("%x decoded", b)
			}
		}
		runtime.ReadMemStats(&after)
		if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 4096 {
			t.Errorf("%x: %d bytes allocated per UnmarshalBinary", b, perRun)
		}
	}
}

func TestContentsClone(t *testing.T) {
	c := contentsOf(t, kv{"Cart", []Value{"pen"}}, kv{"user", "ann"}, kv{"d", dict})
	cl := c.Clone()
	if d := sameContents(cl, c); d != "" {
		t.Fatal(d)
	}
	if cl.Name() != "Session" {
		t.Errorf("Name() = %q", cl.Name())
	}

	// Changing the clone leaves the original alone...
	if err := cl.Set("CART", []Value{"ink"}); err != nil {
		t.Fatal(err)
	}
	cl.Remove("user")
	if err := cl.Set("new", 1.0); err != nil {
		t.Fatal(err)
	}
	if d := sameContents(c, contentsOf(t, kv{"Cart", []Value{"pen"}}, kv{"user", "ann"}, kv{"d", dict})); d != "" {
		t.Errorf("changing the clone changed the original: %s", d)
	}
	// ...and the other way round.
	if err := c.Set("user", "bob"); err != nil {
		t.Fatal(err)
	}
	c.RemoveAll()
	if d := sameContents(cl, contentsOf(t, kv{"Cart", []Value{"ink"}}, kv{"d", dict}, kv{"new", 1.0})); d != "" {
		t.Errorf("changing the original changed the clone: %s", d)
	}
	if keys, want := cl.Keys(), []string{"Cart", "d", "new"}; !slices.Equal(keys, want) {
		t.Errorf("clone Keys() = %q, want %q (first spelling and order kept)", keys, want)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, c := range []*Contents{
		NewContents("Session"),
		richContents(f),
		contentsOf(f, kv{"x", []Value{nil, math.NaN(), math.Copysign(0, -1), float64(maxInt), map[string]Value{"a": []Value{}}}}),
		contentsOf(f, kv{"m", Table{1.0: "a", 10.0: Table{true: []Value{nil}}, "n": 2.0}}),
	} {
		b, err := c.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(enc(codecVersion1, 1, "k", deepArrays(MaxDepth)))
	f.Add(enc(codecVersion1, 1, "k", tagFloat, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f))                                    // 1.0 as a float
	f.Add(enc(codecVersion1, 1, "t", tagTable, 2, "b", tagTrue, "a", tagFalse))                                  // keys out of order
	f.Add(enc(codecVersion, 1, "t", tagMixed, 3, tagString, "n", tagTrue, tagInt, 2, tagNil, tagTrue, tagFalse)) // keys out of order
	f.Fuzz(func(t *testing.T, b []byte) {
		c := NewContents("Session")
		if err := c.UnmarshalBinary(b); err != nil {
			return
		}
		b2, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded contents do not encode: %v", err)
		}
		c2 := NewContents("Session")
		if err := c2.UnmarshalBinary(b2); err != nil {
			t.Fatalf("re-encoded contents do not decode: %v", err)
		}
		if d := sameContents(c2, c); d != "" {
			t.Fatal(d)
		}
		// The second encoding is canonical: it encodes to itself.
		if b3, err := c2.MarshalBinary(); err != nil || !bytes.Equal(b3, b2) {
			t.Fatalf("encoding not stable: %x, then %x (%v)", b2, b3, err)
		}
		for _, k := range c.Keys() {
			v, _ := c.Get(k)
			if err := Check("Session", k, v); err != nil {
				t.Fatalf("decoded value is refused by Check: %v", err)
			}
		}
	})
}

// session returns a typical session: a few strings, numbers and a small
// cart.
func session(tb testing.TB) *Contents {
	return contentsOf(tb,
		kv{"UserID", 48213.0},
		kv{"UserName", "ann.smith"},
		kv{"Lang", "en-GB"},
		kv{"LoggedIn", true},
		kv{"LastSeen", 1767225600.0},
		kv{"Visits", 17.0},
		kv{"Theme", "dark"},
		kv{"CSRF", "9f86d081884c7d659a2feaa0c55ad015"},
		kv{"Discount", 0.15},
		kv{"Cart", []Value{
			map[string]Value{"sku": "PEN-001", "name": "Fountain pen", "qty": 1.0, "price": 24.99},
			map[string]Value{"sku": "INK-204", "name": "Blue ink", "qty": 3.0, "price": 4.5},
		}},
	)
}

func BenchmarkMarshal(b *testing.B) {
	c := session(b)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		enc, err := c.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		size = len(enc)
	}
	b.ReportMetric(float64(size), "encoded-bytes")
}

func BenchmarkUnmarshal(b *testing.B) {
	enc, err := session(b).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	c := NewContents("Session")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "encoded-bytes")
}
