// Package globalfile parses an application's global file, global.lasa:
// the declarations of its Application, Session and Page objects and the Lua
// code of its event handlers (Application_OnStart, Session_OnStart,
// Session_OnEnd, Application_OnEnd).
//
// It is a leaf: it imports only the standard library and internal/scan,
// which it shares with the page parser: byte-level helpers, the tag and
// attribute lexer, and the Error type. It knows nothing of Lua beyond what
// an object id may be: it does not compile the scripts (the caller does,
// keeping the file's line numbers, so that a syntax error names global.lasa
// and its line), and it does not check that a progid names a component
// (the caller does, naming Object.Pos).
//
// # Grammar
//
// A global file holds only these, in any order, separated by white space
// (a UTF-8 byte order mark at the very start counts as white space):
//
//	<object runat="server" scope="Application" id="name" progid="P.Q"></object>
//	<object runat="server" scope="Session" id="name" progid="P.Q" />
//	                           Object: a declared object
//	<script runat="server" language="lua"> code </script>
//	                           Script: Lua code
//	<!-- comment -->           ignored, whatever it holds
//
// Anything else is an error that names its line: other text, other tags,
// stray closing tags, <% %> blocks and <!--#include--> directives.
//
// Tags. Tag and attribute names are case-insensitive. Attribute values are
// Name="Value", Name='Value' or, for a simple token, Name=Value (as in
// HTML); a quoted value may span lines. No attribute may be given twice, and
// every attribute needs a value. A tag without its ">" is an error at its
// "<".
//
// Objects. An <object> tag has exactly these attributes:
//
//	runat    "server", in any case
//	scope    Application, Session or Page, in any case (stored as a Scope)
//	id       a Lua identifier ([A-Za-z_][A-Za-z0-9_]*) that is not a Lua
//	         keyword, not the name of an intrinsic object (Request, Response,
//	         Server, Session, Application: compared case-sensitively, as Lua
//	         does), does not start with "__lasp", and is unique in the file
//	progid   names of letters, digits and "_" separated by single dots;
//	         surrounding white space is dropped
//
// A missing attribute or any other one (classid included: components are
// named by progid) is an error. The tag is self-closing (<object ... />) or
// followed by </object> with only white space between. A duplicate id is
// an error at the second declaration that names the line of the first.
//
// Scripts. A <script> tag needs runat="server"; it may have language="lua"
// (any case); any other attribute is an error. Its code runs to the first
// </script> (any case, white space allowed before ">"), whatever it holds:
// nothing inside is recognized. Without </script> it is an error at the
// opening tag.
//
// Comments. <!-- runs to the first -->; tags inside are ignored. Without
// --> it is an error at the "<!--". A comment that starts with #include
// (after optional white space) is an include directive, which a global file
// may not hold.
//
// # Positions
//
// Lines count "\n" (so "\r\n" files work); columns count bytes; both are
// 1-based. Object.Pos is the "<" of its tag. Script.Pos is the first byte of
// its code, and Script.Code is the exact source bytes, so the caller can
// keep every line of code on its line of the file: prefix the code with
// Pos.Line-1 newlines, or compile File.LuaChunk, which joins every script
// that way. Every error is an *Error whose Error method reads
// "name:line: message".
package globalfile
