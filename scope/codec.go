package scope

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// The binary encoding of a Contents, for session stores (a cookie, Redis):
//
//	contents = version count:uvarint { key:string value }
//	string   = length:uvarint bytes
//	value    = tag:byte payload
//
// A value's tag is one of the tag constants; the payload of an integer is a
// zigzag varint (binary.AppendVarint), of a float the 8 bytes of
// math.Float64bits, little endian, of an array a uvarint count and that
// many values, of a table a uvarint count and that many string keys, each
// followed by its value, and of a mixed table (Table) a uvarint count and
// that many keys, each a value (a boolean, number or string), followed by
// its value. Keys are in sorted order (CompareKeys for a mixed table), so
// that equal contents encode to equal bytes.
//
// The version is 1 when the contents hold no mixed table, as servers
// before Table wrote and read; 2 (codecVersion) when they do. Both decode.
//
// The decoder is strict about structure (no trailing bytes, no duplicate
// key, no length larger than what is left) but not about canonical form: a
// float tag holding an integer, or table keys out of order, decode fine and
// encode canonically again.
const (
	codecVersion1 = 1 // no tagMixed
	codecVersion  = 2
)

const (
	tagNil    = iota // an array hole; never a top-level value
	tagFalse         // false
	tagTrue          // true
	tagInt           // an integral float64 of magnitude below 2^53, not -0
	tagFloat         // any other float64
	tagString        // a string
	tagArray         // []Value
	tagTable         // map[string]Value
	tagMixed         // Table: version 2 only
)

// maxInt is the bound on integers encoded as tagInt: every integer of
// smaller magnitude is exactly a float64.
const maxInt = 1 << 53

var (
	_ encoding.BinaryMarshaler   = (*Contents)(nil)
	_ encoding.BinaryUnmarshaler = (*Contents)(nil)
)

// MarshalBinary encodes c's keys (as first spelled, in Keys() order) and
// values. Only plain data can be encoded: an Object, at the top or nested,
// is an error that names the key and the scope, e.g.
//
//	Session["dict"]: Lasp.Dictionary object cannot be saved by this session store
//	Session["pets"]: Lasp.Dictionary object (at ["stable"][1]) cannot be saved by this session store
//
// Equal contents with keys in the same order encode to the same bytes.
func (c *Contents) MarshalBinary() ([]byte, error) {
	c.mu.RLock()
	es := c.sorted()
	c.mu.RUnlock()
	// Stored values are never changed in place, so they may be read
	// without the lock.
	e := encoder{b: make([]byte, 0, 512)}
	e.b = append(e.b, codecVersion1) // 2 once a Table is written
	e.b = binary.AppendUvarint(e.b, uint64(len(es)))
	for _, en := range es {
		e.string(en.key)
		if p := e.value(en.v); p != nil {
			slices.Reverse(p.path)
			what := p.what
			if len(p.path) > 0 {
				what += " (at " + formatPath(p.path) + ")"
			}
			return nil, fmt.Errorf("%s[%s]: %s cannot be saved by this session store", c.name, strconv.Quote(en.key), what)
		}
	}
	if e.mixed {
		e.b[0] = codecVersion
	}
	return e.b, nil
}

// encoder appends values to b.
type encoder struct {
	b     []byte
	keys  []string // table keys being visited, a stack shared by all levels
	mixed bool     // a Table was written: the encoding is version 2
}

// unsaved is a value that cannot be encoded: what it is, and where, the
// path innermost first (it is built on the way out).
type unsaved struct {
	what string
	path []segment
}

