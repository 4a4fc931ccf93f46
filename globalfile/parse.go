package globalfile

import (
	"strings"
	"unicode/utf8"

	"lasp/internal/scan"
)

// byteOrderMark is the UTF-8 byte order mark, white space at the start of a
// file.
const byteOrderMark = "\uFEFF"

// allowed says what a global file may hold, for error messages.
const allowed = `a global file holds only <object runat="server"> tags, <script runat="server"> blocks, HTML comments and white space`

// Parse parses the source of a global file, naming errors after name
// (normally "global.lasa"). The error, if any, is an *Error.
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

	file *File
	ids  map[string]int // object id -> line of its id attribute
}

func newParser(name, src string) *parser {
	// A global file holds nothing but server tags: its tags are read more
	// strictly than a page's.
	syntax := scan.TagSyntax{StopAtLT: true, ValueStop: "=`", MissingValueAtName: true}
	return &parser{
		Source: scan.NewSource(name, src, syntax),
		file:   &File{Name: name},
		ids:    map[string]int{},
	}
}

// parse reads the file construct by construct, skipping the white space
// between them.
func (p *parser) parse() error {
	i := 0
	if strings.HasPrefix(p.Src, byteOrderMark) {
		i = len(byteOrderMark)
	}
	for {
		i = scan.SkipSpace(p.Src, i)
		if i >= len(p.Src) {
			return nil
		}
		end, err := p.lexAt(i)
		if err != nil {
			return err
		}
		i = end
	}
}

// lexAt reads the construct that starts at src[i], which is not white
// space, and returns the offset just past it.
func (p *parser) lexAt(i int) (int, error) {
	rest := p.Lower[i:]
	switch {
	case strings.HasPrefix(rest, "<!--"):
		return p.lexComment(i)
	case strings.HasPrefix(rest, "<%"):
		return 0, p.Errorf(i, "<%% %%> blocks are not allowed in a global file: put code in a <script runat=\"server\"> block")
	case scan.IsTagStart(rest, "object"):
		return p.lexObject(i)
	case scan.IsTagStart(rest, "script"):
		return p.lexScript(i)
	case scan.IsTagStart(rest, "/object"), scan.IsTagStart(rest, "/script"):
		return 0, p.Errorf(i, "%s> without an opening tag", p.Src[i:i+len("</object")])
	}
	return 0, p.unexpected(i)
}

// lexComment skips the HTML comment at start. A server-side include is not
// a comment, and not allowed.
func (p *parser) lexComment(start int) (int, error) {
	body := start + len("<!--")
	if strings.HasPrefix(p.Lower[scan.SkipSpace(p.Src, body):], "#include") {
		return 0, p.Errorf(start, "#include is not allowed in a global file")
	}
	k := strings.Index(p.Src[body:], "-->")
	if k < 0 {
		return 0, p.Errorf(start, "unclosed comment: missing -->")
	}
	return body + k + len("-->"), nil
}

// unexpected reports the text or tag at i, which a global file may not
// hold.
func (p *parser) unexpected(i int) *Error {
	if p.Src[i] == '<' {
		j := i + 1
		if j < len(p.Src) && p.Src[j] == '/' {
			j++
		}
		k := j
		for k < len(p.Src) && scan.IsNameByte(p.Src[k]) {
			k++
		}
		if k > j && (scan.IsLetter(p.Src[j]) || p.Src[j] == '!' || p.Src[j] == '?') {
			return p.Errorf(i, "%s> tag is not allowed: %s", p.Src[i:k], allowed)
		}
	}
	return p.Errorf(i, "text %q is not allowed: %s", snippet(p.Src[i:]), allowed)
}

// snippet returns the start of s up to its first line end, at most about
// 20 bytes, cut on a rune boundary.
func snippet(s string) string {
	if k := strings.IndexAny(s, "\r\n"); k >= 0 {
		s = s[:k]
	}
	const max = 20
	if len(s) <= max {
		return s
	}
	k := max
	for k > 0 && !utf8.RuneStart(s[k]) {
		k--
	}
	return s[:k] + "..."
}

// pos converts a byte offset into a line and column.
func (p *parser) pos(off int) Pos {
	line, col := p.LineCol(off)
	return Pos{Line: line, Col: col}
}
