package page

import "strings"

// lexDirective reads the attributes of a <%@ ... %> block whose body is
// src[start:end].
func (p *parser) lexDirective(start, end int) ([]attr, error) {
	l := &attrLexer{p: p, pos: start, end: end}
	var attrs []attr
	for {
		l.skipSpace()
		if l.pos >= end {
			break
		}
		a, err := l.next()
		if err != nil {
			return nil, err
		}
		if !a.hasValue {
			return nil, p.errorf(a.off, "directive %s needs a value (Name=\"Value\")", a.name)
		}
		attrs = append(attrs, a)
	}
	if len(attrs) == 0 {
		return nil, p.errorf(start, "empty directive")
	}
	return attrs, nil
}

// applyDirective checks that d comes before any output and stores its
// attributes in the file's Directives.
func (p *parser) applyDirective(d *directive) error {
	if p.output {
		return p.errorf(d.start, "directive must come before any output")
	}
	for _, a := range d.attrs {
		if err := p.applyDirectiveAttr(a); err != nil {
			return err
		}
	}
	return nil
}

// applyDirectiveAttr validates one directive attribute and stores it.
func (p *parser) applyDirectiveAttr(a attr) error {
	dirs := &p.file.Directives
	var err error
	switch a.key {
	case "enablesessionstate":
		dirs.EnableSessionState, err = p.sessionState(a)
	case "language":
		if !strings.EqualFold(strings.TrimSpace(a.value), "lua") {
			err = p.errorf(a.off, "unsupported Language %q (only Lua)", a.value)
		}
	case "contenttype":
		dirs.ContentType, err = p.nonEmpty(a)
	case "charset":
		dirs.Charset, err = p.nonEmpty(a)
	default:
		return p.errorf(a.off, "unknown directive %s", a.name)
	}
	if err != nil {
		return err
	}
	if line, ok := p.seen[a.key]; ok {
		return p.errorf(a.off, "directive %s given twice (first on line %d)", a.name, line)
	}
	p.seen[a.key] = p.pos(a.off).Line
	return nil
}

// sessionState normalizes an EnableSessionState value.
func (p *parser) sessionState(a attr) (string, error) {
	for _, v := range []string{"True", "ReadOnly", "False"} {
		if strings.EqualFold(strings.TrimSpace(a.value), v) {
			return v, nil
		}
	}
	return "", p.errorf(a.off, "invalid EnableSessionState %q (want True, ReadOnly or False)", a.value)
}

// nonEmpty returns a's value without surrounding white space, which must
// leave something.
func (p *parser) nonEmpty(a attr) (string, error) {
	v := strings.TrimSpace(a.value)
	if v == "" {
		return "", p.errorf(a.off, "directive %s needs a non-empty value", a.name)
	}
	return v, nil
}
