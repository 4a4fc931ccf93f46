package globalfile

import (
	"strings"

	"lasp/internal/scan"
)

// tag is an opening <object> or <script> tag.
type tag struct {
	name        string // "object" or "script"
	start       int    // offset of its "<"
	attrs       []attr
	end         int // offset just past its ">"
	selfClosing bool
}

// attr is one attribute of a tag: Name, Name=Value, Name="Value" or
// Name='Value'.
type attr struct {
	name     string // as written
	key      string // name lowercased
	value    string // without quotes
	hasValue bool
	off      int // offset of the name in the source
}

// isTagStart reports whether lower (lowercased source) starts with <name
// followed by white space, "/" or ">".
func isTagStart(lower, name string) bool {
	if !strings.HasPrefix(lower, "<"+name) {
		return false
	}
	rest := lower[1+len(name):]
	return rest != "" && (scan.IsSpace(rest[0]) || rest[0] == '/' || rest[0] == '>')
}

// lexTag reads the opening tag <name ...> at start, up to its ">" or "/>",
// and checks that no attribute is given twice.
func (p *parser) lexTag(start int, name string) (*tag, error) {
	t := &tag{name: name, start: start}
	i := start + 1 + len(name)
	for {
		i = scan.SkipSpace(p.src, i)
		switch {
		case i >= len(p.src) || p.src[i] == '<':
			return nil, p.errorf(start, "unclosed <%s> tag: missing >", name)
		case p.src[i] == '>':
			t.end = i + 1
			return t, p.checkDuplicates(t.attrs)
		case strings.HasPrefix(p.src[i:], "/>"):
			t.end, t.selfClosing = i+2, true
			return t, p.checkDuplicates(t.attrs)
		}
		a, next, err := p.lexAttr(i)
		if err != nil {
			return nil, err
		}
		t.attrs = append(t.attrs, a)
		i = next
	}
}

// lexAttr reads one attribute at i and returns it with the offset just past
// it.
func (p *parser) lexAttr(i int) (attr, int, error) {
	start := i
	for i < len(p.src) && scan.IsNameByte(p.src[i]) {
		i++
	}
	if i == start {
		return attr{}, 0, p.errorf(start, "expected attribute name, found %q", p.src[start])
	}
	a := attr{name: p.src[start:i], key: p.lower[start:i], off: start}
	j := scan.SkipSpace(p.src, i)
	if j >= len(p.src) || p.src[j] != '=' {
		return a, i, nil
	}
	j = scan.SkipSpace(p.src, j+1)
	if j < len(p.src) && (p.src[j] == '"' || p.src[j] == '\'') {
		k := strings.IndexByte(p.src[j+1:], p.src[j])
		if k < 0 {
			return attr{}, 0, p.errorf(j, "unterminated quoted value for %s", a.name)
		}
		a.value, a.hasValue = p.src[j+1:j+1+k], true
		return a, j + 1 + k + 1, nil
	}
	end := j
	for end < len(p.src) && isValueByte(p.src, end) {
		end++
	}
	if end == j {
		return attr{}, 0, p.errorf(start, "missing value for %s", a.name)
	}
	a.value, a.hasValue = p.src[j:end], true
	return a, end, nil
}

// isValueByte reports whether src[i] continues an unquoted attribute value
// (a simple token, as in HTML). "/>" ends the value, so that
// <object ... id=x/> is self-closing.
func isValueByte(src string, i int) bool {
	c := src[i]
	if c == '/' {
		return i+1 >= len(src) || src[i+1] != '>'
	}
	return !scan.IsSpace(c) && strings.IndexByte("\"'<>=`", c) < 0
}

// checkDuplicates reports the second of two attributes with the same name.
func (p *parser) checkDuplicates(attrs []attr) error {
	for i, a := range attrs {
		for _, b := range attrs[:i] {
			if a.key == b.key {
				return p.errorf(a.off, "attribute %s given twice", a.name)
			}
		}
	}
	return nil
}

// findAttr returns the attribute whose lowercased name is key.
func findAttr(attrs []attr, key string) (attr, bool) {
	for _, a := range attrs {
		if a.key == key {
			return a, true
		}
	}
	return attr{}, false
}

// checkRunat checks that t has runat="server" (any case).
func (p *parser) checkRunat(t *tag) error {
	a, ok := findAttr(t.attrs, "runat")
	if !ok {
		return p.errorf(t.start, "<%s> needs runat=\"server\"", t.name)
	}
	if !a.hasValue || !strings.EqualFold(strings.TrimSpace(a.value), "server") {
		return p.errorf(a.off, "runat must be \"server\", not %q", a.value)
	}
	return nil
}
