package globalfile

import (
	"strings"

	"lasp/internal/scan"
)

// lexScript reads a <script runat="server"> block at start. Its code runs
// to the first </script>, whatever it holds.
func (p *parser) lexScript(start int) (int, error) {
	t, err := p.lexTag(start, "script")
	if err != nil {
		return 0, err
	}
	if err := p.checkRunat(t); err != nil {
		return 0, err
	}
	for _, a := range t.attrs {
		if err := p.checkScriptAttr(a); err != nil {
			return 0, err
		}
	}
	if t.selfClosing {
		return 0, p.errorf(start, "<script runat=\"server\"> needs a closing </script> tag, not />")
	}
	end, after := scan.CloseTag(p.lower, t.end, "script")
	if end < 0 {
		return 0, p.errorf(start, "unclosed <script runat=\"server\"> block: missing </script>")
	}
	p.file.Scripts = append(p.file.Scripts, Script{Pos: p.pos(t.end), Code: p.src[t.end:end]})
	return after, nil
}

// checkScriptAttr validates one attribute of a <script runat="server">
// tag.
func (p *parser) checkScriptAttr(a attr) error {
	switch a.key {
	case "runat": // checked by checkRunat
		return nil
	case "language":
		if !a.hasValue {
			return p.errorf(a.off, "attribute %s needs a value", a.name)
		}
		if !strings.EqualFold(strings.TrimSpace(a.value), "lua") {
			return p.errorf(a.off, "unsupported script language %q (only lua)", a.value)
		}
		return nil
	}
	return p.errorf(a.off, "unknown attribute %s on <script runat=\"server\">", a.name)
}
