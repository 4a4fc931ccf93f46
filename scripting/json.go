package scripting

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"lasp/scope"
)

// The page library json (docs/data.md): json.encode, json.decode,
// json.array and json.null. Encoding writes straight from the Lua values
// into a byte buffer and decoding is a small hand parser, so neither goes
// through reflection.
//
// Both directions hold to the bounds of plain data: tables nested at most
// scope.MaxDepth deep and scope.MaxElements elements in all; an encoded
// text is at most maxString bytes, like every string a library makes.

// jsonLib is the json library as one state uses it: the engine's null and
// array marker (libraries), and scratch of the state's own.
type jsonLib struct {
	null    *lua.LUserData // json.null
	arrayMT *lua.LTable    // the metatable marking a table as an array
	s       *state

	// Scratch reused by the calls in this state, which one goroutine owns.
	enc jsonEncoder
	dec jsonDecoder
}

// maxJSONScratch is the largest buffer kept between two calls; a larger
// one is dropped, so that one big text does not stay held by a pooled state.
const maxJSONScratch = 64 << 10

// newJSON makes the json library table every state shares, with its null
// and its array marker, which scripts can neither change nor look into.
func (x *libraries) newJSON(L *lua.LState, perState func(func(*state, *lua.LState) int) *lua.LFunction) *lua.LTable {
	x.jsonArrayMT = L.CreateTable(0, 2)
	x.jsonArrayMT.RawSetString("__metatable", lua.LFalse) // scripts can neither see nor replace it
	x.jsonArrayMT.RawSetString(jsonArrayKey, lua.LTrue)   // plain data all the same (convert.go)
	x.readOnly[x.jsonArrayMT] = true

	x.jsonNull = L.NewUserData()
	nullMT := L.CreateTable(0, 2)
	nullMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	nullMT.RawSetString("__metatable", lua.LFalse)
	x.jsonNull.Metatable = nullMT

	lib := L.CreateTable(0, 4)
	lib.RawSetString("encode", perState(func(s *state, L *lua.LState) int { return s.jsonLib().encode(L) }))
	lib.RawSetString("decode", perState(func(s *state, L *lua.LState) int { return s.jsonLib().decode(L) }))
	lib.RawSetString("array", perState(func(s *state, L *lua.LState) int { return s.jsonLib().array(L) }))
	lib.RawSetString("null", x.jsonNull)
	return lib
}

// jsonLib returns the state's json library, made on first use.
func (s *state) jsonLib() *jsonLib {
	if s.json == nil {
		s.json = &jsonLib{s: s, null: s.e.shared.jsonNull, arrayMT: s.e.shared.jsonArrayMT}
	}
	return s.json
}

// array is json.array(t?): t, or a new table, marked as an array, so that
// it encodes as [] while it is empty.
func (j *jsonLib) array(L *lua.LState) int {
	t := L.OptTable(1, nil)
	switch {
	case t == nil:
		t = L.CreateTable(0, 0)
		t.Metatable = j.arrayMT
	case t.Metatable == j.arrayMT:
	case t.Metatable != lua.LNil:
		L.RaiseError("json.array: the table already has a metatable")
	case j.s.isReadOnly(t):
		L.RaiseError("json.array: the table is read-only")
	default:
		t.Metatable = j.arrayMT
	}
	L.Push(t)
	return 1
}

// encode is json.encode(v).
func (j *jsonLib) encode(L *lua.LState) int {
	v := L.CheckAny(1)
	e := &j.enc
	e.reset(L, j)
	e.value(v)
	L.Push(lua.LString(e.buf))
	e.reset(nil, j)
	return 1
}

// jsonEncoder is one json.encode call.
type jsonEncoder struct {
	L     *lua.LState
	j     *jsonLib
	buf   []byte
	stack []*lua.LTable // the tables on the current path
	path  []jsonStep    // the key or index of each value below the top
	pairs []jsonPair    // the members of the objects on the path, in turn
	order []int32       // indices into pairs, sorted by name for each object
	elems int           // elements encoded so far
}

// jsonStep is a step of a path: a table key, or an array position (key nil).
type jsonStep struct {
	key lua.LValue
	i   int
}

// jsonPair is an object member: its key as written, the key itself (for
// an error's path) and its value.
type jsonPair struct {
	name     string
	key, val lua.LValue
}

