package page

import "lasp/internal/scan"

// Pos is a 1-based line and column (column counts bytes).
type Pos struct{ Line, Col int }

// Node is one of *Text, *Code, *Expr, *Script, *Object or *Include.
// Directives are not nodes: they are collected in File.Directives.
type Node interface{ Position() Pos }

// Text is literal HTML, copied to the output as it is.
type Text struct {
	Pos  Pos    // the first byte of Text
	Text string // the exact source bytes
}

// Code is a <% code %> block.
type Code struct {
	Pos  Pos    // the first byte of Code, just after "<%"
	Code string // the exact source bytes between "<%" and "%>"
}

// Expr is a <%= code %> block (Raw false: HTML-escaped) or a <%- code %>
// block (Raw true: written as it is).
type Expr struct {
	Pos  Pos    // the first byte of Code, just after "<%=" or "<%-"
	Code string // the exact source bytes between "<%=" (or "<%-") and "%>"
	Raw  bool
}

// Script is a <script runat="server"> code </script> block.
type Script struct {
	Pos  Pos    // the first byte of Code, just after the opening tag's ">"
	Code string // the exact source bytes between the tags
}

// Object is an <object runat="server" id="x" progid="P.Q"></object> tag: a
// page-scope object created on first reference to ID.
type Object struct {
	Pos    Pos // the "<" of the opening tag
	ID     string
	ProgID string
}

// Include is an <!--#include file="..."--> or <!--#include virtual="..."-->
// directive. The caller resolves it: Path is relative to the including file,
// or, when Virtual is true, to the application root.
type Include struct {
	Pos     Pos // the "<" of "<!--"
	Path    string
	Virtual bool
}

// Position returns where the text starts.
func (n *Text) Position() Pos { return n.Pos }

// Position returns where the code starts.
func (n *Code) Position() Pos { return n.Pos }

// Position returns where the expression's code starts.
func (n *Expr) Position() Pos { return n.Pos }

// Position returns where the script's code starts.
func (n *Script) Position() Pos { return n.Pos }

// Position returns where the object tag starts.
func (n *Object) Position() Pos { return n.Pos }

// Position returns where the include directive starts.
func (n *Include) Position() Pos { return n.Pos }

// Directives holds the page directives (<%@ ... %>), validated and
// normalized. Language is validated (it must be Lua) but not stored.
type Directives struct {
	EnableSessionState string // "" (not given), "True", "ReadOnly" or "False"
	ContentType        string // "" if not given; surrounding white space removed
	Charset            string // "" if not given; surrounding white space removed
	// Transaction is "" (not given: Not_Supported), "Not_Supported",
	// "Supported", "Required" or "Requires_New" (docs/data.md).
	Transaction string
}

// File is a parsed page or include file.
type File struct {
	Name       string
	Nodes      []Node // in document order; directives are not nodes
	Directives Directives
}

// Error is a parse error: Name (the name given to Parse), Line and Col
// (1-based; Col counts bytes) and Msg, lowercase and without a trailing
// newline. Its Error method returns "name:line: message". The global file
// parser shares the type: a *page.Error is a *globalfile.Error.
type Error = scan.Error