func (e *encoder) string(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) value(v Value) *unsaved {
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, tagNil)
	case bool:
		if x {
			e.b = append(e.b, tagTrue)
		} else {
			e.b = append(e.b, tagFalse)
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < maxInt && (x != 0 || !math.Signbit(x)) {
			e.b = append(e.b, tagInt)
			e.b = binary.AppendVarint(e.b, int64(x))
		} else {
			e.b = append(e.b, tagFloat)
			e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x))
		}
	case string:
		e.b = append(e.b, tagString)
		e.string(x)
	case []Value:
		e.b = append(e.b, tagArray)
		e.b = binary.AppendUvarint(e.b, uint64(len(x)))
		for i, el := range x {
			if p := e.value(el); p != nil {
				p.path = append(p.path, segment{i + 1})
				return p
			}
		}
	case map[string]Value:
		e.b = append(e.b, tagTable)
		e.b = binary.AppendUvarint(e.b, uint64(len(x)))
		// The keys go on a stack shared with nested tables, which push
		// above start and pop back before returning.
		start := len(e.keys)
		e.keys = slices.Grow(e.keys, len(x))
		for k := range x {
			e.keys = append(e.keys, k)
		}
		slices.Sort(e.keys[start:])
		for i := start; i < start+len(x); i++ {
			k := e.keys[i]
			e.string(k)
			if p := e.value(x[k]); p != nil {
				p.path = append(p.path, segment{k})
				return p
			}
		}
		clear(e.keys[start:]) // let the strings go
		e.keys = e.keys[:start]
	case Table:
		e.mixed = true
		e.b = append(e.b, tagMixed)
		e.b = binary.AppendUvarint(e.b, uint64(len(x)))
		for _, k := range x.Keys() {
			if what := badKey(k); what != "" {
				return &unsaved{what: what}
			}
			e.value(k)
			if p := e.value(x[k]); p != nil {
				p.path = append(p.path, segment{k})
				return p
			}
		}
	case Object:
		what := describe(x)
		if x.ProgID() != "" {
			what += " object"
		}
		return &unsaved{what: what}
	default:
		// Contents holds nothing else; this is for safety only.
		return &unsaved{what: fmt.Sprintf("a Go value of type %T", v)}
	}
	return nil
}

// UnmarshalBinary replaces c's contents with the ones encoded in b by
// MarshalBinary; Keys then gives the keys in the encoded order. Malformed or
// truncated data, an unknown version, two keys that are the same key (in any
// case), a table with a key twice, and values beyond MaxDepth or
// MaxElements are errors, and leave c unchanged. c keeps its name. b is not
// retained: the decoded strings share one copy of it.
func (c *Contents) UnmarshalBinary(b []byte) error {
	d := decoder{b: b, s: string(b)}
	entries, err := d.contents()
	if err != nil {
		return fmt.Errorf("%s contents: cannot decode saved data: %w", c.name, err)
	}
	c.mu.Lock()
	c.entries = entries
	c.next = uint64(len(entries))
	c.mu.Unlock()
	return nil
}

// decoder reads values from b, starting at off. s holds the same bytes as
// b: decoded strings are slices of it, which makes one allocation for all
// of them.
type decoder struct {
	b       []byte
	s       string
	off     int
	version byte
	elems   int // array and table elements in the current top-level value
}

// truncated is the error for data that ends too soon.
func (d *decoder) truncated() error {
	return d.errorf("unexpected end of data")
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", d.off, fmt.Sprintf(format, args...))
}

func (d *decoder) contents() (map[string]*entry, error) {
	if len(d.b) == 0 {
		return nil, d.truncated()
	}
	switch d.version = d.b[0]; d.version {
	case codecVersion1, codecVersion:
	default:
		return nil, fmt.Errorf("unknown version %d", d.version)
	}
	d.off = 1
	n, err := d.count(2) // a key and a tag at least
	if err != nil {
		return nil, err
	}
	entries := make(map[string]*entry, n)
	for i := range n {
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		k := fold(key)
		if prev, ok := entries[k]; ok {
			return nil, fmt.Errorf("keys %q and %q are the same key", prev.key, key)
		}
		at := d.off
		d.elems = 0
		v, err := d.value(0)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		if v == nil {
			d.off = at
			return nil, fmt.Errorf("key %q: %w", key, d.errorf("nil value"))
		}
		entries[k] = &entry{key: key, v: v, seq: uint64(i + 1)}
	}
	if d.off != len(d.b) {
		return nil, d.errorf("%d bytes after the end", len(d.b)-d.off)
	}
	return entries, nil
}