// reset readies e for a call, dropping what a failed call left and
// scratch grown too large to keep.
func (e *jsonEncoder) reset(L *lua.LState, j *jsonLib) {
	e.L, e.j, e.elems = L, j, 0
	if cap(e.buf) > maxJSONScratch {
		e.buf = nil
	}
	if cap(e.pairs) > maxJSONScratch/32 {
		e.pairs, e.order = nil, nil
	}
	clear(e.stack[:cap(e.stack)])
	clear(e.path[:cap(e.path)])
	clear(e.pairs[:cap(e.pairs)])
	e.buf, e.stack, e.path, e.pairs, e.order = e.buf[:0], e.stack[:0], e.path[:0], e.pairs[:0], e.order[:0]
}

// fail raises "json.encode: cannot encode what (at path)".
func (e *jsonEncoder) fail(what string) {
	msg := "json.encode: cannot encode " + what
	if len(e.path) > 0 {
		msg += " (at " + jsonPath(e.path) + ")"
	}
	e.L.RaiseError("%s", msg)
}

// jsonPath writes a path as scope does: ["a"][2][true].
func jsonPath(path []jsonStep) string {
	var b strings.Builder
	for _, s := range path {
		b.WriteByte('[')
		switch k := s.key.(type) {
		case nil:
			b.WriteString(strconv.Itoa(s.i))
		case lua.LString:
			b.WriteString(strconv.Quote(string(k)))
		case lua.LNumber:
			b.WriteString(numberString(k))
		default:
			b.WriteString(k.String())
		}
		b.WriteByte(']')
	}
	return b.String()
}

// checkSize fails once the text is over maxString bytes.
func (e *jsonEncoder) checkSize() {
	if len(e.buf) > maxString {
		e.failSize()
	}
}

func (e *jsonEncoder) failSize() {
	e.L.RaiseError("json.encode: result would be over %d bytes", maxString)
}

func (e *jsonEncoder) value(v lua.LValue) {
	switch v := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case lua.LNumber:
		e.number(float64(v))
	case lua.LString:
		e.string(string(v))
	case *lua.LTable:
		e.table(v)
	case *lua.LUserData:
		if v != e.j.null {
			e.fail("a userdata")
		}
		e.buf = append(e.buf, "null"...)
	case *lua.LFunction:
		e.fail("a function")
	case *lua.LState:
		e.fail("a thread")
	default:
		e.fail("a " + v.Type().String())
	}
}

// number writes f: a whole number below 1e21 without a fraction or an
// exponent, any other the shortest text that reads back as f (as Go's
// encoding/json and JavaScript do).
func (e *jsonEncoder) number(f float64) {
	switch {
	case math.IsNaN(f):
		e.fail("NaN")
	case math.IsInf(f, 1):
		e.fail("inf")
	case math.IsInf(f, -1):
		e.fail("-inf")
	}
	abs := math.Abs(f)
	switch {
	case f == 0 && math.Signbit(f):
		e.buf = append(e.buf, "-0"...)
	case abs < 1<<63 && f == math.Trunc(f):
		e.buf = strconv.AppendInt(e.buf, int64(f), 10)
	case abs < 1e21 && abs >= 1e-6:
		e.buf = strconv.AppendFloat(e.buf, f, 'f', -1, 64)
	default:
		start := len(e.buf)
		e.buf = strconv.AppendFloat(e.buf, f, 'e', -1, 64)
		// 1e-07 → 1e-7, as encoding/json writes it.
		if n := len(e.buf); n-start >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
}

// jsonSafe[c] is whether ASCII byte c is written as it is in a string.
// Besides what JSON must escape, <, > and & are escaped, so that a text can
// go inside a <script> element.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return safe
}()

const hexDigits = "0123456789abcdef"

// string writes s quoted. Each byte that is not UTF-8 is written as
// U+FFFD, as Go's encoding/json does (and as validName makes keys);
// U+2028 and U+2029 are escaped, as JavaScript once required.
func (e *jsonEncoder) string(s string) {
	if len(e.buf)+len(s)+2 > maxString {
		e.failSize()
	}
	b := append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			if len(b) > maxString {
				e.buf = b
				e.checkSize()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			}
			i += size
			start = i
			if len(b) > maxString {
				e.buf = b
				e.checkSize()
			}
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.buf = append(b, '"')
	e.checkSize()
}

