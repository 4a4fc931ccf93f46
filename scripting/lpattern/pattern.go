package lpattern

import (
	"fmt"
	"strconv"
)

// eos is what the pattern scanner returns past the end of the pattern. It is
// also a legal operand of %b (as in gopher-lua, "%b(" is accepted and never
// matches).
const eos = -1

// Item operations. Every pattern compiles to a flat list of items ending in
// opEnd; the quantifiers apply to a single class, so the list has no loops and
// a matcher walks it left to right.
const (
	opChar    uint8 = iota // one byte
	opSet                  // one byte of a class or set
	opStar                 // class*  greedy, zero or more
	opPlus                 // class+  greedy, one or more
	opLazy                 // class-  lazy, zero or more
	opOpt                  // class?  zero or one, one preferred
	opOpen                 // start of capture n
	opClose                // end of capture n
	opPos                  // position capture n: ()
	opBackref              // %n
	opBrace                // %bxy
	opEnd                  // end of pattern
)

// bitset is a set of bytes.
type bitset [4]uint64

func (b *bitset) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }
func (b *bitset) add(c byte)      { b[c>>6] |= 1 << (c & 63) }

func (b *bitset) union(o *bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b *bitset) invert() {
	for i := range b {
		b[i] = ^b[i]
	}
}

// item is one element of a compiled pattern.
type item struct {
	op  uint8
	c   byte // opChar
	set bitset
	// n is the capture number for opOpen, opClose, opPos and opBackref, and
	// the opening byte (or eos) for opBrace.
	n int
	// e is the closing byte (or eos) for opBrace. For opBackref it is one
	// of the backref* states below.
	e int
}

// How a back reference %n sees capture n where it stands in the pattern.
// gopher-lua decides this from the capture slots written so far, which
// depends only on the pattern, so it is settled at compile time.
const (
	backrefClosed  = iota // capture n is complete: compare its text
	backrefOpen           // capture n is still open: its text is subject[start:0]
	backrefInvalid        // no such capture yet: "invalid capture index"
)

// prog is a compiled pattern. It is immutable and may be shared.
type prog struct {
	items  []item
	anchor bool // leading ^: try only the initial position
	tail   bool // trailing $: the match must end at the end of the subject
	ncap   int
	// pos[i] reports whether capture i (1-based; pos[0] unused) is a
	// position capture.
	pos []bool
	// literal holds the pattern when it has no special characters; such a
	// pattern is found with a plain substring search.
	literal    string
	hasLiteral bool
}

// syntaxError is a malformed pattern, worded like gopher-lua's pm.Error.
type syntaxError struct {
	pos int // byte offset in the pattern, or eos
	msg string
}

func (e *syntaxError) Error() string {
	if e.pos == eos {
		return e.msg + " at EOS"
	}
	return e.msg + " at " + strconv.Itoa(e.pos)
}

// scanner reads a pattern one byte at a time. Its notion of "current
// position", used in error messages, follows gopher-lua's scanner: the
// offset of the last byte read (0 before the first), or EOS once a read went
// past the end.
type scanner struct {
	p    string
	i    int  // bytes consumed
	past bool // a read went past the end
}

func (s *scanner) next() int {
	if s.i < len(s.p) {
		c := s.p[s.i]
		s.i++
		return int(c)
	}
	s.past = true
	return eos
}

func (s *scanner) peek() int {
	if s.i < len(s.p) {
		return int(s.p[s.i])
	}
	return eos
}

