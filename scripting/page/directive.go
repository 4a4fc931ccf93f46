package page

import (
	"strings"

	"lasp/internal/scan"
)

// lexDirective reads the attributes of a <%@ ... %> block whose body is
// src[start:end].
func (p *parser) lexDirective(start, end int) ([]scan.Attr, error) {
	var attrs []scan.Attr
	i := start
	for {
		i = scan.SkipSpace(p.Src[:end], i)
		if i >= end {
			break
		}
		a, next, err := p.LexAttr(i, end)
		if err != nil {
			return nil, err
		}
		if !a.HasValue {
			return nil, p.Errorf(a.Off, "directive %s needs a value (Name=\"Value\")", a.Name)
		}
		attrs = append(attrs, a)
		i = next
	}
	if len(attrs) == 0 {
		return nil, p.Errorf(start, "empty directive")
	}
	return attrs, nil
}

// applyDirective checks that d comes before any output and stores its
// attributes in the file's Directives.
func (p *parser) applyDirective(d *directive) error {
	if p.output {
		return p.Errorf(d.start, "directive must come before any output")
	}
	for _, a := range d.attrs {
		if err := p.applyDirectiveAttr(a); err != nil {
			return err
		}
	}
	return nil
}

// applyDirectiveAttr validates one directive attribute and stores it.
func (p *parser) applyDirectiveAttr(a scan.Attr) error {
	dirs := &p.file.Directives
	var err error
	switch a.Key {
	case "enablesessionstate":
		dirs.EnableSessionState, err = p.sessionState(a)
	case "language":
		if !strings.EqualFold(strings.TrimSpace(a.Value), "lua") {
			err = p.Errorf(a.Off, "unsupported Language %q (only Lua)", a.Value)
		}
	case "contenttype":
		dirs.ContentType, err = p.nonEmpty(a)
	case "charset":
		dirs.Charset, err = p.nonEmpty(a)
	case "transaction":
		dirs.Transaction, err = p.oneOf(a, "Not_Supported", "Supported", "Required", "Requires_New")
	default:
		return p.Errorf(a.Off, "unknown directive %s", a.Name)
	}
	if err != nil {
		return err
	}
	if line, ok := p.seen[a.Key]; ok {
		return p.Errorf(a.Off, "directive %s given twice (first on line %d)", a.Name, line)
	}
	p.seen[a.Key] = p.pos(a.Off).Line
	return nil
}

// sessionState normalizes an EnableSessionState value.
func (p *parser) sessionState(a scan.Attr) (string, error) {
	return p.oneOf(a, "True", "ReadOnly", "False")
}

// oneOf normalizes a's value to the one of values it equals, ignoring
// case and surrounding white space.
func (p *parser) oneOf(a scan.Attr, values ...string) (string, error) {
	for _, v := range values {
		if strings.EqualFold(strings.TrimSpace(a.Value), v) {
			return v, nil
		}
	}
	last := len(values) - 1
	return "", p.Errorf(a.Off, "invalid %s %q (want %s or %s)", a.Name, a.Value, strings.Join(values[:last], ", "), values[last])
}

// nonEmpty returns a's value without surrounding white space, which must
// leave something.
func (p *parser) nonEmpty(a scan.Attr) (string, error) {
	v := strings.TrimSpace(a.Value)
	if v == "" {
		return "", p.Errorf(a.Off, "directive %s needs a non-empty value", a.Name)
	}
	return v, nil
}
