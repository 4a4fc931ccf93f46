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
	if err := p.requireRunat(t); err != nil {
		return 0, err
	}
	for _, a := range t.Attrs {
		if err := p.checkScriptAttr(a); err != nil {
			return 0, err
		}
	}
	if t.SelfClosing {
		return 0, p.Errorf(start, "<script runat=\"server\"> needs a closing </script> tag, not />")
	}
	end, after := scan.CloseTag(p.Lower, t.End, "script")
	if end < 0 {
		return 0, p.Errorf(start, "unclosed <script runat=\"server\"> block: missing </script>")
	}
	p.file.Scripts = append(p.file.Scripts, Script{Pos: p.pos(t.End), Code: p.Src[t.End:end]})
	return after, nil
}

// checkScriptAttr validates one attribute of a <script runat="server">
// tag.
func (p *parser) checkScriptAttr(a scan.Attr) error {
	switch a.Key {
	case "runat": // checked by requireRunat
		return nil
	case "language":
		if !a.HasValue {
			return p.Errorf(a.Off, "attribute %s needs a value", a.Name)
		}
		if !strings.EqualFold(strings.TrimSpace(a.Value), "lua") {
			return p.Errorf(a.Off, "unsupported script language %q (only lua)", a.Value)
		}
		return nil
	}
	return p.Errorf(a.Off, "unknown attribute %s on <script runat=\"server\">", a.Name)
}
