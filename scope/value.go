package scope

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Value is what scopes hold: plain data — nil, bool, float64, string,
// []Value (an array: keys 1..n), map[string]Value (a table of string keys)
// or Table (any other table) — or an Object. Other Go types are not Values;
// Copy and Check refuse them.
type Value = any

// Table is a table whose keys are neither all strings nor exactly 1..n: a
// mixed table ({1, 2, n = 2}), a sparse one ({[1] = "a", [10] = "b"}), or
// one keyed by numbers or booleans. A key is a string, a float64 that is
// not NaN, or a bool (Lua's keys of plain data); Copy refuses any other.
type Table map[any]Value

// Keys returns t's keys in a fixed order: false, true, then numbers from
// the lowest, then strings (CompareKeys).
func (t Table) Keys() []any {
	return slices.SortedFunc(maps.Keys(t), CompareKeys)
}

// CompareKeys orders Table keys: booleans (false first), then numbers,
// then strings, each in their natural order; keys of other types come last,
// ordered by their printed form, so that any two keys compare.
func CompareKeys(a, b any) int {
	if c := cmp.Compare(keyRank(a), keyRank(b)); c != 0 {
		return c
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		if x == y {
			return 0
		} else if y {
			return -1
		}
		return 1
	case float64:
		return cmp.Compare(x, b.(float64))
	case string:
		return cmp.Compare(x, b.(string))
	}
	return cmp.Compare(fmt.Sprintf("%T %v", a, a), fmt.Sprintf("%T %v", b, b))
}

func keyRank(k any) int {
	switch k.(type) {
	case bool:
		return 0
	case float64:
		return 1
	case string:
		return 2
	}
	return 3
}

// badKey describes k when it cannot be a Table key, or returns "".
func badKey(k any) string {
	switch x := k.(type) {
	case string, bool:
		return ""
	case float64:
		if math.IsNaN(x) {
			return "a table with a NaN key"
		}
		return ""
	case nil:
		return "a table with a nil key"
	}
	return fmt.Sprintf("a table with a key of Go type %T", k)
}

// Limits on a single Value, checked by Copy, Check and Contents.Set.
const (
	// MaxDepth is how deeply tables may nest: a table at the top counts as
	// level 1.
	MaxDepth = 100

	// MaxElements is how many array and table elements one Value may hold
	// in all, counted over every nested table.
	MaxElements = 1_000_000
)

// Unstorable stands for a value that is not plain data, such as a Lua
// function, userdata or thread. The Lua ↔ Go converter produces it in place
// of what it cannot convert, so that Check can say what was refused:
// Unstorable{What: "a function"} at key "f" of Session is refused with
//
//	Session["f"]: a function cannot be stored in Session scope
//
// Copy refuses it too. Unstorable is never stored.
type Unstorable struct {
	// What describes the value as a noun phrase with its article, for
	// messages: "a function", "a userdata", "a thread".
	What string
}

// DataError reports a value that is not plain data: what was found, and
// where. Copy returns it.
type DataError struct {
	// Path is where the value was found inside the value given, as Lua
	// would index it: ["cart"][3]["name"] (array positions count from 1).
	// It is empty when the value given is itself at fault.
	Path string

	// What describes what was found, as a noun phrase: "a function",
	// "a Go value of type int", "a table that contains itself".
	What string
}

func (e *DataError) Error() string {
	return e.subject() + " is not plain data"
}

// subject is What, followed by the path when there is one.
func (e *DataError) subject() string {
	if e.Path == "" {
		return e.What
	}
	return e.What + " (at " + e.Path + ")"
}

// Copy returns a deep copy of v: arrays and tables are copied, Objects are
// kept by reference. Anything that is not a Value (see Value), a nil
// pointer posing as an Object, a table that contains itself, nesting deeper
// than MaxDepth and more than MaxElements elements are refused with a
// *DataError.
func Copy(v Value) (Value, error) {
	c, p := walk(v, true, false)
	if p != nil {
		return nil, p.dataError()
	}
	return c, nil
}

// Equal reports whether a and b are the same Value: the same kind of plain
// data with equal contents, or the same Object (by reference). Numbers
// compare with ==, except that NaN equals NaN, so that Equal(v, Copy(v)) holds
// for every Value. A nil array or table equals an empty one of the same kind;
// an array never equals a table. Anything that is not a Value equals nothing,
// and values nested deeper than MaxDepth (a cycle, say) are not equal.
func Equal(a, b Value) bool {
	return equal(a, b, 0)
}

