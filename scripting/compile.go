package scripting

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"lasp/internal/scan"
	"lasp/scripting/page"
)

// Page is a compiled page: its directives and the Lua protos that run it.
// A Page is immutable and shared by every request and Lua state.
type Page struct {
	Name       string
	Directives page.Directives
	// Objects are the page's <object runat="server"> declarations.
	Objects []*page.Object

	texts   []string
	writes  [][]writeOp          // fused write sequences, called by __w(k, ...)
	scripts []*lua.FunctionProto // script blocks, includes' first; run before body
	body    *lua.FunctionProto   // the page's body, its includes' bodies in it
	files   []stamp              // every file read, for -dev staleness checks
}

// stamp identifies one version of a file.
type stamp struct {
	name string
	mod  time.Time
	size int64
}

func statStamp(fsys fs.FS, name string) (stamp, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return stamp{}, err
	}
	return stamp{name, fi.ModTime(), fi.Size()}, nil
}

// fresh reports whether none of the files changed since they were stamped.
func fresh(fsys fs.FS, files []stamp) bool {
	for _, f := range files {
		if now, err := statStamp(fsys, f.name); err != nil || now != f {
			return false
		}
	}
	return true
}

// compiler compiles one page and the files it includes.
//
// Includes are textual: the body of an included file is generated and
// parsed on its own, so that its syntax tree has the file's own line
// numbers, and spliced into the syntax tree of the including file where
// the include directive is, as a function called there: (function() ...
// end)(). The page is then compiled once, and the protos of those functions
// are renamed after their files (nameProtos), so that gopher-lua's runtime
// errors and tracebacks name the included file and its lines. An included
// text sees every local in scope where it is included; its own top-level
// locals are declared in the including block (hoist).
type compiler struct {
	fsys    fs.FS
	p       *Page
	chain   []Site         // include chain: where each include directive is
	active  map[string]int // files being compiled, for cycle detection
	ownIDs  map[string]bool
	scripts map[string]bool              // files whose script blocks are already in p.scripts
	emit    func(file, kind, lua string) // when not nil, sees each generated chunk
	sites   []includeSite                // the includes spliced into the page
	parts   []part                       // each file's body, to find where a compile error is
}

// includeSite is one include spliced into the page: the included file and
// the line of the directive in the including file. The function that runs
// it is marked by LineDefined -(k+1) until nameProtos renames it.
type includeSite struct {
	file string
	line int
}

// part is the generated body of one file, as it was before splicing.
type part struct {
	name    string
	lua     string
	chain   []Site
	include bool
}

// compilePage parses and compiles the page name in fsys.
func compilePage(fsys fs.FS, name string) (*Page, error) {
	return compilePageEmit(fsys, name, nil)
}

// compilePageEmit is compilePage that gives emit, when not nil, each chunk
// of Lua it generates, in the order it generates them, with its kind
// ("body" or "script blocks"; the golden tests show them).
func compilePageEmit(fsys fs.FS, name string, emit func(file, kind, lua string)) (*Page, error) {
	c := &compiler{
		fsys:    fsys,
		p:       &Page{Name: name},
		active:  map[string]int{},
		ownIDs:  map[string]bool{},
		scripts: map[string]bool{},
		emit:    emit,
	}
	f, err := c.parse(name)
	if err != nil {
		return nil, err
	}
	c.p.Directives = f.Directives
	body, err := c.file(f)
	if err != nil {
		return nil, err
	}
	proto, err := lua.Compile(body.stmts, name)
	if err != nil {
		return nil, c.compileFailure(name, err)
	}
	if len(c.sites) > 0 {
		c.nameProtos(proto, name)
	}
	c.p.body = proto
	return c.p, nil
}

// parse reads and parses one file, stamping it.
func (c *compiler) parse(name string) (*page.File, error) {
	st, err := statStamp(c.fsys, name)
	if err != nil {
		return nil, err
	}
	src, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(c.p.files, func(s stamp) bool { return s.name == name }) {
		c.p.files = append(c.p.files, st)
	}
	f, err := page.Parse(name, string(src))
	if err != nil {
		var pe *page.Error
		if errors.As(err, &pe) {
			return nil, c.errorf(pe.Name, pe.Line, err, "%s", pe.Msg)
		}
		return nil, err
	}
	return f, nil
}