func (s *scanner) errorf(format string, args ...any) *syntaxError {
	pos := eos
	if !s.past {
		pos = max(s.i-1, 0)
	}
	return &syntaxError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// compiler turns a pattern into a prog.
type compiler struct {
	sc    scanner
	items []item
	ncap  int
	pos   []bool
	// maxSlot is the highest capture slot written so far in pattern order,
	// counting gopher-lua's layout: slot 0 is the match start, capture n
	// uses slots 2n and 2n+1.
	maxSlot int
	// closed[n] reports whether capture n has been closed.
	closed []bool
}

// compile parses pattern p with gopher-lua's grammar and quirks.
func compile(p string) (pr *prog, err error) {
	c := &compiler{sc: scanner{p: p}, pos: []bool{false}, closed: []bool{true}}
	pr = &prog{}
	if c.sc.peek() == '^' {
		c.sc.next()
		pr.anchor = true
	}
	if err := c.sequence(true, pr); err != nil {
		return nil, err
	}
	c.items = append(c.items, item{op: opEnd})
	pr.items = c.items
	pr.ncap = c.ncap
	pr.pos = c.pos
	if !pr.anchor && !pr.tail && isLiteral(p) {
		pr.literal, pr.hasLiteral = p, true
	}
	return pr, nil
}

// isLiteral reports whether p contains none of the characters that mean
// something in a pattern.
func isLiteral(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '^', '$', '*', '+', '?', '.', '(', ')', '[', ']', '%', '-':
			return false
		}
	}
	return true
}

// sequence parses items up to the end of the pattern or, inside a capture,
// up to its ')'.
func (c *compiler) sequence(toplevel bool, pr *prog) error {
	sc := &c.sc
	// single is the index in c.items of the last element of this sequence
	// if that element is a lone class (which a quantifier may follow), or -1.
	single := -1
	for {
		ch := sc.peek()
		switch ch {
		case eos:
			sc.next()
			return nil
		case '%':
			sc.next()
			switch d := sc.peek(); {
			case d == '0':
				return sc.errorf("invalid capture index")
			case d >= '1' && d <= '9':
				sc.next()
				c.backref(d - '0')
				single = -1
			case d == 'b':
				sc.next()
				b := sc.next()
				e := sc.next()
				c.items = append(c.items, item{op: opBrace, n: b, e: e})
				single = -1
			default:
				cl := sc.next()
				single = c.class(escapeSet(cl))
			}
		case '.':
			sc.next()
			var all bitset
			all.invert()
			single = c.class(all)
		case '[':
			sc.next()
			set, err := c.set()
			if err != nil {
				return err
			}
			single = c.class(set)
		case ')':
			if toplevel {
				return sc.errorf("invalid ')'")
			}
			return nil
		case '(':
			sc.next()
			c.ncap++
			n := c.ncap
			if sc.peek() == ')' {
				sc.next()
				c.pos = append(c.pos, true)
				c.closed = append(c.closed, true)
				c.items = append(c.items, item{op: opPos, n: n})
				c.maxSlot = max(c.maxSlot, 2*n+1)
			} else {
				c.pos = append(c.pos, false)
				c.closed = append(c.closed, false)
				c.items = append(c.items, item{op: opOpen, n: n})
				c.maxSlot = max(c.maxSlot, 2*n)
				if err := c.sequence(false, pr); err != nil {
					return err
				}
				if sc.peek() != ')' {
					return sc.errorf("unfinished capture")
				}
				sc.next()
				c.items = append(c.items, item{op: opClose, n: n})
				c.closed[n] = true
				c.maxSlot = max(c.maxSlot, 2*n+1)
			}
			single = -1
		case '*', '+', '-', '?':
			sc.next()
			if single >= 0 {
				it := &c.items[single]
				if it.op == opChar {
					it.set = bitset{}
					it.set.add(it.c)
				}
				it.op = quantifier(ch)
				single = -1
			} else {
				single = c.char(byte(ch))
			}
		case '$':
			if toplevel && sc.i == len(sc.p)-1 {
				pr.tail = true
				single = -1
			} else {
				single = c.char('$')
			}
			sc.next()
		default:
			sc.next()
			single = c.char(byte(ch))
		}
	}
}

func quantifier(ch int) uint8 {
	switch ch {
	case '*':
		return opStar
	case '+':
		return opPlus
	case '-':
		return opLazy
	}
	return opOpt
}

// char appends a literal byte and returns its index.
func (c *compiler) char(b byte) int {
	c.items = append(c.items, item{op: opChar, c: b})
	return len(c.items) - 1
}

// class appends a class and returns its index. A class of one byte becomes
// opChar.
func (c *compiler) class(set bitset) int {
	if b, ok := set.single(); ok {
		return c.char(b)
	}
	c.items = append(c.items, item{op: opSet, set: set})
	return len(c.items) - 1
}