func equal(a, b Value, depth int) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || x != x && y != y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []Value:
		y, ok := b.([]Value)
		if !ok || len(x) != len(y) || depth >= MaxDepth {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i], depth+1) {
				return false
			}
		}
		return true
	case map[string]Value:
		y, ok := b.(map[string]Value)
		return ok && equalMaps(x, y, depth)
	case Table:
		y, ok := b.(Table)
		return ok && equalMaps(x, y, depth)
	case Object:
		y, ok := b.(Object)
		return ok && sameObject(x, y)
	}
	return false
}

// equalMaps reports whether two tables of one kind hold equal values
// under equal keys.
func equalMaps[M ~map[K]Value, K comparable](x, y M, depth int) bool {
	if len(x) != len(y) || depth >= MaxDepth {
		return false
	}
	for k, xv := range x {
		yv, ok := y[k]
		if !ok || !equal(xv, yv, depth+1) {
			return false
		}
	}
	return true
}

// sameObject reports whether a and b are one object. Objects of a type that
// cannot be compared are never the same.
func sameObject(a, b Object) bool {
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// clone deep-copies a Value already known to be valid (it was stored after
// Copy or Check): no checks, no errors.
func clone(v Value) Value {
	switch x := v.(type) {
	case []Value:
		if x == nil {
			return x
		}
		c := make([]Value, len(x))
		for i, e := range x {
			c[i] = clone(e)
		}
		return c
	case map[string]Value:
		return cloneMap(x)
	case Table:
		return cloneMap(x)
	}
	return v
}

// cloneMap deep-copies a table of either kind.
func cloneMap[M ~map[K]Value, K comparable](x M) M {
	if x == nil {
		return x
	}
	c := make(M, len(x))
	for k, e := range x {
		c[k] = clone(e)
	}
	return c
}

// problemKind says why a walk stopped.
type problemKind int

const (
	notPlain     problemKind = iota + 1 // not plain data (DataError)
	notAgile                            // an Object that is not agile
	tooDeep                             // nesting deeper than MaxDepth
	tooLarge                            // more than MaxElements elements
	containsSelf                        // a cycle
)

// problem is what a walk found: a kind, a description and where.
type problem struct {
	kind problemKind
	what string // a noun phrase, or the ProgID for notAgile
	path string
}

func (p *problem) dataError() *DataError {
	return &DataError{Path: p.path, What: p.what}
}

// walker visits a Value depth first, copying it if asked, and stops at the
// first problem. It keeps the containers on the current path (to tell a
// cycle from deep nesting, only when a limit is crossed) and the path's
// keys (to say where, only when something is wrong).
type walker struct {
	copy   bool // build a copy
	agile  bool // refuse Objects that are not agile
	sorted bool // visit table keys in order, for a deterministic report
	elems  int
	stack  []any     // containers entered, outermost first
	path   []segment // the key or index of each value below the top
}

// segment is one step of a path: a table key (a string, float64 or bool),
// or an array position from 1 (an int).
type segment struct{ key any }

// walk visits v; on a problem it walks again with sorted keys, so that the
// problem reported does not depend on map iteration order.
func walk(v Value, deep, agile bool) (Value, *problem) {
	w := walker{copy: deep, agile: agile}
	c, p := w.value(v)
	if p == nil {
		return c, nil
	}
	w = walker{agile: agile, sorted: true}
	if _, q := w.value(v); q != nil {
		p = q
	}
	return nil, p
}

func (w *walker) value(v Value) (Value, *problem) {
	switch x := v.(type) {
	case nil, bool, float64, string:
		return v, nil
	case []Value:
		return w.array(x)
	case map[string]Value:
		return w.table(x)
	case Table:
		return w.mixed(x)
	case Object:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, w.fail(notPlain, fmt.Sprintf("a nil %T", v))
		}
		if w.agile && !isAgile(x) {
			return nil, w.fail(notAgile, describe(x))
		}
		return v, nil
	case Unstorable:
		what := x.What
		if what == "" {
			what = "a value that is not plain data"
		}
		return nil, w.fail(notPlain, what)
	}
	return nil, w.fail(notPlain, fmt.Sprintf("a Go value of type %T", v))
}