// body is the syntax tree of one file's body, its includes spliced in.
type body struct {
	stmts []ast.Stmt
	lines int // the number of lines of Lua
}

// file generates the Lua of one parsed file and parses it, recursing into
// its includes; it compiles the file's script blocks.
func (c *compiler) file(f *page.File) (body, error) {
	c.active[f.Name] = len(c.chain)
	defer delete(c.active, f.Name)
	prefix := writerLocals
	if len(c.chain) > 0 {
		prefix = "" // an include uses the page's
	}
	g := &bodyGen{body: newSource(prefix), scripts: newSource("")}
	var includes [][]ast.Stmt
	for i := 0; i < len(f.Nodes); i++ {
		if run := writeRun(f.Nodes[i:]); len(run) > 1 {
			c.p.writes = append(c.p.writes, c.writeOps(run))
			g.genWrites(len(c.p.writes)-1, run)
			i += len(run) - 1
			continue
		}
		switch n := f.Nodes[i].(type) {
		case *page.Text:
			c.p.texts = append(c.p.texts, n.Text)
			g.genText(n, len(c.p.texts)-1)
		case *page.Code:
			g.genCode(n)
		case *page.Expr:
			g.genExpr(n)
		case *page.Script:
			g.genScript(n)
		case *page.Object:
			if c.ownIDs[n.ID] {
				return body{}, c.errorf(f.Name, n.Pos.Line, nil, "duplicate object id %q", n.ID)
			}
			c.ownIDs[n.ID] = true
			c.p.Objects = append(c.p.Objects, n)
		case *page.Include:
			stmts, err := c.include(f.Name, n)
			if err != nil {
				return body{}, err
			}
			includes = append(includes, stmts)
			g.genInclude(n.Pos.Line, len(includes)-1)
		}
	}
	if g.hasCode && !c.scripts[f.Name] {
		proto, err := c.compile(f.Name, g.scripts.String())
		if err != nil {
			return body{}, err
		}
		c.scripts[f.Name] = true
		c.p.scripts = append(c.p.scripts, proto)
	}
	src := g.body.String()
	if c.emit != nil {
		c.emit(f.Name, "body", src)
	}
	stmts, err := c.parseBody(f, src, g)
	if err != nil {
		return body{}, err
	}
	c.parts = append(c.parts, part{name: f.Name, lua: src, chain: slices.Clone(c.chain), include: len(c.chain) > 0})
	if len(includes) > 0 {
		if stmts, err = splice(stmts, includes); err != nil {
			return body{}, c.errorf(f.Name, 0, err, "%v", err)
		}
	}
	return body{stmts: stmts, lines: g.body.line}, nil
}

// include reads an included file, and returns the statements that run it
// where it is included.
func (c *compiler) include(from string, n *page.Include) ([]ast.Stmt, error) {
	name, err := includePath(from, n)
	if err != nil {
		return nil, c.errorf(from, n.Pos.Line, nil, "%v", err)
	}
	if _, ok := c.active[name]; ok {
		return nil, c.errorf(from, n.Pos.Line, nil, "include cycle: %s includes %s again", from, name)
	}
	// An error at the include itself has the chain that led to it; one
	// inside the included file has this include in its chain too.
	outer := c.chain
	atInclude := func(cause error, format string, args ...any) error {
		return compileError(from, n.Pos.Line, outer, cause, fmt.Sprintf(format, args...))
	}
	c.chain = append(c.chain, Site{File: from, Line: n.Pos.Line})
	defer func() { c.chain = c.chain[:len(c.chain)-1] }()
	f, err := c.parse(name)
	var se *Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, atInclude(err, "include file not found: %s", name)
	case errors.As(err, &se):
		return nil, err
	case err != nil:
		// A symbolic link out of the root, say: still the include's error.
		return nil, atInclude(err, "include file %s cannot be read: %v", name, err)
	}
	if f.Directives != (page.Directives{}) {
		return nil, atInclude(nil, "%s has page directives (<%%@ %%>): they belong in the page, not in an included file", name)
	}
	b, err := c.file(f)
	if err != nil {
		return nil, err
	}
	return c.wrap(b, name, n.Pos.Line), nil
}

