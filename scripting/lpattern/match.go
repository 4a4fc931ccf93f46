package lpattern

import (
	"context"
	"strconv"
	"strings"
)

// checkEvery is how many matcher steps may pass between two looks at the
// context.
const checkEvery = 1024

// stopReason says why a matcher gave up.
type stopReason uint8

const (
	running      stopReason = iota
	stopCanceled            // the context is done
	stopSteps               // the step budget is spent
	stopCapture             // a back reference to a capture that has no text
)

// frame is a choice point: a quantified item that may be retried with a
// different length.
type frame struct {
	pi  int // index of the quantified item
	lo  int // opStar/opPlus: shortest end still to try
	cur int // the end being tried now
}

// matcher runs one compiled pattern against one subject. It backtracks with
// an explicit stack of choice points, so the Go stack does not grow with the
// pattern or the subject, and it counts every step.
type matcher struct {
	ctx      context.Context
	done     <-chan struct{}
	maxSteps int

	steps   int
	checkAt int
	stop    stopReason

	src   string
	p     *prog
	caps  []int // the slots of the match being tried: 2n, 2n+1 per capture
	stack []frame

	// out holds the slots of every match found, 2*(ncap+1) ints each.
	out []int
}

// reset prepares m for a new call.
func (m *matcher) reset(ctx context.Context, maxSteps int) {
	m.ctx = ctx
	m.done = nil
	if ctx != nil {
		m.done = ctx.Done()
	}
	m.maxSteps = maxSteps
	m.steps = 0
	m.stop = running
	m.checkAt = 0
	m.out = m.out[:0]
}

// err describes why the matcher stopped, for a Lua error.
func (m *matcher) err() string {
	switch m.stop {
	case stopCanceled:
		return m.ctx.Err().Error()
	case stopSteps:
		return "pattern too complex (over " + strconv.Itoa(m.maxSteps) + " steps)"
	case stopCapture:
		return "invalid capture index"
	}
	return ""
}

// check is called whenever steps reaches checkAt and at every start
// position; it reports whether matching may go on.
func (m *matcher) check() bool {
	if m.maxSteps > 0 && m.steps > m.maxSteps {
		m.stop = stopSteps
		return false
	}
	if m.done != nil {
		select {
		case <-m.done:
			m.stop = stopCanceled
			return false
		default:
		}
	}
	m.checkAt = m.steps + checkEvery
	if m.maxSteps > 0 && m.checkAt > m.maxSteps+1 {
		m.checkAt = m.maxSteps + 1
	}
	return true
}

// find looks for matches of p in src from byte offset init, as gopher-lua's
// pm.Find does: a match is tried at every position from init, the next try
// starts after the end of a match (or one byte on, after an empty one), and
// the search stops after limit matches (limit < 0: no limit; note that, as in
// gopher-lua, a limit of 0 stops only if the first try fails) or after the
// first try for an anchored pattern. The slots of each match are appended to
// m.out. It returns the number of matches, or -1 if the matcher stopped
// (see m.stop).
func (m *matcher) find(p *prog, src string, init, limit int) int {
	m.p, m.src = p, src
	stride := 2 * (p.ncap + 1)
	if cap(m.caps) < stride {
		m.caps = make([]int, stride)
	}
	m.caps = m.caps[:stride]
	count := 0
	for sp := init; sp <= len(src); {
		if p.hasLiteral && limit != 0 {
			// A pattern without special characters: jump to the next
			// occurrence, paying one step per byte skipped.
			i := strings.Index(src[sp:], p.literal)
			if i < 0 {
				m.steps += len(src) - sp
				if !m.check() {
					return -1
				}
				break
			}
			m.steps += i
			sp += i
		}
		m.steps++
		if !m.check() {
			return -1
		}
		e := m.matchAt(sp)
		if m.stop != running {
			return -1
		}
		start := sp
		sp++
		if e >= 0 {
			m.caps[0], m.caps[1] = start, e
			m.out = append(m.out, m.caps...)
			count++
			if sp < e {
				sp = e
			}
		}
		if count == limit || p.anchor {
			break
		}
	}
	return count
}

