package page

import (
	"strings"

	"lasp/internal/scan"
)

// Parse parses src, naming errors after name. The error, if any, is an
// *Error.
func Parse(name, src string) (*File, error) {
	p := newParser(name, src)
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.file, nil
}

// parser holds the state of one Parse call.
type parser struct {
	*scan.Source

	file    *File
	output  bool           // a node other than blank text has been added
	seen    map[string]int // lowercased directive name -> line given on
	objects map[string]int // object id -> line declared on
}

func newParser(name, src string) *parser {
	return &parser{
		Source:  scan.NewSource(name, src, scan.TagSyntax{}),
		file:    &File{Name: name},
		seen:    map[string]int{},
		objects: map[string]int{},
	}
}

// directive is a parsed <%@ ... %> block before it is applied to the file.
type directive struct {
	start int // offset of "<%@"
	attrs []scan.Attr
}

// Position makes a directive a Node so that lexAt can return it; it is never
// added to File.Nodes.
func (d *directive) Position() Pos { return Pos{} }

// parse splits the source into nodes. Text runs from one construct to the
// next; a "<" that starts no construct is text.
func (p *parser) parse() error {
	text := 0 // start of the pending text
	i := 0
	for {
		k := strings.IndexByte(p.Src[i:], '<')
		if k < 0 {
			break
		}
		i += k
		n, end, err := p.lexAt(i)
		if err != nil {
			return err
		}
		if end == i {
			i++
			continue
		}
		p.addText(text, i)
		if err := p.addNode(n); err != nil {
			return err
		}
		i, text = end, end
	}
	p.addText(text, len(p.Src))
	return nil
}

// lexAt reads the construct that starts at src[i] == '<'. It returns the
// node (a *directive for a page directive) and the offset just past the
// construct, or end == i when src[i] starts no construct.
func (p *parser) lexAt(i int) (n Node, end int, err error) {
	rest := p.Lower[i:]
	switch {
	case strings.HasPrefix(rest, "<%"):
		return p.lexBlock(i)
	case strings.HasPrefix(rest, "<!--"):
		return p.lexInclude(i)
	case scan.IsTagStart(rest, "script"):
		return p.lexScript(i)
	case scan.IsTagStart(rest, "object"):
		return p.lexObject(i)
	}
	return nil, i, nil
}

// addText adds src[start:end] as a Text node unless it is empty.
func (p *parser) addText(start, end int) {
	if start >= end {
		return
	}
	s := p.Src[start:end]
	if !isBlank(s, start == 0) {
		p.output = true
	}
	p.file.Nodes = append(p.file.Nodes, &Text{Pos: p.pos(start), Text: s})
}

// addNode adds n to the file, or applies it if it is a directive.
func (p *parser) addNode(n Node) error {
	if d, ok := n.(*directive); ok {
		return p.applyDirective(d)
	}
	p.output = true
	p.file.Nodes = append(p.file.Nodes, n)
	return nil
}

// lexBlock reads a <% %>, <%= %>, <%- %> or <%@ %> block starting at i. The
// first "%>" ends it, even inside a Lua string.
func (p *parser) lexBlock(i int) (Node, int, error) {
	body := i + len("<%")
	var kind byte
	if body < len(p.Src) && strings.IndexByte("=-@", p.Src[body]) >= 0 {
		kind = p.Src[body]
		body++
	}
	k := strings.Index(p.Src[body:], "%>")
	if k < 0 {
		if kind == '@' {
			return nil, 0, p.Errorf(i, "unclosed <%%@ directive")
		}
		return nil, 0, p.Errorf(i, "unclosed %s block", p.Src[i:body])
	}
	code, end := p.Src[body:body+k], body+k+len("%>")
	switch kind {
	case '@':
		attrs, err := p.lexDirective(body, body+k)
		if err != nil {
			return nil, 0, err
		}
		return &directive{start: i, attrs: attrs}, end, nil
	case '=', '-':
		if strings.TrimSpace(code) == "" {
			return nil, 0, p.Errorf(i, "empty expression in %s %%> block", p.Src[i:body])
		}
		return &Expr{Pos: p.pos(body), Code: code, Raw: kind == '-'}, end, nil
	}
	return &Code{Pos: p.pos(body), Code: code}, end, nil
}

// pos converts a byte offset into a line and column.
func (p *parser) pos(off int) Pos {
	line, col := p.LineCol(off)
	return Pos{Line: line, Col: col}
}

// isBlank reports whether s holds only white space. A UTF-8 byte order mark
// at the very start of the file also counts as blank.
func isBlank(s string, atFileStart bool) bool {
	if atFileStart {
		s = strings.TrimPrefix(s, "\uFEFF")
	}
	return firstNonSpace(s) < 0
}

// firstNonSpace returns the index of the first byte of s that is not white
// space, or -1.
func firstNonSpace(s string) int {
	for i := 0; i < len(s); i++ {
		if !scan.IsSpace(s[i]) {
			return i
		}
	}
	return -1
}
