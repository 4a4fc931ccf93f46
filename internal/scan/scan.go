package scan

import (
	"sort"
	"strings"
)

// IsSpace reports whether c is ASCII white space.
func IsSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// SkipSpace returns the offset of the first byte at or after i in s that is
// not white space.
func SkipSpace(s string, i int) int {
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	return i
}

// IsLetter reports whether c is an ASCII letter.
func IsLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// ASCIILower lowercases the ASCII letters of s and leaves every other byte
// alone, so offsets into the result are offsets into s.
func ASCIILower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// IsNameByte reports whether c may appear in a tag or attribute name.
func IsNameByte(c byte) bool {
	return !IsSpace(c) && strings.IndexByte("\"'<>/=", c) < 0
}

// CloseTag finds the first </name> tag at or after from in lower (a source
// already lowercased by ASCIILower; name in lower case), allowing white
// space before ">". It returns the offset of its "<" and the offset just
// past its ">", or -1, -1.
func CloseTag(lower string, from int, name string) (start, after int) {
	closer := "</" + name
	for from <= len(lower) {
		k := strings.Index(lower[from:], closer)
		if k < 0 {
			return -1, -1
		}
		start = from + k
		i := SkipSpace(lower, start+len(closer))
		if i < len(lower) && lower[i] == '>' {
			return start, i + 1
		}
		from = start + len(closer)
	}
	return -1, -1
}

// IsLuaIdentifier reports whether s is a Lua identifier:
// [A-Za-z_][A-Za-z0-9_]*. It may still be a keyword (IsLuaKeyword).
func IsLuaIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !IsLetter(c) && c != '_' && (i == 0 || !IsDigit(c)) {
			return false
		}
	}
	return true
}

// IsLuaKeyword reports whether s is a reserved word of Lua 5.1, or goto.
func IsLuaKeyword(s string) bool { return luaKeywords[s] }

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true,
	"end": true, "false": true, "for": true, "function": true, "goto": true,
	"if": true, "in": true, "local": true, "nil": true, "not": true,
	"or": true, "repeat": true, "return": true, "then": true, "true": true,
	"until": true, "while": true,
}

// LineStarts returns the byte offset of the start of each line of src. A
// line ends as Lua (gopher-lua's lexer) ends one, so that positions in a
// file and in the Lua made of it agree: at "\n", "\r", "\r\n" or "\n\r".
func LineStarts(src string) []int {
	lines := []int{0}
	for i := 0; i < len(src); i++ {
		if n := lineBreak(src, i); n > 0 {
			i += n - 1
			lines = append(lines, i+1)
		}
	}
	return lines
}

// lineBreak returns the length of the line break at src[i], 0 if none.
func lineBreak(src string, i int) int {
	c := src[i]
	if c != '\n' && c != '\r' {
		return 0
	}
	if i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r') && src[i+1] != c {
		return 2
	}
	return 1
}

// LuaNewlines returns code with each line break (see LineStarts) written
// "\n". Lua reads it the same way: a line break in a long string or after
// a backslash in a string is "\n" whatever it was. Code made of it then
// counts its lines by "\n" alone.
func LuaNewlines(code string) string {
	if !strings.ContainsRune(code, '\r') {
		return code
	}
	var b strings.Builder
	b.Grow(len(code))
	for i := 0; i < len(code); i++ {
		if n := lineBreak(code, i); n > 0 {
			b.WriteByte('\n')
			i += n - 1
			continue
		}
		b.WriteByte(code[i])
	}
	return b.String()
}

// LineCol returns the 1-based line and column (counted in bytes) of byte
// offset off, given the LineStarts of its source.
func LineCol(lines []int, off int) (line, col int) {
	k := sort.Search(len(lines), func(k int) bool { return lines[k] > off }) - 1
	return k + 1, off - lines[k] + 1
}
