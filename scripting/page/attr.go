package page

import (
	"strings"

	"lasp/internal/scan"
)

// attr is one attribute of a tag or directive: Name, Name=Value,
// Name="Value" or Name='Value'.
type attr struct {
	name     string // as written
	key      string // name lowercased
	value    string
	hasValue bool
	off      int // offset of the name in the source
}

// attrLexer reads attributes from src[pos:end].
type attrLexer struct {
	p        *parser
	pos, end int
}

// skipSpace moves past white space.
func (l *attrLexer) skipSpace() {
	for l.pos < l.end && scan.IsSpace(l.p.src[l.pos]) {
		l.pos++
	}
}

// peek returns the byte at the current position, or 0 at the end.
func (l *attrLexer) peek() byte {
	if l.pos < l.end {
		return l.p.src[l.pos]
	}
	return 0
}

// next reads one attribute at the current position. On a malformed value it
// returns the attribute's name with the error, so that the caller can tell
// which attribute went wrong.
func (l *attrLexer) next() (attr, error) {
	src := l.p.src
	start := l.pos
	for l.pos < l.end && scan.IsNameByte(src[l.pos]) {
		l.pos++
	}
	if l.pos == start {
		return attr{}, l.p.errorf(start, "expected attribute name, found %q", src[start])
	}
	a := attr{name: src[start:l.pos], key: l.p.lower[start:l.pos], off: start}
	afterName := l.pos
	l.skipSpace()
	if l.peek() != '=' {
		l.pos = afterName
		return a, nil
	}
	l.pos++
	l.skipSpace()
	v, err := l.value(a.name)
	a.value, a.hasValue = v, err == nil
	return a, err
}

// value reads a quoted or unquoted attribute value.
func (l *attrLexer) value(name string) (string, error) {
	src := l.p.src
	start := l.pos
	if q := l.peek(); q == '"' || q == '\'' {
		k := strings.IndexByte(src[start+1:l.end], q)
		if k < 0 {
			return "", l.p.errorf(start, "unterminated quoted value for %s", name)
		}
		l.pos = start + 1 + k + 1
		return src[start+1 : start+1+k], nil
	}
	for l.pos < l.end && isValueByte(src, l.pos) {
		l.pos++
	}
	if l.pos == start {
		return "", l.p.errorf(start, "missing value for %s", name)
	}
	return src[start:l.pos], nil
}

// isValueByte reports whether src[i] continues an unquoted attribute value.
// "/>" ends the value, so that <object ... id=x/> is self-closing.
func isValueByte(src string, i int) bool {
	c := src[i]
	if c == '/' {
		return i+1 >= len(src) || src[i+1] != '>'
	}
	return !scan.IsSpace(c) && strings.IndexByte("\"'<>", c) < 0
}

// findAttr returns the first attribute whose lowercased name is key.
func findAttr(attrs []attr, key string) (attr, bool) {
	for _, a := range attrs {
		if a.key == key {
			return a, true
		}
	}
	return attr{}, false
}

// checkDuplicates reports the second of two attributes with the same name.
func (p *parser) checkDuplicates(attrs []attr, what string) error {
	for i, a := range attrs {
		for _, b := range attrs[:i] {
			if a.key == b.key {
				return p.errorf(a.off, "%s %s given twice", what, a.name)
			}
		}
	}
	return nil
}