// table writes t: as an array when its keys are exactly 1..n (n > 0), or
// when it is empty and marked by json.array; otherwise as an object whose
// keys are written as strings, in sorted order.
func (e *jsonEncoder) table(t *lua.LTable) {
	marked := false
	switch t.Metatable {
	case lua.LNil:
	case e.j.arrayMT:
		marked = true
	default:
		e.fail("a table with a metatable")
	}
	if slices.Contains(e.stack, t) {
		e.fail("a table that contains itself")
	}
	if len(e.stack) >= scope.MaxDepth {
		e.fail(fmt.Sprintf("a table nested more than %d deep", scope.MaxDepth))
	}
	e.stack = append(e.stack, t)

	// The array part, 1..n, then the rest.
	n := t.MaxN()
	holes := false
	for i := 1; i <= n; i++ {
		if t.RawGetInt(i) == lua.LNil {
			holes = true
			break
		}
	}
	var k, v lua.LValue
	if n > 0 {
		k, v = t.Next(lua.LNumber(n))
	} else {
		k, v = t.Next(lua.LNil)
	}
	switch {
	case k == lua.LNil && !holes && (n > 0 || marked):
		e.array(t, n)
	case k == lua.LNil && !holes:
		e.count(0)
		e.buf = append(e.buf, '{', '}')
	default:
		e.mixed(t, n, k, v)
	}
	e.stack = e.stack[:len(e.stack)-1]
}

func (e *jsonEncoder) count(n int) {
	if e.elems += n; e.elems > scope.MaxElements {
		e.path = e.path[:0] // the whole value is at fault
		e.fail(fmt.Sprintf("a value of more than %d elements", scope.MaxElements))
	}
}

// array writes t[1..n].
func (e *jsonEncoder) array(t *lua.LTable, n int) {
	e.count(n)
	e.buf = append(e.buf, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.path = append(e.path, jsonStep{i: i})
		e.value(t.RawGetInt(i))
		e.path = e.path[:len(e.path)-1]
		e.checkSize()
	}
	e.buf = append(e.buf, ']')
}

// mixed writes a table that is not a plain 1..n array: its array part
// 1..n (with holes) and its other keys from k, v on. Keys that turn out to
// be exactly 1..count still make an array.
func (e *jsonEncoder) mixed(t *lua.LTable, n int, k, v lua.LValue) {
	start := len(e.pairs)
	for i := 1; i <= n; i++ {
		if v := t.RawGetInt(i); v != lua.LNil {
			e.pairs = append(e.pairs, jsonPair{name: strconv.Itoa(i), key: lua.LNumber(i), val: v})
		}
	}
	seq := true // every key is a whole number from 1
	maxIndex := n
	for ; k != lua.LNil; k, v = t.Next(k) {
		p := jsonPair{key: k, val: v}
		switch k := k.(type) {
		case lua.LString:
			p.name = validName(string(k))
			seq = false
		case lua.LNumber:
			p.name = numberString(k)
			if f := float64(k); seq && f == math.Trunc(f) && f >= 1 && f <= scope.MaxElements {
				maxIndex = max(maxIndex, int(f))
			} else {
				seq = false
			}
		case lua.LBool:
			p.name = strconv.FormatBool(bool(k))
			seq = false
		default:
			e.fail("a table with a " + k.Type().String() + " key")
		}
		e.pairs = append(e.pairs, p)
	}
	count := len(e.pairs) - start
	e.count(count)
	if seq && count > 0 && maxIndex == count {
		e.pairs = e.pairs[:start]
		e.elems -= count // array counts them again
		e.array(t, count)
		return
	}
	// Sort indices rather than the pairs themselves: they are smaller to
	// move, and e.pairs may grow (and move) while the members are written.
	for i := start; i < len(e.pairs); i++ {
		e.order = append(e.order, int32(i))
	}
	order := e.order[start:]
	byName := func(a, b int32) int { return strings.Compare(e.pairs[a].name, e.pairs[b].name) }
	if !slices.IsSortedFunc(order, byName) {
		slices.SortFunc(order, byName)
	}
	for i := 1; i < len(order); i++ {
		if name := e.pairs[order[i]].name; name == e.pairs[order[i-1]].name {
			e.fail(fmt.Sprintf("a table with two keys written as %q", name))
		}
	}
	e.buf = append(e.buf, '{')
	for i := start; i < len(e.pairs); i++ {
		if i > start {
			e.buf = append(e.buf, ',')
		}
		p := e.pairs[e.order[i]]
		e.string(p.name)
		e.buf = append(e.buf, ':')
		e.path = append(e.path, jsonStep{key: p.key})
		e.value(p.val)
		e.path = e.path[:len(e.path)-1]
		e.checkSize()
	}
	e.buf = append(e.buf, '}')
	clear(e.pairs[start:])
	e.pairs, e.order = e.pairs[:start], e.order[:start]
}

