package scope

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Contents is the key/value collection behind Application.Contents and
// Session.Contents. It is safe for use by many goroutines at once.
//
// Keys are case-insensitive, as in ASP: Session["Cart"] and Session["cart"]
// are one key. Two keys are the same when strings.EqualFold says so (Unicode
// simple case folding); bytes that are not UTF-8 must match exactly. The
// first spelling is kept: it is the one Keys and Snapshot report, until the
// key is removed.
//
// Values go in through the agility check (Check) and are stored as deep
// copies; Get returns a fresh deep copy of plain data, and Objects by
// reference. A Contents must be made with NewContents.
type Contents struct {
	name string

	mu      sync.RWMutex
	entries map[string]*entry // by folded key
	next    uint64            // insertion counter, for Keys' order
}

// entry is one key. Its value is never changed in place: Set replaces it,
// so a reader may copy it after letting go of the lock.
type entry struct {
	key string // as first spelled
	v   Value
	seq uint64
}

// NewContents returns an empty Contents for the scope called scopeName
// ("Application" or "Session"); the name appears in agility errors.
func NewContents(scopeName string) *Contents {
	return &Contents{name: scopeName, entries: map[string]*entry{}}
}

// Name returns the scope name given to NewContents.
func (c *Contents) Name() string { return c.name }

// Get returns the value stored under key (in any case) and whether there is
// one. Plain data comes back as a fresh deep copy that the caller may
// change freely; storing the change needs Set.
func (c *Contents) Get(key string) (Value, bool) {
	c.mu.RLock()
	e, ok := c.entries[fold(key)]
	var v Value
	if ok {
		v = e.v
	}
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return clone(v), true
}

// Set stores a deep copy of v under key, after the agility check: an
// *AgilityError leaves the contents unchanged. An existing key keeps its
// first spelling and its place in Keys. Setting nil removes the key, as
// assigning nil to a Lua table field does.
func (c *Contents) Set(key string, v Value) error {
	if v == nil {
		c.Remove(key)
		return nil
	}
	v, err := checkCopy(c.name, key, v)
	if err != nil {
		return err
	}
	k := fold(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		e.v = v
		return nil
	}
	c.put(k, key, v)
	return nil
}

// put adds a new key; c.mu must be held.
func (c *Contents) put(folded, key string, v Value) {
	if c.entries == nil {
		c.entries = map[string]*entry{}
	}
	c.next++
	c.entries[folded] = &entry{key: key, v: v, seq: c.next}
}

// Remove deletes key (in any case). Removing a missing key does nothing.
func (c *Contents) Remove(key string) {
	k := fold(key)
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// RemoveAll deletes every key.
func (c *Contents) RemoveAll() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// Keys returns the keys in the order they were first set, each as first
// spelled.
func (c *Contents) Keys() []string {
	c.mu.RLock()
	es := c.sorted()
	c.mu.RUnlock()
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.key
	}
	return keys
}

// sorted returns the entries in insertion order; c.mu must be held.
func (c *Contents) sorted() []entry {
	es := make([]entry, 0, len(c.entries))
	for _, e := range c.entries {
		es = append(es, *e)
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
	return es
}

// Len returns the number of keys.
func (c *Contents) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// Snapshot returns a deep copy of every key and value, keys as first
// spelled, for a store to save. The order of the keys is not kept.
func (c *Contents) Snapshot() map[string]Value {
	c.mu.RLock()
	es := c.sorted()
	c.mu.RUnlock()
	m := make(map[string]Value, len(es))
	for _, e := range es {
		m[e.key] = clone(e.v)
	}
	return m
}

// Replace replaces every key and value with a deep copy of m, for a store
// that loads saved contents. Every value goes through the agility check,
// and two keys of m that differ only in case are an error; on an error the
// contents are unchanged. Keys takes m's keys in sorted order, since a map
// has none.
func (c *Contents) Replace(m map[string]Value) error {
	keys := slices.Sorted(maps.Keys(m))
	entries := make(map[string]*entry, len(m))
	for i, key := range keys {
		k := fold(key)
		if prev, ok := entries[k]; ok {
			return fmt.Errorf("%s contents: keys %q and %q are the same key", c.name, prev.key, key)
		}
		v, err := checkCopy(c.name, key, m[key])
		if err != nil {
			return err
		}
		entries[k] = &entry{key: key, v: v, seq: uint64(i + 1)}
	}
	c.mu.Lock()
	c.entries = entries
	c.next = uint64(len(keys))
	c.mu.Unlock()
	return nil
}

// fold maps s to a form shared by every string that strings.EqualFold
// deems equal to it: each rune becomes the smallest rune of its case-folding
// orbit (so 'K', 'k' and the Kelvin sign all become 'K').
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// In ASCII, the smallest of each orbit is the upper-case letter,
		// except for 'k' and 's', whose orbits reach outside ASCII ('K'
		// Kelvin sign, 'ſ' long s) but whose smallest member is still the
		// upper-case ASCII letter.
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i]) // not UTF-8: kept as it is
		} else {
			b.WriteRune(foldRune(r))
		}
		i += size
	}
	return b.String()
}

// foldRune returns the smallest rune of r's case-folding orbit.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// Fold returns the form of key that every spelling of it shares: two keys
// are the same key of a Contents exactly when their Fold is equal. A store
// that keeps keys elsewhere (Redis) indexes them by it.
func Fold(key string) string { return fold(key) }
