// Package scan holds what the page parser (scripting/page) and the global
// file parser (globalfile) share: byte-level helpers (white space, ASCII
// case, closing tags, Lua identifiers), the Source being parsed with its
// lines, the one parse Error type of both (page.Error and globalfile.Error
// are aliases of it), and the lexer of tags and their attributes, whose
// TagSyntax says where a page's tags and the global file's differ. Like
// those parsers it is a leaf: it imports only the standard library.
package scan