// count reads a count of things that take at least size bytes each, and
// refuses one that the bytes left cannot hold, so that a corrupt count
// never makes a large allocation.
func (d *decoder) count(size int) (int, error) {
	at := d.off
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64((len(d.b)-d.off)/size) {
		d.off = at
		return 0, d.errorf("length %d is more than the data left", n)
	}
	return int(n), nil
}

func (d *decoder) uvarint() (uint64, error) {
	n, size := binary.Uvarint(d.b[d.off:])
	switch {
	case size == 0:
		return 0, d.truncated()
	case size < 0:
		return 0, d.errorf("varint overflows 64 bits")
	}
	d.off += size
	return n, nil
}

func (d *decoder) string() (string, error) {
	n, err := d.count(1)
	if err != nil {
		return "", err
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s, nil
}

// value reads a value at nesting depth depth (the number of arrays and
// tables around it).
func (d *decoder) value(depth int) (Value, error) {
	if d.off >= len(d.b) {
		return nil, d.truncated()
	}
	tag := d.b[d.off]
	d.off++
	switch tag {
	case tagNil:
		return nil, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagInt:
		i, size := binary.Varint(d.b[d.off:])
		switch {
		case size == 0:
			return nil, d.truncated()
		case size < 0:
			return nil, d.errorf("varint overflows 64 bits")
		case i <= -maxInt || i >= maxInt:
			return nil, d.errorf("integer %d out of range", i)
		}
		d.off += size
		return float64(i), nil
	case tagFloat:
		if len(d.b)-d.off < 8 {
			return nil, d.truncated()
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:]))
		d.off += 8
		return f, nil
	case tagString:
		return d.string()
	case tagArray:
		n, err := d.container(depth, 1) // a tag at least
		if err != nil {
			return nil, err
		}
		a := make([]Value, n)
		for i := range a {
			if a[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return a, nil
	case tagTable:
		n, err := d.container(depth, 2) // a key and a tag at least
		if err != nil {
			return nil, err
		}
		t := make(map[string]Value, n)
		for range n {
			at := d.off
			k, err := d.string()
			if err != nil {
				return nil, err
			}
			if _, ok := t[k]; ok {
				d.off = at
				return nil, d.errorf("table has key %q twice", k)
			}
			if t[k], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return t, nil
	case tagMixed:
		if d.version < codecVersion {
			break
		}
		n, err := d.container(depth, 2) // a key tag and a value tag at least
		if err != nil {
			return nil, err
		}
		t := make(Table, n)
		for range n {
			at := d.off
			if d.off < len(d.b) && (d.b[d.off] == tagNil || d.b[d.off] >= tagArray) {
				return nil, d.errorf("a mixed table's key is not a boolean, number or string")
			}
			k, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if what := badKey(k); what != "" {
				d.off = at
				return nil, d.errorf("%s", what)
			}
			if _, ok := t[k]; ok {
				d.off = at
				return nil, d.errorf("table has key %v twice", k)
			}
			if t[k], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	d.off--
	return nil, d.errorf("unknown tag %d", tag)
}

// container reads the count of an array or table at depth depth whose
// elements take at least size bytes each, and checks the limits.
// The tag has been read; errors point at it.
func (d *decoder) container(depth, size int) (int, error) {
	at := d.off - 1
	if depth >= MaxDepth {
		d.off = at
		return 0, d.errorf("tables nested more than %d deep", MaxDepth)
	}
	n, err := d.count(size)
	if err != nil {
		return 0, err
	}
	if d.elems += n; d.elems > MaxElements {
		d.off = at
		return 0, d.errorf("a value of more than %d elements", MaxElements)
	}
	return n, nil
}

// Clone returns a copy of c that changes independently of c: same name,
// keys, spellings and order. The stored values, which are never changed in
// place, are shared.
func (c *Contents) Clone() *Contents {
	c.mu.RLock()
	defer c.mu.RUnlock()
	entries := make(map[string]*entry, len(c.entries))
	for k, e := range c.entries {
		cp := *e
		entries[k] = &cp
	}
	return &Contents{name: c.name, entries: entries, next: c.next}
}
