package scan

import "fmt"

// Error is a parse error of a global file or of a page: globalfile.Error
// and page.Error are this type. Its message is lowercase, without a
// trailing newline.
type Error struct {
	Name      string // the name given to Parse
	Line, Col int    // 1-based; Col counts bytes
	Msg       string
}

// Error returns "name:line: message".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
}

// Source is one named source being parsed: its text, the same text
// lowercased for case-insensitive matching, and what it takes to put an
// error at a line and column.
type Source struct {
	Name  string // the name given to Parse, for errors
	Src   string
	Lower string // Src with ASCII letters lowercased; same length as Src

	// Tags says how LexTag and LexAttr read this source's tags.
	Tags TagSyntax

	lines []int // LineStarts(Src)
}

// NewSource returns the Source for src, named name, whose tags are read
// with syntax.
func NewSource(name, src string, syntax TagSyntax) *Source {
	return &Source{
		Name:  name,
		Src:   src,
		Lower: ASCIILower(src),
		Tags:  syntax,
		lines: LineStarts(src),
	}
}

// LineCol returns the 1-based line and column (counted in bytes) of byte
// offset off.
func (s *Source) LineCol(off int) (line, col int) {
	return LineCol(s.lines, off)
}

// Errorf returns an *Error positioned at byte offset off.
func (s *Source) Errorf(off int, format string, args ...any) *Error {
	line, col := s.LineCol(off)
	return &Error{Name: s.Name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}
