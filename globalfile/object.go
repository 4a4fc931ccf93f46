package globalfile

import (
	"strings"

	"lasp/internal/scan"
)

// lexObject reads an <object> declaration at start: the opening tag, and
// the closing </object> unless the tag is self-closing.
func (p *parser) lexObject(start int) (int, error) {
	t, err := p.lexTag(start, "object")
	if err != nil {
		return 0, err
	}
	if err := p.requireRunat(t); err != nil {
		return 0, err
	}
	obj, err := p.objectAttrs(t)
	if err != nil {
		return 0, err
	}
	end := t.End
	if !t.SelfClosing {
		if end, err = p.closeObject(t); err != nil {
			return 0, err
		}
	}
	p.file.Objects = append(p.file.Objects, obj)
	return end, nil
}

// objectAttrs validates the attributes of the <object> tag t and returns
// the object they declare. The id must also be new in the file.
func (p *parser) objectAttrs(t *scan.Tag) (Object, error) {
	obj := Object{Pos: p.pos(t.Start)}
	var id scan.Attr
	for _, a := range t.Attrs {
		if !a.HasValue {
			return Object{}, p.Errorf(a.Off, "attribute %s needs a value", a.Name)
		}
		var err error
		switch a.Key {
		case "runat": // checked by requireRunat
		case "scope":
			obj.Scope, err = p.scope(a)
		case "id":
			id, err = a, p.checkID(a)
		case "progid":
			obj.ProgID, err = p.progID(a)
		case "classid":
			err = p.Errorf(a.Off, "classid is not supported: name the component with progid")
		default:
			err = p.Errorf(a.Off, "unknown attribute %s on <object> (want runat, scope, id and progid)", a.Name)
		}
		if err != nil {
			return Object{}, err
		}
	}
	switch {
	case obj.Scope == 0:
		return Object{}, p.Errorf(t.Start, "<object> needs a scope attribute: Application, Session or Page")
	case id.Name == "":
		return Object{}, p.Errorf(t.Start, "<object> needs an id attribute")
	case obj.ProgID == "":
		return Object{}, p.Errorf(t.Start, "<object> needs a progid attribute")
	}
	if line, ok := p.ids[id.Value]; ok {
		return Object{}, p.Errorf(id.Off, "object id %q declared twice (first on line %d)", id.Value, line)
	}
	p.ids[id.Value] = p.pos(id.Off).Line
	obj.ID = id.Value
	return obj, nil
}

// scope reads a scope attribute: Application, Session or Page, in any case.
func (p *parser) scope(a scan.Attr) (Scope, error) {
	v := strings.TrimSpace(a.Value)
	for _, s := range []Scope{Application, Session, Page} {
		if strings.EqualFold(v, s.String()) {
			return s, nil
		}
	}
	return 0, p.Errorf(a.Off, "scope %q is not Application, Session or Page", a.Value)
}

// checkID checks that an id attribute names a Lua identifier that a script
// may use for the object.
func (p *parser) checkID(a scan.Attr) error {
	v := a.Value
	switch {
	case !scan.IsLuaIdentifier(v):
		return p.Errorf(a.Off, "object id %q is not a Lua identifier", v)
	case scan.IsLuaKeyword(v):
		return p.Errorf(a.Off, "object id %q is a Lua keyword", v)
	case intrinsics[v]:
		return p.Errorf(a.Off, "object id %q is the name of an intrinsic object", v)
	case strings.HasPrefix(v, "__lasp"):
		return p.Errorf(a.Off, "object id %q is reserved: ids starting with __lasp belong to Lasp", v)
	}
	return nil
}

// progID reads a progid attribute: names of letters, digits and "_"
// separated by dots, without surrounding white space.
func (p *parser) progID(a scan.Attr) (string, error) {
	v := strings.TrimSpace(a.Value)
	if v == "" {
		return "", p.Errorf(a.Off, "empty progid")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !scan.IsLetter(c) && !scan.IsDigit(c) && c != '_' && c != '.' {
			return "", p.Errorf(a.Off, "progid %q may hold only letters, digits, \".\" and \"_\"", v)
		}
	}
	if strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || strings.Contains(v, "..") {
		return "", p.Errorf(a.Off, "progid %q has an empty name between dots", v)
	}
	return v, nil
}

// closeObject reads what follows the non-self-closing <object> tag t: white
// space, then </object>. It returns the offset just past </object>.
func (p *parser) closeObject(t *scan.Tag) (int, error) {
	end, after := scan.CloseTag(p.Lower, t.End, "object")
	k := scan.SkipSpace(p.Src, t.End)
	switch {
	case end < 0, k < end && (scan.IsTagStart(p.Lower[k:], "object") || scan.IsTagStart(p.Lower[k:], "script")):
		return 0, p.Errorf(t.Start, "unclosed <object> tag: missing </object> (or />)")
	case k < end:
		return 0, p.Errorf(k, "only white space may appear between <object> and </object>")
	}
	return after, nil
}

// intrinsics are the names of the intrinsic objects, which an object id may
// not hide. Lua is case-sensitive, and so is the comparison.
var intrinsics = map[string]bool{
	"Request": true, "Response": true, "Server": true, "Session": true, "Application": true,
}
