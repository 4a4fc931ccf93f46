package scripting

import (
	"lasp/internal/scan"
	"strconv"
	"strings"

	"lasp/scripting/page"
)

// writerLocals binds the page's write functions to locals on line 1, so every
// write is a local (in an include, an upvalue) access rather than a global
// lookup. It adds no line. Included files are generated without it.
const writerLocals = "local __t,__e,__r,__w=__lasp_t,__lasp_e,__lasp_r,__lasp_w;"

// includeMarker is the name of the call that the generator puts where an
// include directive is; the compiler replaces each such statement by the
// included file's code (see splice).
const includeMarker = "__lasp_include"

// source is Lua being generated for one file. Every piece of code is placed
// on its original line, so Lua's own "chunk:line:" positions are the page's.
type source struct {
	b    strings.Builder
	line int
	col  int // bytes written on the current line
	// author holds where the author's own code is in the Lua, so that a
	// syntax error can tell the author's tokens from generated ones.
	author []span
}

// span is a stretch of the generated Lua, from line:col up to endLine:endCol
// (exclusive); columns are 1-based bytes, as gopher-lua counts them. code
// is the author's code there.
type span struct {
	line, col, endLine, endCol int
	code                       string
}

func (sp span) contains(line, col int) bool {
	after := line > sp.line || line == sp.line && col >= sp.col
	before := line < sp.endLine || line == sp.endLine && col < sp.endCol
	return after && before
}

func newSource(prefix string) *source {
	s := &source{line: 1}
	s.write(prefix)
	return s
}

// write appends code, keeping line and col.
func (s *source) write(code string) {
	s.b.WriteString(code)
	if n := strings.Count(code, "\n"); n > 0 {
		s.line += n
		s.col = len(code) - strings.LastIndexByte(code, '\n') - 1
	} else {
		s.col += len(code)
	}
}

// pad moves to line, writing newlines.
func (s *source) pad(line int) {
	for s.line < line {
		s.b.WriteByte('\n')
		s.line++
		s.col = 0
	}
}

// at places generated code starting at line, padding with newlines.
func (s *source) at(line int, code string) {
	s.pad(line)
	s.write(code)
}

// authored places the author's code starting at line and records where it is.
func (s *source) authored(line int, code string) {
	s.pad(line)
	start := span{line: s.line, col: s.col + 1, code: code}
	s.write(code)
	start.endLine, start.endCol = s.line, s.col+1
	s.author = append(s.author, start)
}

// authoredBefore returns the author's code that ends last before line:col,
// or "".
func (s *source) authoredBefore(line, col int) string {
	code := ""
	for _, sp := range s.author {
		if sp.endLine < line || sp.endLine == line && sp.endCol <= col {
			code = sp.code
		}
	}
	return code
}

// isAuthors reports whether the Lua at line:col is the author's code.
func (s *source) isAuthors(line, col int) bool {
	for _, sp := range s.author {
		if sp.contains(line, col) {
			return true
		}
	}
	return false
}

func (s *source) String() string { return s.b.String() }

// bodyGen collects what one file's nodes turn into.
type bodyGen struct {
	body    *source
	scripts *source
	hasCode bool         // scripts holds any code
	exprs   []*page.Expr // the expressions written, in order
	// bad is the first expression that is not one well-formed Lua
	// expression (see wellFormedExpr), or nil.
	bad *page.Expr
}

// call places a generated call at line. The ";" before it ends the
// author's statement, so that code before it can never take the call as
// part of an unfinished statement (<% x = %>text would assign what the
// write returns): that is a syntax error instead. The ";" after it keeps a
// following statement that starts with "(" from being read as call
// arguments.
func (g *bodyGen) call(line int, fn string, arg string) {
	g.body.at(line, " ;"+fn+"("+arg+");")
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
	g.body.at(nodes[0].Position().Line, " ;__w("+strconv.Itoa(k))
	for _, n := range nodes {
		if e, ok := n.(*page.Expr); ok {
			g.body.at(e.Pos.Line, ", ")
			g.expr(e)
		}
	}
	g.body.write(");")
}

func (g *bodyGen) genCode(n *page.Code) {
	g.body.at(n.Pos.Line, " ")
	g.body.authored(n.Pos.Line, luaCode(n.Code))
	g.body.write(" ")
}

func (g *bodyGen) genExpr(n *page.Expr) {
	fn := ";__e("
	if n.Raw {
		fn = ";__r("
	}
	g.body.at(n.Pos.Line, " "+fn)
	g.expr(n)
	g.body.write(");")
}

// expr places the code of an expression, checking its shape.
func (g *bodyGen) expr(n *page.Expr) {
	code := luaCode(n.Code)
	g.body.authored(n.Pos.Line, code)
	g.exprs = append(g.exprs, n)
	if g.bad == nil && !wellFormedExpr(code) {
		g.bad = n
	}
}

// genInclude places the marker of include k. The ";" before it ends the
// author's statement, so that code before the include can never take the
// marker as part of an expression (it is a syntax error instead).
func (g *bodyGen) genInclude(line, k int) {
	g.body.at(line, " ;"+includeMarker+"("+strconv.Itoa(k)+");")
}

func (g *bodyGen) genScript(n *page.Script) {
	g.scripts.at(n.Pos.Line, " ")
	g.scripts.authored(n.Pos.Line, luaCode(n.Code))
	g.scripts.write(" ")
	g.hasCode = true
}

// luaCode is the author's code as it goes into the generated Lua: its line
// breaks written "\n", so that its lines count as Lua counts them, and a
// line comment still open at its end removed.
func luaCode(code string) string { return stripTrailingComment(scan.LuaNewlines(code)) }

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

// wellFormedExpr is a quick check that code is one Lua expression as far as
// its brackets, strings and commas go: something other than comments, every
// bracket closed in order, every string and long comment closed, and no
// comma outside brackets. Placed in a generated call, such code can neither
// take the call's own brackets or commas as its own nor run into the code
// after it. Code that fails the check is parsed on its own (exprSyntax) to
// say what is wrong with it.
func wellFormedExpr(code string) bool {
	var buf [16]byte
	stack := buf[:0]
	any := false
	for i := 0; i < len(code); {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '-' && strings.HasPrefix(code[i:], "--"):
			if lvl := longBracket(code, i+2); lvl >= 0 {
				end := strings.Index(code[i+2+lvl+2:], "]"+strings.Repeat("=", lvl)+"]")
				if end < 0 {
					return false
				}
				i = skipLong(code, i+2, lvl)
				continue
			}
			nl := strings.IndexByte(code[i:], '\n')
			if nl < 0 {
				return any && len(stack) == 0
			}
			i += nl + 1
			continue
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(code) && code[j] != c && code[j] != '\n' {
				if code[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(code) || code[j] != c {
				return false
			}
			i = j + 1
		case c == '[' && longBracket(code, i) >= 0:
			lvl := longBracket(code, i)
			if !strings.Contains(code[i+lvl+2:], "]"+strings.Repeat("=", lvl)+"]") {
				return false
			}
			i = skipLong(code, i, lvl)
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
			i++
		case c == ')' || c == ']' || c == '}':
			open := byte('(')
			if c == ']' {
				open = '['
			} else if c == '}' {
				open = '{'
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return false
			}
			stack = stack[:len(stack)-1]
			i++
		case c == ',' && len(stack) == 0:
			return false
		case c == ';':
			return false
		default:
			i++
		}
		any = true
	}
	return any && len(stack) == 0
}