// wrap turns the body of an included file into the statements that run it
// at line of the including file:
//
//	local <saved outer values>, <its top-level locals> = <outer values>
//	(function() <its body> end)()
//
// The function's proto is marked for nameProtos.
func (c *compiler) wrap(b body, file string, line int) []ast.Stmt {
	decl := hoist(b.stmts, line)
	if c.emit != nil {
		shown := ""
		if d, ok := decl.(*ast.LocalAssignStmt); ok {
			shown = "local " + strings.Join(d.Names, ", ")
			if len(d.Exprs) > 0 {
				var outer []string
				for _, e := range d.Exprs {
					outer = append(outer, e.(*ast.IdentExpr).Value)
				}
				shown += " = " + strings.Join(outer, ", ")
			}
			shown += "; "
		}
		c.emit(file, "spliced", fmt.Sprintf("at line %d of the including file: %s(function() <%s> end)()", line, shown, file))
	}
	k := len(c.sites)
	c.sites = append(c.sites, includeSite{file: file, line: line})
	fn := &ast.FunctionExpr{ParList: &ast.ParList{Names: []string{}}, Stmts: b.stmts}
	fn.SetLine(-(k + 1))
	fn.SetLastLine(max(b.lines, 1))
	call := &ast.FuncCallExpr{Func: fn}
	call.SetLine(line)
	call.SetLastLine(line)
	st := &ast.FuncCallStmt{Expr: call}
	st.SetLine(line)
	st.SetLastLine(line)
	if decl == nil {
		return []ast.Stmt{st}
	}
	return []ast.Stmt{decl, st}
}

// nameProtos names every proto under p after the file its code is in, file
// for p's own, and makes the function of each include a main chunk
// (LineDefined 0), as an included file's code is (see errorSiteOf).
func (c *compiler) nameProtos(p *lua.FunctionProto, file string) {
	for _, child := range p.FunctionPrototypes {
		childFile := file
		if mark := child.LineDefined; mark < 0 {
			site := c.sites[-mark-1]
			// The closure and the call are on the include directive's line.
			for i, l := range p.DbgSourcePositions {
				if l == mark {
					p.DbgSourcePositions[i] = site.line
				}
			}
			child.LineDefined, child.LastLineDefined = 0, 0
			childFile = site.file
		}
		child.SourceName = childFile
		c.nameProtos(child, childFile)
	}
}

// compileFailure turns the failure to compile the page's syntax tree into
// an *Error naming the file at fault: the first file whose body does not
// compile on its own (as an include's body is: in a function). When each
// compiles on its own, the page as a whole has too many of something, such
// as locals of a function counting those of the files it includes.
func (c *compiler) compileFailure(name string, err error) error {
	var ce *lua.CompileError
	if !errors.As(err, &ce) {
		return compileError(name, 0, nil, err, err.Error())
	}
	for _, pt := range c.parts {
		stmts, perr := parse.Parse(strings.NewReader(pt.lua), pt.name)
		if perr != nil {
			continue
		}
		if pt.include {
			fn := &ast.FunctionExpr{ParList: &ast.ParList{Names: []string{}}, Stmts: stmts}
			stmts = []ast.Stmt{&ast.FuncCallStmt{Expr: &ast.FuncCallExpr{Func: fn}}}
		}
		var own *lua.CompileError
		if _, err := lua.Compile(stmts, pt.name); errors.As(err, &own) {
			return compileError(pt.name, own.Line, pt.chain, err, own.Message)
		}
	}
	return compileError(name, ce.Line, nil, err, ce.Message+" (the top-level locals of an included file count as locals where it is included)")
}

// includePath resolves an include directive to an app-relative name.
func includePath(from string, n *page.Include) (string, error) {
	p := n.Path
	if n.Virtual {
		p = strings.TrimPrefix(p, "/")
	} else {
		p = path.Join(path.Dir(from), p)
	}
	p = path.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") || !fs.ValidPath(p) {
		return "", fmt.Errorf("include path %q is outside the application root", n.Path)
	}
	return p, nil
}

// compile compiles generated Lua named after its source file.
func (c *compiler) compile(name, src string) (*lua.FunctionProto, error) {
	if c.emit != nil {
		c.emit(name, "script blocks", src)
	}
	return compileLua(name, src, c.chain)
}

