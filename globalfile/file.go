package globalfile

import (
	"fmt"
	"strings"

	"lasp/internal/scan"
)

// Pos is a 1-based line and column (column counts bytes).
type Pos struct{ Line, Col int }

// Scope is where a declared object lives.
type Scope int

const (
	Application Scope = iota + 1 // one instance for the whole application
	Session                      // one instance per session
	Page                         // one instance per request
)

// String returns "Application", "Session" or "Page" (and "Scope(n)" for a
// value that is none of them).
func (s Scope) String() string {
	switch s {
	case Application:
		return "Application"
	case Session:
		return "Session"
	case Page:
		return "Page"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// Object is an <object runat="server" scope="..." id="..." progid="...">
// declaration.
type Object struct {
	Pos    Pos    // the "<" of the opening tag
	ID     string // a Lua identifier, unique in the file
	ProgID string // without surrounding white space
	Scope  Scope
}

// Script is the Lua code of one <script runat="server"> block.
type Script struct {
	Pos  Pos    // the first byte of Code, just after the opening tag's ">"
	Code string // the exact source bytes between the tags
}

// File is a parsed global file.
type File struct {
	Name    string   // the name given to Parse
	Objects []Object // in file order
	Scripts []Script // in file order
}

// LuaChunk returns the code of every script joined into one Lua chunk in
// which each line of code stays on its line of the file: compiled under the
// file's name, its errors name the file's own lines. Scripts are joined
// with newlines (or a space, where one ends on the line the next begins);
// a file without scripts gives "".
func (f *File) LuaChunk() string {
	var b strings.Builder
	line := 1
	for i, s := range f.Scripts {
		switch {
		case s.Pos.Line > line:
			b.WriteString(strings.Repeat("\n", s.Pos.Line-line))
			line = s.Pos.Line
		case i > 0:
			b.WriteByte(' ')
		}
		code := scan.LuaNewlines(s.Code) // lines counted as Lua counts them
		b.WriteString(code)
		line += strings.Count(code, "\n")
	}
	return b.String()
}

// Error is a parse error: Name (the name given to Parse), Line and Col
// (1-based; Col counts bytes) and Msg, lowercase and without a trailing
// newline. Its Error method returns "name:line: message". The page parser
// shares the type: a *page.Error is a *globalfile.Error.
type Error = scan.Error
