package globalfile

import "lasp/internal/scan"

// lexTag reads the opening tag <name ...> at start, up to its ">" or "/>",
// and checks that no attribute is given twice.
func (p *parser) lexTag(start int, name string) (*scan.Tag, error) {
	t, err := p.LexTag(start, name)
	if err != nil {
		return nil, err
	}
	if err := p.CheckDuplicates(t.Attrs); err != nil {
		return nil, err
	}
	return t, nil
}

// requireRunat checks that t has runat="server" (any case).
func (p *parser) requireRunat(t *scan.Tag) error {
	a, ok := scan.FindAttr(t.Attrs, "runat")
	if !ok {
		return p.Errorf(t.Start, "<%s> needs runat=\"server\"", t.Name)
	}
	return p.CheckRunat(a)
}
