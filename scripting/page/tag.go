package page

import (
	"strings"

	"lasp/internal/scan"
)

// tag is an opening <script> or <object> tag with runat="server".
type tag struct {
	attrs       []attr
	end         int // offset just past the closing ">"
	selfClosing bool
}

// isTagStart reports whether lower (lowercased source) starts with the
// opening tag <name followed by white space, "/" or ">".
func isTagStart(lower, name string) bool {
	if !strings.HasPrefix(lower, "<"+name) {
		return false
	}
	rest := lower[1+len(name):]
	return rest != "" && (scan.IsSpace(rest[0]) || rest[0] == '/' || rest[0] == '>')
}

// lexServerTag reads the opening tag <name ...> at start. It returns nil
// when the tag has no runat attribute: such a tag is ordinary text. A
// malformed tag is text too, unless "runat" appears in it before its first
// ">". A runat attribute must say "server".
func (p *parser) lexServerTag(start int, name string) (*tag, error) {
	t, err := p.lexTag(start, name)
	runat, ok := findAttr(t.attrs, "runat")
	if err != nil && (ok || p.mentionsRunat(start)) {
		return nil, err
	}
	if !ok || err != nil {
		return nil, nil
	}
	if !strings.EqualFold(strings.TrimSpace(runat.value), "server") {
		return nil, p.errorf(runat.off, "runat must be \"server\", not %q", runat.value)
	}
	if err := p.checkDuplicates(t.attrs, "attribute"); err != nil {
		return nil, err
	}
	return t, nil
}

// lexTag reads the attributes of the opening tag <name ...> at start up to
// its ">" or "/>". On error the attributes read so far are returned too.
func (p *parser) lexTag(start int, name string) (*tag, error) {
	l := &attrLexer{p: p, pos: start + 1 + len(name), end: len(p.src)}
	t := &tag{}
	for {
		l.skipSpace()
		switch {
		case l.pos >= l.end:
			return t, p.errorf(start, "unclosed <%s> tag", name)
		case p.src[l.pos] == '>':
			t.end = l.pos + 1
			return t, nil
		case strings.HasPrefix(p.src[l.pos:], "/>"):
			t.end, t.selfClosing = l.pos+2, true
			return t, nil
		}
		a, err := l.next()
		if a.name != "" {
			t.attrs = append(t.attrs, a)
		}
		if err != nil {
			return t, err
		}
	}
}

// mentionsRunat reports whether "runat" appears, in any case, in the tag at
// start before the next "<" or ">".
func (p *parser) mentionsRunat(start int) bool {
	tagText := p.lower[start+1:]
	if k := strings.IndexAny(tagText, "<>"); k >= 0 {
		tagText = tagText[:k]
	}
	return strings.Contains(tagText, "runat")
}

// lexScript reads a <script runat="server"> block at start; a <script>
// without runat is text.
func (p *parser) lexScript(start int) (Node, int, error) {
	t, err := p.lexServerTag(start, "script")
	if t == nil || err != nil {
		return nil, start, err
	}
	for _, a := range t.attrs {
		if err := p.checkScriptAttr(a); err != nil {
			return nil, 0, err
		}
	}
	if t.selfClosing {
		return nil, 0, p.errorf(start, "<script runat=\"server\"> needs a closing </script> tag, not />")
	}
	body := t.end
	end, after := scan.CloseTag(p.lower, body, "script")
	if end < 0 {
		return nil, 0, p.errorf(start, "unclosed <script runat=\"server\"> block")
	}
	return &Script{Pos: p.pos(body), Code: p.src[body:end]}, after, nil
}

// checkScriptAttr validates one attribute of a server <script> tag.
func (p *parser) checkScriptAttr(a attr) error {
	switch a.key {
	case "runat":
		return nil
	case "language":
		if !strings.EqualFold(strings.TrimSpace(a.value), "lua") {
			return p.errorf(a.off, "unsupported script language %q (only lua)", a.value)
		}
		return nil
	}
	return p.errorf(a.off, "unknown attribute %s on <script runat=\"server\">", a.name)
}

// lexObject reads an <object runat="server"> tag at start, with its closing
// </object> tag if it is not self-closing; an <object> without runat is
// text.
func (p *parser) lexObject(start int) (Node, int, error) {
	t, err := p.lexServerTag(start, "object")
	if t == nil || err != nil {
		return nil, start, err
	}
	obj := &Object{Pos: p.pos(start)}
	if err := p.objectAttrs(start, t.attrs, obj); err != nil {
		return nil, 0, err
	}
	if t.selfClosing {
		return obj, t.end, nil
	}
	end, after := scan.CloseTag(p.lower, t.end, "object")
	if end < 0 {
		return nil, 0, p.errorf(start, "unclosed <object> tag: missing </object>")
	}
	if k := firstNonSpace(p.src[t.end:end]); k >= 0 {
		return nil, 0, p.errorf(t.end+k, "only white space may appear between <object> and </object>")
	}
	return obj, after, nil
}

// objectAttrs validates the attributes of a server <object> tag at start and
// fills in obj.
func (p *parser) objectAttrs(start int, attrs []attr, obj *Object) error {
	var id attr
	var hasID, hasProgID bool
	for _, a := range attrs {
		if !a.hasValue && a.key != "runat" {
			return p.errorf(a.off, "attribute %s needs a value", a.name)
		}
		switch a.key {
		case "runat":
		case "id":
			id, hasID = a, true
		case "progid":
			obj.ProgID, hasProgID = strings.TrimSpace(a.value), true
			if obj.ProgID == "" {
				return p.errorf(a.off, "empty progid")
			}
		case "scope":
			if !strings.EqualFold(strings.TrimSpace(a.value), "page") {
				return p.errorf(a.off, "object scope %q is not allowed in a page (only Page)", a.value)
			}
		default:
			return p.errorf(a.off, "unknown attribute %s on <object runat=\"server\">", a.name)
		}
	}
	if !hasID {
		return p.errorf(start, "<object runat=\"server\"> needs an id attribute")
	}
	if !hasProgID {
		return p.errorf(start, "<object runat=\"server\"> needs a progid attribute")
	}
	return p.checkObjectID(id, obj)
}

// checkObjectID checks that id is a Lua identifier, not a keyword, and not
// declared before in this file, and stores it in obj.
func (p *parser) checkObjectID(id attr, obj *Object) error {
	switch {
	case !scan.IsLuaIdentifier(id.value):
		return p.errorf(id.off, "object id %q is not a Lua identifier", id.value)
	case scan.IsLuaKeyword(id.value):
		return p.errorf(id.off, "object id %q is a Lua keyword", id.value)
	}
	if line, ok := p.objects[id.value]; ok {
		return p.errorf(id.off, "object id %q declared twice (first on line %d)", id.value, line)
	}
	p.objects[id.value] = p.pos(id.off).Line
	obj.ID = id.value
	return nil
}