// validName is key with every byte that is not UTF-8 replaced by U+FFFD,
// as it will be written, so that two keys written alike are found.
func validName(key string) string {
	if utf8.ValidString(key) {
		return key
	}
	var b strings.Builder
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(key[i : i+size])
		}
		i += size
	}
	return b.String()
}

// decode is json.decode(s).
func (j *jsonLib) decode(L *lua.LState) int {
	d := &j.dec
	d.reset(L, j, L.CheckString(1))
	v := d.value()
	d.space()
	if d.i < len(d.s) {
		d.fail(d.i, "unexpected %s after the value", d.char(d.i))
	}
	L.Push(v)
	d.reset(nil, j, "")
	return 1
}

// reset readies d for a call, dropping what a failed call left and scratch
// grown too large to keep.
func (d *jsonDecoder) reset(L *lua.LState, j *jsonLib, s string) {
	if cap(d.sb) > maxJSONScratch {
		d.sb = nil
	}
	if cap(d.scratch) > maxJSONScratch/16 {
		d.scratch, d.keys = nil, nil
	}
	clear(d.scratch[:cap(d.scratch)])
	clear(d.keys[:cap(d.keys)])
	*d = jsonDecoder{L: L, j: j, s: s, scratch: d.scratch[:0], keys: d.keys[:0], sb: d.sb[:0], names: d.names}
}

// jsonDecoder is one json.decode call.
type jsonDecoder struct {
	L       *lua.LState
	j       *jsonLib
	s       string
	i       int          // the next byte to read
	depth   int          // arrays and objects entered
	elems   int          // elements decoded so far
	scratch []lua.LValue // the elements, or member values, of the containers being read
	keys    []string     // the member keys of the objects being read
	sb      []byte       // a string being unescaped
	// names holds the object keys read in this state, so that the keys
	// of a list of rows are one string each. It is bounded by
	// maxJSONNames names of at most maxJSONName bytes.
	names map[string]string
}

const (
	maxJSONNames = 1024
	maxJSONName  = 64
	// maxJSONShared is the largest text whose strings share its memory
	// instead of being copied: a string kept from a larger text would
	// keep all of it.
	maxJSONShared = 64 << 10
)

// fail raises "json.decode: <message> at byte N", N counting from 1 as
// string.sub does.
func (d *jsonDecoder) fail(at int, format string, args ...any) {
	d.L.RaiseError("json.decode: %s at byte %d", fmt.Sprintf(format, args...), at+1)
}

// char describes the byte at i for an error.
func (d *jsonDecoder) char(i int) string {
	if i >= len(d.s) {
		return "end of text"
	}
	c := d.s[i]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() lua.LValue {
	d.space()
	if d.i >= len(d.s) {
		d.fail(d.i, "unexpected end of text, expecting a value")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return lua.LString(d.string())
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		d.literal("true")
		return lua.LTrue
	case c == 'f':
		d.literal("false")
		return lua.LFalse
	case c == 'n':
		d.literal("null")
		return d.j.null
	}
	d.fail(d.i, "unexpected %s, expecting a value", d.char(d.i))
	return nil
}

func (d *jsonDecoder) literal(word string) {
	for k := 0; k < len(word); k++ {
		if d.i+k >= len(d.s) || d.s[d.i+k] != word[k] {
			d.fail(d.i+k, "unexpected %s in literal %s", d.char(d.i+k), word)
		}
	}
	d.i += len(word)
}

func (d *jsonDecoder) enter() {
	if d.depth++; d.depth > scope.MaxDepth {
		d.fail(d.i, "nested more than %d deep", scope.MaxDepth)
	}
	d.i++
}

func (d *jsonDecoder) count() {
	if d.elems++; d.elems > scope.MaxElements {
		d.fail(d.i, "more than %d elements", scope.MaxElements)
	}
}

// array reads [...] into a table marked as by json.array.
func (d *jsonDecoder) array() lua.LValue {
	d.enter()
	start := len(d.scratch)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
	} else {
		for {
			d.count()
			d.scratch = append(d.scratch, d.value())
			d.space()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == ']' {
				d.i++
				break
			}
			d.fail(d.i, "unexpected %s, expecting ',' or ']'", d.char(d.i))
		}
	}
	elems := d.scratch[start:]
	t := d.L.CreateTable(len(elems), 0)
	for _, v := range elems {
		t.Append(v)
	}
	t.Metatable = d.j.arrayMT
	clear(elems)
	d.scratch = d.scratch[:start]
	d.depth--
	return t
}