// parseBody parses the generated body of a file, reporting a syntax error
// in terms of what the author wrote: an expression's error as that of the
// expression alone, and never a token the author did not write.
func (c *compiler) parseBody(f *page.File, src string, g *bodyGen) ([]ast.Stmt, error) {
	chunk, err := parse.Parse(strings.NewReader(src), f.Name)
	if err == nil {
		if g.bad != nil {
			return nil, c.exprError(f.Name, g.bad)
		}
		return chunk, nil
	}
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return nil, c.errorf(f.Name, 0, err, "%v", err)
	}
	line, eof := pe.Pos.Line, pe.Pos.Line == parse.EOF
	authors := !eof && g.body.isAuthors(pe.Pos.Line, pe.Pos.Column)
	// An expression that is not one expression, before the error, is
	// what the author got wrong: its own error says what, where Lua's is
	// about the call around it or the code after it.
	if g.bad != nil && (eof || g.bad.Pos.Line <= line) {
		return nil, c.exprError(f.Name, g.bad)
	}
	if !authors {
		for _, e := range g.exprs {
			if !eof && e.Pos.Line > line {
				break
			}
			if _, _, ok := exprSyntax(luaCode(e.Code)); !ok {
				return nil, c.exprError(f.Name, e)
			}
		}
	}
	msg := pe.Message
	switch {
	case pe.Message != "syntax error":
		// The lexer's own ("unterminated string"): its token is the rest
		// of the file.
	case authors:
		msg = fmt.Sprintf("syntax error near '%s'", pe.Token)
	case eof:
		msg = "syntax error: unexpected end of file (a block not closed with 'end'?)"
	case endsInReturn.MatchString(g.body.authoredBefore(pe.Pos.Line, pe.Pos.Column)):
		// Lua allows nothing after a return in its block, not even the
		// page's text: `return` before text would also return the write.
		msg = "syntax error: return must be the last statement of its block, and the page's text or output follows it here (write `if ... then return end`)"
	default:
		// A generated token: the author's code block stopped in the
		// middle of a statement.
		msg = "syntax error: the code block ends in the middle of a statement"
	}
	if eof {
		line = lastLine(f)
	}
	return nil, c.errorf(f.Name, line, err, "%s", msg)
}

// endsInReturn matches code whose last statement is a return.
var endsInReturn = regexp.MustCompile(`(^|[^\w.])return\b[^;]*$`)

// lastLine returns the last line of f that is not empty.
func lastLine(f *page.File) int {
	if len(f.Nodes) == 0 {
		return 1
	}
	n := f.Nodes[len(f.Nodes)-1]
	var text string
	switch n := n.(type) {
	case *page.Text:
		text = n.Text
	case *page.Code:
		text = n.Code
	case *page.Expr:
		text = n.Code
	case *page.Script:
		text = n.Code
	}
	return n.Position().Line + len(scan.LineStarts(strings.TrimRight(text, "\r\n"))) - 1
}

// exprError is the syntax error of the expression of n.
func (c *compiler) exprError(name string, n *page.Expr) error {
	line, msg, _ := exprSyntax(luaCode(n.Code))
	return c.errorf(name, n.Pos.Line+line-1, nil, "%s", msg)
}

// exprSyntax parses code as an expression on its own and says whether it
// is one expression, and if not, what is wrong with it, on which of its
// lines (1-based).
func exprSyntax(code string) (line int, msg string, ok bool) {
	chunk, err := parse.Parse(strings.NewReader("return "+code), "")
	var pe *parse.Error
	switch {
	case errors.As(err, &pe):
		line = pe.Pos.Line
		if line == parse.EOF {
			line = strings.Count(code, "\n") + 1
		}
		switch {
		case pe.Message != "syntax error":
			return line, pe.Message, false
		case pe.Pos.Line == parse.EOF:
			return line, "syntax error: unexpected end of expression", false
		}
		return line, fmt.Sprintf("syntax error near '%s'", pe.Token), false
	case err != nil:
		return 1, err.Error(), false
	}
	n := 0
	if len(chunk) == 1 {
		if r, ok := chunk[0].(*ast.ReturnStmt); ok {
			n = len(r.Exprs)
		}
	}
	switch n {
	case 0:
		return 1, "syntax error: an expression is expected", false
	case 1:
		return 1, "", true
	}
	return 1, fmt.Sprintf("syntax error: one expression is expected, not %d", n), false
}