// single returns the only member of b, if b has exactly one.
func (b *bitset) single() (byte, bool) {
	n, m := 0, byte(0)
	for i, w := range b {
		for w != 0 {
			low := w & -w
			n++
			m = byte(i*64 + trailingZeros(low))
			w &^= low
		}
	}
	return m, n == 1
}

func trailingZeros(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// backref appends %n, deciding statically how gopher-lua would see capture n
// at this point (see backrefClosed).
func (c *compiler) backref(n int) {
	state := backrefClosed
	switch {
	case 2*n >= c.maxSlot:
		state = backrefInvalid
	case !c.closed[n]:
		state = backrefOpen
	}
	c.items = append(c.items, item{op: opBackref, n: n, e: state})
}

// setMember is one element of a [set] while it is parsed: a byte, a %class,
// a range of bytes, or (for gopher-lua's ranges whose ends are not both
// bytes) nothing.
type setMember struct {
	kind   uint8 // memberChar, memberClass, memberRange, memberNone
	lo, hi int
}

const (
	memberChar = iota
	memberClass
	memberRange
	memberNone
)

// set parses the rest of a [set] after its '['.
func (c *compiler) set() (bitset, error) {
	sc := &c.sc
	negate := false
	if sc.peek() == '^' {
		sc.next()
		negate = true
	}
	var members []setMember
	isRange := false
loop:
	for {
		ch := sc.peek()
		switch {
		case ch == eos:
			return bitset{}, sc.errorf("unexpected EOS")
		case ch == ']' && len(members) > 0:
			sc.next()
			break loop
		case ch == '-' && len(members) > 0:
			sc.next()
			isRange = true
			continue
		}
		sc.next()
		if ch == '%' {
			members = append(members, setMember{kind: memberClass, lo: sc.next()})
		} else {
			members = append(members, setMember{kind: memberChar, lo: ch})
		}
		if isRange {
			a, b := members[len(members)-2], members[len(members)-1]
			r := setMember{kind: memberNone}
			if a.kind == memberChar && b.kind == memberChar {
				r = setMember{kind: memberRange, lo: a.lo, hi: b.lo}
			}
			members = append(members[:len(members)-2], r)
			isRange = false
		}
	}
	if isRange {
		members = append(members, setMember{kind: memberChar, lo: '-'})
	}
	var set bitset
	for _, m := range members {
		switch m.kind {
		case memberChar:
			set.add(byte(m.lo))
		case memberClass:
			cl := escapeSet(m.lo)
			set.union(&cl)
		case memberRange:
			for b := m.lo; b <= m.hi; b++ {
				set.add(byte(b))
			}
		}
	}
	if negate {
		set.invert()
	}
	return set, nil
}

// escapeSet returns the bytes matched by %c: a class letter, or c itself.
// %<end of pattern> (c == eos) matches nothing.
func escapeSet(c int) bitset {
	var set bitset
	if c == eos {
		return set
	}
	lower := c | 0x20
	var in func(b int) bool
	switch lower {
	case 'a':
		in = func(b int) bool { return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' }
	case 'c':
		in = func(b int) bool { return b <= 0x1f || b == 0x7f }
	case 'd':
		in = func(b int) bool { return '0' <= b && b <= '9' }
	case 'l':
		in = func(b int) bool { return 'a' <= b && b <= 'z' }
	case 'p':
		in = func(b int) bool {
			return 0x21 <= b && b <= 0x2f || 0x3a <= b && b <= 0x40 ||
				0x5b <= b && b <= 0x60 || 0x7b <= b && b <= 0x7e
		}
	case 's':
		in = func(b int) bool { return b == ' ' || '\t' <= b && b <= '\r' }
	case 'u':
		in = func(b int) bool { return 'A' <= b && b <= 'Z' }
	case 'w':
		in = func(b int) bool { return '0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' }
	case 'x':
		in = func(b int) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' }
	case 'z':
		in = func(b int) bool { return b == 0 }
	default:
		set.add(byte(c))
		return set
	}
	for b := 0; b < 256; b++ {
		if in(b) {
			set.add(byte(b))
		}
	}
	if c != lower { // upper case: the complement
		set.invert()
	}
	return set
}