// object reads {...} into a table with string keys; of two equal keys the
// last wins.
func (d *jsonDecoder) object() lua.LValue {
	d.enter()
	start := len(d.scratch)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
	} else {
		for {
			d.count()
			d.space()
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				d.fail(d.i, "unexpected %s, expecting a string key", d.char(d.i))
			}
			key := d.name()
			d.space()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				d.fail(d.i, "unexpected %s, expecting ':'", d.char(d.i))
			}
			d.i++
			d.keys = append(d.keys, key)
			d.scratch = append(d.scratch, d.value())
			d.space()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == '}' {
				d.i++
				break
			}
			d.fail(d.i, "unexpected %s, expecting ',' or '}'", d.char(d.i))
		}
	}
	keys, values := d.keys[len(d.keys)-(len(d.scratch)-start):], d.scratch[start:]
	t := d.L.CreateTable(0, len(values))
	for k, v := range values {
		t.RawSetString(keys[k], v)
	}
	clear(keys)
	clear(values)
	d.keys = d.keys[:len(d.keys)-len(values)]
	d.scratch = d.scratch[:start]
	d.depth--
	return t
}

// name reads an object key, as one string for every equal key.
func (d *jsonDecoder) name() string {
	s := d.string()
	if len(s) > maxJSONName {
		return s
	}
	if n, ok := d.names[s]; ok {
		return n
	}
	if d.names == nil || len(d.names) >= maxJSONNames {
		d.names = make(map[string]string)
	}
	s = strings.Clone(s) // not a part of the text, kept by the cache
	d.names[s] = s
	return s
}

// string reads a quoted string at d.i. The string of a large text is a
// copy, so that a value kept does not hold the whole text. Invalid UTF-8
// and lone surrogates become U+FFFD, as Go's encoding/json does.
func (d *jsonDecoder) string() string {
	open := d.i
	d.i++
	start := d.i
	ascii := true
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if ascii || utf8.ValidString(s) {
				if len(d.s) > maxJSONShared {
					s = strings.Clone(s)
				}
				return s
			}
			d.i = start
			return d.unescape(open)
		case c == '\\':
			d.i = start
			return d.unescape(open)
		case c < 0x20:
			d.fail(d.i, "control character %s in string", d.char(d.i))
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	d.fail(open, "unterminated string")
	return ""
}

// unescape reads the rest of a string from d.i, decoding escapes.
func (d *jsonDecoder) unescape(open int) string {
	b := d.sb[:0]
	for {
		if d.i >= len(d.s) {
			d.fail(open, "unterminated string")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			d.sb = b
			return string(b)
		case c < 0x20:
			d.fail(d.i, "control character %s in string", d.char(d.i))
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d.s[d.i:d.i+size]...)
			}
			d.i += size
			continue
		case c != '\\':
			b = append(b, c)
			d.i++
			continue
		}
		// An escape.
		if d.i+1 >= len(d.s) {
			d.fail(open, "unterminated string")
		}
		switch e := d.s[d.i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := d.hex4(d.i + 2)
			d.i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
					r2 = d.hex4(d.i + 2)
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					d.i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			d.fail(d.i, "invalid escape %s in string", strconv.Quote(d.s[d.i:d.i+2]))
		}
		d.i += 2
	}
}

// hex4 reads the four hex digits of a \u escape at i.
func (d *jsonDecoder) hex4(i int) rune {
	var r rune
	for k := i; k < i+4; k++ {
		if k >= len(d.s) {
			d.fail(k, "unexpected end of text in \\u escape")
		}
		c := d.s[k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			d.fail(k, "invalid %s in \\u escape", d.char(k))
		}
		r = r<<4 | rune(c)
	}
	return r
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number() lua.LValue {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		if n == 0 {
			d.fail(d.i, "unexpected %s in number, expecting a digit", d.char(d.i))
		}
		return n
	}
	intStart := d.i
	n := digits()
	if n > 1 && d.s[intStart] == '0' {
		d.fail(intStart+1, "unexpected %s in number after a leading 0", d.char(intStart+1))
	}
	whole := true
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		digits()
		whole = false
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		digits()
		whole = false
	}
	text := d.s[start:d.i]
	if whole && n <= 15 { // exact in an int64 and a float64
		var v int64
		for k := intStart; k < d.i; k++ {
			v = v*10 + int64(d.s[k]-'0')
		}
		if start != intStart {
			if v == 0 {
				return lua.LNumber(math.Copysign(0, -1))
			}
			v = -v
		}
		return lua.LNumber(v)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		d.fail(start, "number %s out of range", text)
	}
	return lua.LNumber(f)
}