// compileLua parses and compiles one chunk of the author's Lua (a module,
// script blocks), turning Lua's errors into *Error.
func compileLua(name, src string, chain []Site) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			line := pe.Pos.Line
			if line == parse.EOF {
				line = strings.Count(src, "\n") + 1
			}
			msg := pe.Message
			if pe.Token != "" && pe.Message == "syntax error" {
				msg = fmt.Sprintf("%s near '%s'", pe.Message, pe.Token)
			}
			return nil, compileError(name, line, chain, err, msg)
		}
		return nil, compileError(name, 0, chain, err, err.Error())
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, compileError(name, ce.Line, chain, err, ce.Message)
		}
		return nil, compileError(name, 0, chain, err, err.Error())
	}
	return proto, nil
}

func (c *compiler) errorf(file string, line int, cause error, format string, args ...any) error {
	return compileError(file, line, c.chain, cause, fmt.Sprintf(format, args...))
}

func compileError(file string, line int, chain []Site, cause error, msg string) *Error {
	return &Error{Kind: Compile, File: file, Line: line, Msg: msg, Includes: slices.Clone(chain), Err: cause}
}

// splice replaces the include markers of a file's body (see genInclude)
// with the statements of includes, wherever they are: in blocks, and in
// the bodies of functions.
func splice(stmts []ast.Stmt, includes [][]ast.Stmt) ([]ast.Stmt, error) {
	found := 0
	var block func([]ast.Stmt) []ast.Stmt
	block = func(list []ast.Stmt) []ast.Stmt {
		var out []ast.Stmt
		for i, s := range list {
			if k, ok := includeMark(s); ok && k < len(includes) {
				if out == nil {
					out = append(make([]ast.Stmt, 0, len(list)+2), list[:i]...)
				}
				out = append(out, includes[k]...)
				found++
				continue
			}
			eachBlock(s, block)
			if out != nil {
				out = append(out, s)
			}
		}
		if out == nil {
			return list
		}
		return out
	}
	stmts = block(stmts)
	if found != len(includes) {
		return nil, fmt.Errorf("%d of %d includes could not be placed", len(includes)-found, len(includes))
	}
	return stmts, nil
}

// includeMark returns k for the statement __lasp_include(k).
func includeMark(s ast.Stmt) (int, bool) {
	st, ok := s.(*ast.FuncCallStmt)
	if !ok {
		return 0, false
	}
	call, ok := st.Expr.(*ast.FuncCallExpr)
	if !ok || len(call.Args) != 1 {
		return 0, false
	}
	if id, ok := call.Func.(*ast.IdentExpr); !ok || id.Value != includeMarker {
		return 0, false
	}
	n, ok := call.Args[0].(*ast.NumberExpr)
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(n.Value)
	return k, err == nil
}

// eachBlock replaces each statement list inside s, at any depth of
// expressions (function bodies), by what f returns for it.
func eachBlock(s ast.Stmt, f func([]ast.Stmt) []ast.Stmt) {
	ex := func(e ast.Expr) { eachFunction(e, func(fn *ast.FunctionExpr) { fn.Stmts = f(fn.Stmts) }) }
	exs := func(es []ast.Expr) {
		for _, e := range es {
			ex(e)
		}
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		exs(s.Lhs)
		exs(s.Rhs)
	case *ast.LocalAssignStmt:
		exs(s.Exprs)
	case *ast.FuncCallStmt:
		ex(s.Expr)
	case *ast.DoBlockStmt:
		s.Stmts = f(s.Stmts)
	case *ast.WhileStmt:
		ex(s.Condition)
		s.Stmts = f(s.Stmts)
	case *ast.RepeatStmt:
		s.Stmts = f(s.Stmts)
		ex(s.Condition)
	case *ast.IfStmt:
		ex(s.Condition)
		s.Then = f(s.Then)
		s.Else = f(s.Else)
	case *ast.NumberForStmt:
		exs([]ast.Expr{s.Init, s.Limit, s.Step})
		s.Stmts = f(s.Stmts)
	case *ast.GenericForStmt:
		exs(s.Exprs)
		s.Stmts = f(s.Stmts)
	case *ast.FuncDefStmt:
		s.Func.Stmts = f(s.Func.Stmts)
	case *ast.ReturnStmt:
		exs(s.Exprs)
	}
}

