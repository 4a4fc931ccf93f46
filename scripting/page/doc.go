// Package page parses Lasp pages (*.lasp) and include files (*.inc) into
// nodes that carry their line and column.
//
// It is a leaf: it imports only the standard library and internal/scan
// (which it shares with globalfile: byte-level helpers, the tag and
// attribute lexer, and the Error type), knows nothing of Lua beyond what an
// object id may be, and does not resolve includes (an include is a node
// that the caller resolves).
//
// # Grammar
//
//	<% code %>                 Code: Lua statements run in place
//	<%= code %>                Expr: tostring(code), HTML-escaped
//	<%- code %>                Expr with Raw set: tostring(code), as it is
//	<%@ Name="Value" ... %>    page directive (not a node)
//	<script runat="server"> code </script>
//	                           Script: Lua run before the page body
//	<object runat="server" id="x" progid="P.Q"></object>
//	                           Object: page-scope object, created on first use
//	<!--#include file="rel/path.inc"-->
//	<!--#include virtual="/from/root.inc"-->
//	                           Include: textual include
//	anything else              Text
//
// Code blocks. The first "%>" ends a <% %>, <%= %>, <%- %> or <%@ %> block,
// even inside a Lua string or comment (as in ASP): write "%" .. ">". Nothing
// else is recognized inside a block. An expression block must hold more than
// white space. A block without "%>" is an error at the line of its "<%".
//
// Directives. A directive block holds one or more attributes Name="Value",
// Name='Value' or Name=Value (an unquoted value runs to the next white
// space). Names and the values of EnableSessionState, Transaction and
// Language are case-insensitive:
//
//	EnableSessionState   True, ReadOnly or False (stored in that spelling)
//	Transaction          Not_Supported, Supported, Required or Requires_New (likewise)
//	Language             Lua (checked, not stored)
//	ContentType          any non-empty value (stored without surrounding space)
//	Charset              any non-empty value (stored without surrounding space)
//
// An unknown name, a bad value, a name given twice (in one block or in
// several), an attribute without a value or an empty directive is an error.
// Directives must come before any output: only white space (and a byte order
// mark at the start of the file) may precede them. That white space is still
// a Text node; text on either side of a directive is never joined, so every
// node's text stays the exact source bytes at its position.
//
// Tags. Tag and attribute names are case-insensitive; attribute values are
// Name="Value", Name='Value' or Name=Value and may span lines. A <script> or
// <object> tag without a runat attribute is ordinary text (and code blocks
// inside it still run), and so is a malformed one in which "runat" does not
// appear before the next "<" or ">". With runat, the tag must be well
// formed, runat must be "server" (any case), no attribute may be given
// twice, and:
//
//   - <script runat="server"> may also have language="lua" (any case); any
//     other attribute is an error. Its code runs to the first </script>
//     (any case, white space allowed before ">"); nothing inside is
//     recognized. Without </script> it is an error at the opening tag.
//   - <object runat="server"> needs id (a Lua identifier that is not a Lua
//     keyword and is unique in the file) and progid (non-empty); it may have
//     scope="Page" (any case); any other attribute or scope is an error. It is
//     self-closing (<object ... />) or followed by </object> with only white
//     space between.
//
// Includes. <!--#include file="..."--> and <!--#include virtual="..."-->,
// with white space allowed around "#include", "=" and before "-->" and with
// the keyword and kind in any case. The path must be quoted and non-empty. A
// comment that starts with #include but is not a well-formed include is an
// error; other HTML comments are text.
//
// # Positions
//
// Lines count "\n" (so "\r\n" files work); columns count bytes; both are
// 1-based. Code, Expr and Script positions are where their code starts, and
// Text, Code, Expr and Script strings are the exact source bytes, so a code
// generator can keep every line of code on its original line. Directives,
// Object and Include hold no text: lines inside them belong to no node, so
// a generator places each node by its Pos rather than by counting the lines
// before it. Every error is an *Error whose message reads
// "name:line: message".
package page
