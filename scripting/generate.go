package scripting

import (
	"strconv"
	"strings"

	"lasp/scripting/page"
)

// writerLocals binds the page's write functions to locals on line 1, so every
// write is an upvalue access rather than a global lookup. It adds no line.
const writerLocals = "local __t,__e,__r,__w,__i=__lasp_t,__lasp_e,__lasp_r,__lasp_w,__lasp_i;"

// source is Lua being generated for one file. Every piece of code is placed
// on its original line, so Lua's own "chunk:line:" positions are the page's.
type source struct {
	b    strings.Builder
	line int
}

func newSource(prefix string) *source {
	s := &source{line: 1}
	s.b.WriteString(prefix)
	return s
}

// at places code starting at line, padding with newlines.
func (s *source) at(line int, code string) {
	for s.line < line {
		s.b.WriteByte('\n')
		s.line++
	}
	s.b.WriteString(code)
	s.line += strings.Count(code, "\n")
}

func (s *source) String() string { return s.b.String() }

// bodyGen collects what one file's nodes turn into.
type bodyGen struct {
	body    *source
	scripts *source
	hasCode bool // scripts holds any code
}

// call places a generated call at line; the trailing ";" keeps a following
// statement that starts with "(" from being read as call arguments.
func (g *bodyGen) call(line int, fn string, arg string) {
	g.body.at(line, " "+fn+"("+arg+");")
}

// genText emits a write of text segment k.
func (g *bodyGen) genText(n *page.Text, k int) {
	g.call(n.Pos.Line, "__t", strconv.Itoa(k))
}

// genWrites emits one call that writes a run of texts and expressions:
// __w(k, e1, e2, ...) where write sequence k says which texts go between the
// expressions' values. Each expression stays on its own line. Only runs whose
// expressions call no function are fused, so that nothing an expression
// writes could come out of order.
func (g *bodyGen) genWrites(k int, nodes []page.Node) {
	g.body.at(nodes[0].Position().Line, " __w("+strconv.Itoa(k))
	for _, n := range nodes {
		if e, ok := n.(*page.Expr); ok {
			g.body.at(e.Pos.Line, ", "+stripTrailingComment(e.Code))
		}
	}
	g.body.b.WriteString(");")
}

func (g *bodyGen) genCode(n *page.Code) {
	g.body.at(n.Pos.Line, " "+stripTrailingComment(n.Code)+" ")
}

func (g *bodyGen) genExpr(n *page.Expr) {
	fn := "__e"
	if n.Raw {
		fn = "__r"
	}
	g.call(n.Pos.Line, fn, stripTrailingComment(n.Code))
}

func (g *bodyGen) genScript(n *page.Script) {
	g.scripts.at(n.Pos.Line, " "+stripTrailingComment(n.Code)+" ")
	g.hasCode = true
}

// stripTrailingComment removes a Lua line comment that runs to the end of
// code, so that generated code placed after it on the same line is not
// commented out. Comment text never changes what code does.
func stripTrailingComment(code string) string {
	if i := trailingComment(code); i >= 0 {
		return code[:i]
	}
	return code
}

// trailingComment returns where a "--" line comment that is still open at the
// end of code starts, or -1. It follows Lua's lexical rules for strings, long
// strings and long comments.
func trailingComment(code string) int {
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == '"' || c == '\'':
			i = skipQuoted(code, i)
		case c == '[' && longBracket(code, i) >= 0:
			i = skipLong(code, i, longBracket(code, i))
		case c == '-' && strings.HasPrefix(code[i:], "--"):
			if lvl := longBracket(code, i+2); lvl >= 0 {
				i = skipLong(code, i+2, lvl)
				continue
			}
			nl := strings.IndexByte(code[i:], '\n')
			if nl < 0 {
				return i
			}
			i += nl + 1
		default:
			i++
		}
	}
	return -1
}

// skipQuoted returns the index after the short string starting at i.
func skipQuoted(code string, i int) int {
	q := code[i]
	for i++; i < len(code); i++ {
		switch code[i] {
		case '\\':
			i++
		case q, '\n':
			return i + 1
		}
	}
	return len(code)
}

// longBracket returns the level of a long bracket "[==[" opening at i, or -1.
func longBracket(code string, i int) int {
	if i >= len(code) || code[i] != '[' {
		return -1
	}
	j := i + 1
	for j < len(code) && code[j] == '=' {
		j++
	}
	if j < len(code) && code[j] == '[' {
		return j - i - 1
	}
	return -1
}

// skipLong returns the index after the long string or comment opening at i.
func skipLong(code string, i, level int) int {
	closing := "]" + strings.Repeat("=", level) + "]"
	end := strings.Index(code[i+level+2:], closing)
	if end < 0 {
		return len(code)
	}
	return i + level + 2 + end + len(closing)
}

// simpleExpr reports whether a Lua expression calls no function: it has no
// call syntax (f(x), f"x", f{x}, o:m()), no table constructor and no
// function literal. Metamethods can still run; they are not expected to
// write output.
func simpleExpr(code string) bool {
	prev := byte(0) // the last significant character: a name/number char, ')', ']', '"' or an operator
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '-' && strings.HasPrefix(code[i:], "--"):
			return false
		case c == '"' || c == '\'' || (c == '[' && longBracket(code, i) >= 0):
			if calls(prev) {
				return false
			}
			if c == '[' {
				i = skipLong(code, i, longBracket(code, i))
			} else {
				i = skipQuoted(code, i)
			}
			prev = '"'
			continue
		case c == '(':
			if calls(prev) {
				return false
			}
		case c == '{' || c == ':':
			return false
		case isNameByte(c):
			j := i
			for j < len(code) && isNameByte(code[j]) {
				j++
			}
			if code[i:j] == "function" {
				return false
			}
			i, prev = j, 'a'
			continue
		}
		prev = c
		i++
	}
	return true
}

// calls reports whether "(" or a string after prev would be a call.
func calls(prev byte) bool { return prev == 'a' || prev == ')' || prev == ']' || prev == '"' }

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
