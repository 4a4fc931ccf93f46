package page

import (
	"strings"

	"lasp/internal/scan"
)

// lexInclude reads an <!--#include file="..."--> or <!--#include
// virtual="..."--> directive at start. Any other HTML comment is text.
func (p *parser) lexInclude(start int) (Node, int, error) {
	i := scan.SkipSpace(p.Src, start+len("<!--"))
	if !strings.HasPrefix(p.Lower[i:], "#include") {
		return nil, start, nil
	}
	i = scan.SkipSpace(p.Src, i+len("#include"))
	kindStart := i
	for i < len(p.Src) && scan.IsLetter(p.Src[i]) {
		i++
	}
	kind := p.Src[kindStart:i]
	inc := &Include{Pos: p.pos(start)}
	switch strings.ToLower(kind) {
	case "file":
	case "virtual":
		inc.Virtual = true
	case "":
		return nil, 0, p.includeErrorf(start, kindStart, "malformed include: expected file= or virtual=")
	default:
		return nil, 0, p.Errorf(kindStart, "unknown include kind %q (want file or virtual)", kind)
	}
	i = scan.SkipSpace(p.Src, i)
	if i >= len(p.Src) || p.Src[i] != '=' {
		return nil, 0, p.includeErrorf(start, i, "malformed include: expected = after %s", kind)
	}
	path, i, err := p.includePath(start, scan.SkipSpace(p.Src, i+1))
	if err != nil {
		return nil, 0, err
	}
	inc.Path = path
	i = scan.SkipSpace(p.Src, i)
	if !strings.HasPrefix(p.Src[i:], "-->") {
		return nil, 0, p.includeErrorf(start, i, "malformed include: expected -->")
	}
	return inc, i + len("-->"), nil
}

// includePath reads the quoted, non-empty path of an include directive at i
// and returns it with the offset just past its closing quote.
func (p *parser) includePath(start, i int) (string, int, error) {
	if i >= len(p.Src) || (p.Src[i] != '"' && p.Src[i] != '\'') {
		return "", 0, p.includeErrorf(start, i, "include path must be quoted")
	}
	k := strings.IndexByte(p.Src[i+1:], p.Src[i])
	if k < 0 {
		return "", 0, p.Errorf(start, "unclosed include directive: unterminated path")
	}
	path := p.Src[i+1 : i+1+k]
	if strings.TrimSpace(path) == "" {
		return "", 0, p.Errorf(i, "empty include path")
	}
	return path, i + 1 + k + 1, nil
}

// includeErrorf reports a malformed include at off, or an unclosed one at
// start when the source ended first.
func (p *parser) includeErrorf(start, off int, format string, args ...any) *Error {
	if off >= len(p.Src) {
		return p.Errorf(start, "unclosed include directive")
	}
	return p.Errorf(off, format, args...)
}
