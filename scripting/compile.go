package scripting

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"lasp/scripting/page"
)

// Page is a compiled page: its directives and the Lua protos that run it.
// A Page is immutable and shared by every request and Lua state.
type Page struct {
	Name       string
	Directives page.Directives
	// Objects are the page's <object runat="server"> declarations.
	Objects []*page.Object

	texts    []string
	writes   [][]writeOp          // fused write sequences, called by __w(k, ...)
	scripts  []*lua.FunctionProto // script blocks, includes' first; run before body
	body     *lua.FunctionProto
	includes []*lua.FunctionProto // bodies of included files, called by __i(k)
	files    []stamp              // every file read, for -dev staleness checks
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
type compiler struct {
	fsys    fs.FS
	p       *Page
	chain   []string       // include chain, "file:line" of each include directive
	active  map[string]int // files being compiled, for cycle detection
	bodies  map[string]int // included file → index in p.includes
	ownIDs  map[string]bool
	scripts map[string]bool        // files whose script blocks are already in p.scripts
	emit    func(file, lua string) // when not nil, sees each generated chunk
}

// compilePage parses and compiles the page name in fsys.
func compilePage(fsys fs.FS, name string) (*Page, error) {
	return compilePageEmit(fsys, name, nil)
}

// compilePageEmit is compilePage that gives emit, when not nil, each chunk
// of Lua it generates, in the order it compiles them (the golden tests
// show them).
func compilePageEmit(fsys fs.FS, name string, emit func(file, lua string)) (*Page, error) {
	c := &compiler{
		fsys:    fsys,
		p:       &Page{Name: name},
		active:  map[string]int{},
		bodies:  map[string]int{},
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
	c.p.body = body
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
	c.p.files = append(c.p.files, st)
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

// file generates and compiles the Lua of one parsed file, recursing into its
// includes, and returns the proto of its body.
func (c *compiler) file(f *page.File) (*lua.FunctionProto, error) {
	c.active[f.Name] = len(c.chain)
	defer delete(c.active, f.Name)
	g := &bodyGen{body: newSource(writerLocals), scripts: newSource("")}
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
				return nil, c.errorf(f.Name, n.Pos.Line, nil, "duplicate object id %q", n.ID)
			}
			c.ownIDs[n.ID] = true
			c.p.Objects = append(c.p.Objects, n)
		case *page.Include:
			k, err := c.include(f.Name, n)
			if err != nil {
				return nil, err
			}
			g.call(n.Pos.Line, "__i", fmt.Sprint(k))
		}
	}
	if g.hasCode && !c.scripts[f.Name] {
		proto, err := c.compile(f.Name, g.scripts.String())
		if err != nil {
			return nil, err
		}
		c.scripts[f.Name] = true
		c.p.scripts = append(c.p.scripts, proto)
	}
	return c.compile(f.Name, g.body.String())
}

// include compiles an included file once per page and returns its index.
func (c *compiler) include(from string, n *page.Include) (int, error) {
	name, err := includePath(from, n)
	if err != nil {
		return 0, c.errorf(from, n.Pos.Line, nil, "%v", err)
	}
	if k, ok := c.bodies[name]; ok {
		return k, nil
	}
	if _, ok := c.active[name]; ok {
		return 0, c.errorf(from, n.Pos.Line, nil, "include cycle: %s includes %s again", from, name)
	}
	// An error at the include itself has the chain that led to it; one
	// inside the included file has this include in its chain too.
	outer := c.chain
	atInclude := func(cause error, format string, args ...any) error {
		return compileError(from, n.Pos.Line, outer, cause, fmt.Sprintf(format, args...))
	}
	c.chain = append(c.chain, fmt.Sprintf("%s:%d", from, n.Pos.Line))
	defer func() { c.chain = c.chain[:len(c.chain)-1] }()
	f, err := c.parse(name)
	var se *Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, atInclude(err, "include file not found: %s", name)
	case errors.As(err, &se):
		return 0, err
	case err != nil:
		// A symbolic link out of the root, say: still the include's error.
		return 0, atInclude(err, "include file %s cannot be read: %v", name, err)
	}
	if f.Directives != (page.Directives{}) {
		return 0, atInclude(nil, "%s has page directives (<%%@ %%>): they belong in the page, not in an included file", name)
	}
	proto, err := c.file(f)
	if err != nil {
		return 0, err
	}
	c.p.includes = append(c.p.includes, proto)
	k := len(c.p.includes) - 1
	c.bodies[name] = k
	return k, nil
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
		c.emit(name, src)
	}
	return compileLua(name, src, c.chain)
}

// compileLua parses and compiles one chunk, turning Lua's errors into *Error.
func compileLua(name, src string, chain []string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			line := pe.Pos.Line
			if line == parse.EOF {
				line = strings.Count(src, "\n") + 1
			}
			msg := pe.Message
			// A token of generated code would mean nothing to the page's author.
			if pe.Token != "" && line > 0 && !strings.Contains(pe.Token, "__") && pe.Token != ";" {
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

func compileError(file string, line int, chain []string, cause error, msg string) *Error {
	return &Error{Kind: Compile, File: file, Line: line, Msg: msg, Includes: append([]string(nil), chain...), Err: cause}
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
