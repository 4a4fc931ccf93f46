package scripting

import (
	"strconv"
	"strings"

	"lasp/scripting/page"
)

// writerLocals binds the page's write functions to locals on line 1, so every
// write is an upvalue access rather than a global lookup. It adds no line.
const writerLocals = "local __t,__e,__te,__r,__i=__lasp_t,__lasp_e,__lasp_te,__lasp_r,__lasp_i;"

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

// genText emits a write of text segment k. A text followed by an escaped
// expression becomes one call, placed on the expression's line.
func (g *bodyGen) genText(n *page.Text, k int, next page.Node) bool {
	if e, ok := next.(*page.Expr); ok && !e.Raw {
		g.call(e.Pos.Line, "__te", strconv.Itoa(k)+","+stripTrailingComment(e.Code))
		return true
	}
	g.call(n.Pos.Line, "__t", strconv.Itoa(k))
	return false
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
