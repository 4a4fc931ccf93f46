package scan

import "strings"

// TagSyntax is where the tags of a global file and those of a page differ.
// A page's tags may be ordinary HTML, and the zero value reads them; a
// global file holds nothing but server tags, and reads them more strictly.
type TagSyntax struct {
	// StopAtLT makes a "<" inside a tag end it as unclosed, with the
	// message "unclosed <name> tag: missing >". Otherwise a "<" is a bad
	// attribute name, and only the end of the source leaves a tag unclosed:
	// "unclosed <name> tag".
	StopAtLT bool

	// ValueStop lists the bytes that end an unquoted value besides white
	// space, quotes, "<", ">" and "/>".
	ValueStop string

	// MissingValueAtName puts the error for a "=" without a value at the
	// attribute's name rather than where the value should be.
	MissingValueAtName bool
}

// Attr is one attribute of a tag or directive: Name, Name=Value,
// Name="Value" or Name='Value'.
type Attr struct {
	Name     string // as written
	Key      string // Name lowercased
	Value    string // without quotes
	HasValue bool
	Off      int // offset of Name in the source
}

// Tag is an opening tag <name ...>.
type Tag struct {
	Name        string // as given to LexTag
	Start       int    // offset of its "<"
	Attrs       []Attr
	End         int // offset just past its ">"
	SelfClosing bool
}

// IsTagStart reports whether lower (lowercased source) starts with the
// opening tag <name followed by white space, "/" or ">".
func IsTagStart(lower, name string) bool {
	if !strings.HasPrefix(lower, "<"+name) {
		return false
	}
	rest := lower[1+len(name):]
	return rest != "" && (IsSpace(rest[0]) || rest[0] == '/' || rest[0] == '>')
}

// LexTag reads the opening tag <name ...> at start (name in lower case), up
// to its ">" or "/>". It does not look for attributes given twice
// (CheckDuplicates does). On error the tag holds the attributes read so
// far, the one that went wrong included once its name is read.
func (s *Source) LexTag(start int, name string) (*Tag, error) {
	t := &Tag{Name: name, Start: start}
	i := start + 1 + len(name)
	for {
		i = SkipSpace(s.Src, i)
		switch {
		case i >= len(s.Src), s.Tags.StopAtLT && s.Src[i] == '<':
			if s.Tags.StopAtLT {
				return t, s.Errorf(start, "unclosed <%s> tag: missing >", name)
			}
			return t, s.Errorf(start, "unclosed <%s> tag", name)
		case s.Src[i] == '>':
			t.End = i + 1
			return t, nil
		case strings.HasPrefix(s.Src[i:], "/>"):
			t.End, t.SelfClosing = i+2, true
			return t, nil
		}
		a, next, err := s.LexAttr(i, len(s.Src))
		if a.Name != "" {
			t.Attrs = append(t.Attrs, a)
		}
		if err != nil {
			return t, err
		}
		i = next
	}
}

// LexAttr reads one attribute at i, which is not white space, as if the
// source ended at end, and returns it with the offset just past it. On a
// malformed value it returns the attribute's name with the error, so that
// the caller can tell which attribute went wrong.
func (s *Source) LexAttr(i, end int) (Attr, int, error) {
	src := s.Src[:end]
	start := i
	for i < len(src) && IsNameByte(src[i]) {
		i++
	}
	if i == start {
		return Attr{}, start, s.Errorf(start, "expected attribute name, found %q", src[start])
	}
	a := Attr{Name: src[start:i], Key: s.Lower[start:i], Off: start}
	j := SkipSpace(src, i)
	if j >= len(src) || src[j] != '=' {
		return a, i, nil
	}
	j = SkipSpace(src, j+1)
	if j < len(src) && (src[j] == '"' || src[j] == '\'') {
		k := strings.IndexByte(src[j+1:], src[j])
		if k < 0 {
			return a, j, s.Errorf(j, "unterminated quoted value for %s", a.Name)
		}
		a.Value, a.HasValue = src[j+1:j+1+k], true
		return a, j + 1 + k + 1, nil
	}
	k := j
	for k < len(src) && s.isValueByte(src, k) {
		k++
	}
	if k == j {
		off := j
		if s.Tags.MissingValueAtName {
			off = start
		}
		return a, j, s.Errorf(off, "missing value for %s", a.Name)
	}
	a.Value, a.HasValue = src[j:k], true
	return a, k, nil
}

// isValueByte reports whether src[i] continues an unquoted attribute value
// (a simple token, as in HTML). "/>" ends the value, so that
// <object ... id=x/> is self-closing.
func (s *Source) isValueByte(src string, i int) bool {
	c := src[i]
	if c == '/' {
		return i+1 >= len(src) || src[i+1] != '>'
	}
	return !IsSpace(c) && strings.IndexByte("\"'<>", c) < 0 && strings.IndexByte(s.Tags.ValueStop, c) < 0
}

// CheckDuplicates reports the second of two attributes with the same name.
func (s *Source) CheckDuplicates(attrs []Attr) error {
	for i, a := range attrs {
		for _, b := range attrs[:i] {
			if a.Key == b.Key {
				return s.Errorf(a.Off, "attribute %s given twice", a.Name)
			}
		}
	}
	return nil
}

// CheckRunat checks that the runat attribute a says "server" (in any case,
// surrounding white space allowed).
func (s *Source) CheckRunat(a Attr) error {
	if !a.HasValue || !strings.EqualFold(strings.TrimSpace(a.Value), "server") {
		return s.Errorf(a.Off, "runat must be \"server\", not %q", a.Value)
	}
	return nil
}

// FindAttr returns the first attribute whose lowercased name is key.
func FindAttr(attrs []Attr, key string) (Attr, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a, true
		}
	}
	return Attr{}, false
}
