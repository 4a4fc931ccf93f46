package page

import (
	"strings"

	"lasp/internal/scan"
)

// lexServerTag reads the opening tag <name ...> at start. It returns nil
// when the tag has no runat attribute: such a tag is ordinary text. A
// malformed tag is text too, unless "runat" appears in it before its first
// ">". A runat attribute must say "server".
func (p *parser) lexServerTag(start int, name string) (*scan.Tag, error) {
	t, err := p.LexTag(start, name)
	runat, ok := scan.FindAttr(t.Attrs, "runat")
	if err != nil && (ok || p.mentionsRunat(start)) {
		return nil, err
	}
	if !ok || err != nil {
		return nil, nil
	}
	if err := p.CheckRunat(runat); err != nil {
		return nil, err
	}
	if err := p.CheckDuplicates(t.Attrs); err != nil {
		return nil, err
	}
	return t, nil
}

// mentionsRunat reports whether "runat" appears, in any case, in the tag at
// start before the next "<" or ">".
func (p *parser) mentionsRunat(start int) bool {
	tagText := p.Lower[start+1:]
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
	for _, a := range t.Attrs {
		if err := p.checkScriptAttr(a); err != nil {
			return nil, 0, err
		}
	}
	if t.SelfClosing {
		return nil, 0, p.Errorf(start, "<script runat=\"server\"> needs a closing </script> tag, not />")
	}
	body := t.End
	end, after := scan.CloseTag(p.Lower, body, "script")
	if end < 0 {
		return nil, 0, p.Errorf(start, "unclosed <script runat=\"server\"> block")
	}
	return &Script{Pos: p.pos(body), Code: p.Src[body:end]}, after, nil
}

// checkScriptAttr validates one attribute of a server <script> tag.
func (p *parser) checkScriptAttr(a scan.Attr) error {
	switch a.Key {
	case "runat":
		return nil
	case "language":
		if !strings.EqualFold(strings.TrimSpace(a.Value), "lua") {
			return p.Errorf(a.Off, "unsupported script language %q (only lua)", a.Value)
		}
		return nil
	}
	return p.Errorf(a.Off, "unknown attribute %s on <script runat=\"server\">", a.Name)
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
	if err := p.objectAttrs(start, t.Attrs, obj); err != nil {
		return nil, 0, err
	}
	if t.SelfClosing {
		return obj, t.End, nil
	}
	end, after := scan.CloseTag(p.Lower, t.End, "object")
	if end < 0 {
		return nil, 0, p.Errorf(start, "unclosed <object> tag: missing </object>")
	}
	if k := firstNonSpace(p.Src[t.End:end]); k >= 0 {
		return nil, 0, p.Errorf(t.End+k, "only white space may appear between <object> and </object>")
	}
	return obj, after, nil
}

// objectAttrs validates the attributes of a server <object> tag at start and
// fills in obj.
func (p *parser) objectAttrs(start int, attrs []scan.Attr, obj *Object) error {
	var id scan.Attr
	var hasID, hasProgID bool
	for _, a := range attrs {
		if !a.HasValue && a.Key != "runat" {
			return p.Errorf(a.Off, "attribute %s needs a value", a.Name)
		}
		switch a.Key {
		case "runat":
		case "id":
			id, hasID = a, true
		case "progid":
			obj.ProgID, hasProgID = strings.TrimSpace(a.Value), true
			if obj.ProgID == "" {
				return p.Errorf(a.Off, "empty progid")
			}
		case "scope":
			if !strings.EqualFold(strings.TrimSpace(a.Value), "page") {
				return p.Errorf(a.Off, "object scope %q is not allowed in a page (only Page)", a.Value)
			}
		default:
			return p.Errorf(a.Off, "unknown attribute %s on <object runat=\"server\">", a.Name)
		}
	}
	if !hasID {
		return p.Errorf(start, "<object runat=\"server\"> needs an id attribute")
	}
	if !hasProgID {
		return p.Errorf(start, "<object runat=\"server\"> needs a progid attribute")
	}
	return p.checkObjectID(id, obj)
}

// checkObjectID checks that id is a Lua identifier, not a keyword, and not
// declared before in this file, and stores it in obj.
func (p *parser) checkObjectID(id scan.Attr, obj *Object) error {
	switch {
	case !scan.IsLuaIdentifier(id.Value):
		return p.Errorf(id.Off, "object id %q is not a Lua identifier", id.Value)
	case scan.IsLuaKeyword(id.Value):
		return p.Errorf(id.Off, "object id %q is a Lua keyword", id.Value)
	}
	if line, ok := p.objects[id.Value]; ok {
		return p.Errorf(id.Off, "object id %q declared twice (first on line %d)", id.Value, line)
	}
	p.objects[id.Value] = p.pos(id.Off).Line
	obj.ID = id.Value
	return nil
}