func (w *walker) array(a []Value) (Value, *problem) {
	if a == nil {
		return a, nil
	}
	if p := w.enter(a, len(a)); p != nil {
		return nil, p
	}
	var c []Value
	if w.copy {
		c = make([]Value, len(a))
	}
	for i, e := range a {
		w.path = append(w.path, segment{i + 1})
		ec, p := w.value(e)
		if p != nil {
			return nil, p
		}
		w.path = w.path[:len(w.path)-1]
		if w.copy {
			c[i] = ec
		}
	}
	w.stack = w.stack[:len(w.stack)-1]
	return c, nil
}

func (w *walker) table(t map[string]Value) (Value, *problem) {
	return walkMap(w, t, func() []string { return slices.Sorted(maps.Keys(t)) }, func(string) string { return "" })
}

func (w *walker) mixed(t Table) (Value, *problem) {
	return walkMap(w, t, t.Keys, badKey)
}

// walkMap visits the entries of a table, t (a map[string]Value or a
// Table), copying them if asked; keys lists them in a fixed order (for a
// sorted walk) and bad describes a key that cannot be a key of plain data.
func walkMap[M ~map[K]Value, K comparable](w *walker, t M, keys func() []K, bad func(K) string) (Value, *problem) {
	if t == nil {
		return t, nil
	}
	if p := w.enter(t, len(t)); p != nil {
		return nil, p
	}
	var c M
	if w.copy {
		c = make(M, len(t))
	}
	visit := func(k K, e Value) *problem {
		if what := bad(k); what != "" {
			return w.fail(notPlain, what)
		}
		w.path = append(w.path, segment{k})
		ec, p := w.value(e)
		if p != nil {
			return p
		}
		w.path = w.path[:len(w.path)-1]
		if w.copy {
			c[k] = ec
		}
		return nil
	}
	if w.sorted {
		for _, k := range keys() {
			if p := visit(k, t[k]); p != nil {
				return nil, p
			}
		}
	} else {
		for k, e := range t {
			if p := visit(k, e); p != nil {
				return nil, p
			}
		}
	}
	w.stack = w.stack[:len(w.stack)-1]
	return c, nil
}

// enter pushes container c of n elements, checking the limits. A crossed
// limit is reported as a cycle when the path goes through one container
// twice, since that is the real cause.
func (w *walker) enter(c any, n int) *problem {
	w.stack = append(w.stack, c)
	w.elems += n
	switch {
	case len(w.stack) > MaxDepth:
		if p := w.cycle(); p != nil {
			return p
		}
		return w.fail(tooDeep, fmt.Sprintf("a table nested more than %d deep", MaxDepth))
	case w.elems > MaxElements:
		if p := w.cycle(); p != nil {
			return p
		}
		// The whole value is at fault, not where the count ran over.
		return &problem{kind: tooLarge, what: fmt.Sprintf("a value of more than %d elements", MaxElements)}
	}
	return nil
}

// cycle looks for the first container on the path that is also one of its
// ancestors, and reports it where it appears the second time.
func (w *walker) cycle() *problem {
	ids := make([]identity, len(w.stack))
	for j, c := range w.stack {
		ids[j] = identify(c)
		if slices.Contains(ids[:j], ids[j]) {
			return &problem{kind: containsSelf, what: "a table that contains itself", path: formatPath(w.path[:j])}
		}
	}
	return nil
}

// identity tells containers apart: a table by its map, an array by its
// first element and length (which together fix what a walk visits).
type identity struct {
	ptr uintptr
	len int
}

func identify(c any) identity {
	v := reflect.ValueOf(c)
	if v.Kind() == reflect.Slice {
		return identity{ptr: v.Pointer(), len: v.Len()}
	}
	return identity{ptr: v.Pointer(), len: -1}
}

func (w *walker) fail(kind problemKind, what string) *problem {
	return &problem{kind: kind, what: what, path: formatPath(w.path)}
}

// formatPath writes a path as Lua would index it: ["cart"][3]["name"],
// [2.5], [true].
func formatPath(path []segment) string {
	var b strings.Builder
	for _, s := range path {
		b.WriteByte('[')
		switch k := s.key.(type) {
		case int:
			b.WriteString(strconv.Itoa(k))
		case string:
			b.WriteString(strconv.Quote(k))
		case float64:
			b.WriteString(strconv.FormatFloat(k, 'g', 14, 64))
		default:
			fmt.Fprint(&b, k)
		}
		b.WriteByte(']')
	}
	return b.String()
}
