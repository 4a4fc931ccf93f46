// Package scan holds the byte-level helpers that the page parser
// (scripting/page) and the global file parser (globalfile) share: white
// space, ASCII case, tag names, closing tags and Lua identifiers. Like
// those parsers it is a leaf: it imports only the standard library.
package scan