// eachFunction calls f for each outermost function literal in e.
func eachFunction(e ast.Expr, f func(*ast.FunctionExpr)) {
	switch e := e.(type) {
	case *ast.FunctionExpr:
		f(e)
	case *ast.AttrGetExpr:
		eachFunction(e.Object, f)
		eachFunction(e.Key, f)
	case *ast.TableExpr:
		for _, fd := range e.Fields {
			eachFunction(fd.Key, f)
			eachFunction(fd.Value, f)
		}
	case *ast.FuncCallExpr:
		eachFunction(e.Func, f)
		eachFunction(e.Receiver, f)
		for _, a := range e.Args {
			eachFunction(a, f)
		}
	case *ast.LogicalOpExpr:
		eachFunction(e.Lhs, f)
		eachFunction(e.Rhs, f)
	case *ast.RelationalOpExpr:
		eachFunction(e.Lhs, f)
		eachFunction(e.Rhs, f)
	case *ast.StringConcatOpExpr:
		eachFunction(e.Lhs, f)
		eachFunction(e.Rhs, f)
	case *ast.ArithmeticOpExpr:
		eachFunction(e.Lhs, f)
		eachFunction(e.Rhs, f)
	case *ast.UnaryMinusOpExpr:
		eachFunction(e.Expr, f)
	case *ast.UnaryNotOpExpr:
		eachFunction(e.Expr, f)
	case *ast.UnaryLenOpExpr:
		eachFunction(e.Expr, f)
	}
}

// hoist makes the top-level locals of an included file's body locals of
// the block where it is included, so that the code after the include sees
// them, as it would had the file's text been there. Each top-level
// "local a, b = e" (or "local function f") becomes "a, b = e" in the body,
// and hoist returns the statement that declares them before the body's
// function is called, on line: "local a, b = a, b". Each starts as the
// name is where the include is (a local of the including file, or a
// global), which is what code of the body before its own declaration of a
// name means: "local title = title or 'Home'" still reads the page's
// title. A name declared more than once at the top level is one local.
// hoist returns nil when the body declares no top-level local.
func hoist(stmts []ast.Stmt, line int) ast.Stmt {
	decl := &ast.LocalAssignStmt{}
	for i, s := range stmts {
		la, ok := s.(*ast.LocalAssignStmt)
		if !ok {
			continue
		}
		lhs := make([]ast.Expr, len(la.Names))
		for j, n := range la.Names {
			if !slices.Contains(decl.Names, n) {
				decl.Names = append(decl.Names, n)
				decl.Exprs = append(decl.Exprs, ident(n, line))
			}
			lhs[j] = ident(n, la.Line())
		}
		rhs := la.Exprs
		if len(rhs) == 0 {
			nilExpr := &ast.NilExpr{}
			nilExpr.SetLine(la.Line())
			rhs = []ast.Expr{nilExpr}
		}
		as := &ast.AssignStmt{Lhs: lhs, Rhs: rhs}
		as.SetLine(la.Line())
		as.SetLastLine(la.LastLine())
		stmts[i] = as
	}
	if len(decl.Names) == 0 {
		return nil
	}
	decl.SetLine(line)
	decl.SetLastLine(line)
	return decl
}

func ident(name string, line int) *ast.IdentExpr {
	id := &ast.IdentExpr{Value: name}
	id.SetLine(line)
	id.SetLastLine(line)
	return id
}

// writeOp is one piece of a fused write sequence: a text segment, or the next
// argument escaped or raw.
type writeOp struct {
	text int // index into Page.texts, or -1 for an argument
	raw  bool
}

// maxFusedExprs bounds the arguments of one fused write call.
const maxFusedExprs = 32

// writeRun returns the run of texts and function-free expressions that
// starts nodes and can be written by one call.
func writeRun(nodes []page.Node) []page.Node {
	exprs := 0
	for i, n := range nodes {
		switch n := n.(type) {
		case *page.Text:
			continue
		case *page.Expr:
			if simpleExpr(n.Code) && exprs < maxFusedExprs {
				exprs++
				continue
			}
		}
		return nodes[:i]
	}
	return nodes
}

func (c *compiler) writeOps(run []page.Node) []writeOp {
	ops := make([]writeOp, len(run))
	for i, n := range run {
		switch n := n.(type) {
		case *page.Text:
			c.p.texts = append(c.p.texts, n.Text)
			ops[i] = writeOp{text: len(c.p.texts) - 1}
		case *page.Expr:
			ops[i] = writeOp{text: -1, raw: n.Raw}
		}
	}
	return ops
}