// matchAt tries the pattern at position s and returns the end of the match,
// or -1 when there is none or the matcher stopped.
func (m *matcher) matchAt(s int) int {
	items := m.p.items
	src := m.src
	caps := m.caps
	stack := m.stack[:0]
	pi := 0
	for {
		m.steps++
		if m.steps >= m.checkAt && !m.check() {
			m.stack = stack
			return -1
		}
		it := &items[pi]
		switch it.op {
		case opChar:
			if s < len(src) && src[s] == it.c {
				s++
				pi++
				continue
			}
		case opSet:
			if s < len(src) && it.set.has(src[s]) {
				s++
				pi++
				continue
			}
		case opStar, opPlus:
			i := s
			for i < len(src) && it.set.has(src[i]) {
				i++
			}
			m.steps += i - s
			lo := s
			if it.op == opPlus {
				lo++
			}
			if i >= lo {
				if i > lo {
					stack = append(stack, frame{pi: pi, lo: lo, cur: i})
				}
				s = i
				pi++
				continue
			}
		case opLazy:
			stack = append(stack, frame{pi: pi, cur: s})
			pi++
			continue
		case opOpt:
			if s < len(src) && it.set.has(src[s]) {
				stack = append(stack, frame{pi: pi, cur: s})
				s++
			}
			pi++
			continue
		case opOpen:
			caps[2*it.n] = s
			pi++
			continue
		case opClose:
			caps[2*it.n+1] = s
			pi++
			continue
		case opPos:
			caps[2*it.n] = s + 1
			caps[2*it.n+1] = s + 1
			pi++
			continue
		case opBackref:
			a, b, ok := m.backref(it)
			if !ok {
				m.stack = stack
				return -1
			}
			n := b - a
			m.steps += n
			if len(src)-s >= n && src[s:s+n] == src[a:b] {
				s += n
				pi++
				continue
			}
		case opBrace:
			if e := m.brace(it, s); e >= 0 {
				s = e
				pi++
				continue
			}
			if m.stop != running {
				m.stack = stack
				return -1
			}
		case opEnd:
			if !m.p.tail || s == len(src) {
				m.stack = stack
				return s
			}
		}

		// The item failed: resume the latest choice point.
		for {
			if len(stack) == 0 {
				m.stack = stack
				return -1
			}
			f := &stack[len(stack)-1]
			q := &items[f.pi]
			switch q.op {
			case opStar, opPlus:
				f.cur--
				s = f.cur
				if f.cur == f.lo {
					stack = stack[:len(stack)-1]
				}
			case opLazy:
				if f.cur < len(src) && q.set.has(src[f.cur]) {
					f.cur++
					s = f.cur
				} else {
					stack = stack[:len(stack)-1]
					m.steps++
					continue
				}
			case opOpt:
				s = f.cur
				stack = stack[:len(stack)-1]
			}
			pi = f.pi + 1
			break
		}
	}
}

// backref returns the bounds of the text that %n compares against, as
// gopher-lua computes them, or ok=false (with m.stop set) where gopher-lua
// fails: an index of a capture not started yet, or bounds that would not
// slice the subject.
func (m *matcher) backref(it *item) (a, b int, ok bool) {
	switch it.e {
	case backrefInvalid:
		m.stop = stopCapture
		return 0, 0, false
	case backrefOpen:
		// gopher-lua reads an end slot that is still zero.
		a, b = m.caps[2*it.n], 0
	default:
		a, b = m.caps[2*it.n], m.caps[2*it.n+1]
	}
	if a > b || b > len(m.src) {
		m.stop = stopCapture
		return 0, 0, false
	}
	return a, b, true
}

// brace matches %bxy at s and returns the end of the balanced text, or -1.
func (m *matcher) brace(it *item, s int) int {
	src := m.src
	if s >= len(src) || int(src[s]) != it.n {
		return -1
	}
	depth := 1
	for i := s + 1; i < len(src); i++ {
		m.steps++
		if m.steps >= m.checkAt && !m.check() {
			return -1
		}
		c := int(src[i])
		if c == it.e {
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		if c == it.n {
			depth++
		}
	}
	return -1
}
