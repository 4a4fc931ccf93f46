package scan

import (
	"fmt"
	"strings"
	"testing"
)

// global is the global file's tag syntax, as globalfile sets it.
var global = TagSyntax{StopAtLT: true, ValueStop: "=`", MissingValueAtName: true}

func TestLexTag(t *testing.T) {
	tests := []struct {
		name   string
		syntax TagSyntax
		src    string
		want   string // the attributes and the end, or the error with its column
	}{
		{name: "forms", src: "<object a b=1 C = \"x y\" d='q'>", want: "a b=1 C=x y d=q end=30"},
		{name: "self-closing", src: "<object id=x/>", want: "id=x end=14 />"},
		{name: "slash in value", src: "<object p=a/b >", want: "p=a/b end=15"},
		{name: "quoted value spans lines", src: "<object a='1\n2'>", want: "a=1\n2 end=16"},
		{name: "page: = and ` in values", src: "<object id=a=b c=`d`>", want: "id=a=b c=`d` end=21"},
		{name: "global: = ends a value", syntax: global, src: "<object id=a=b>", want: "error 1:13: expected attribute name, found '='"},
		{name: "page: unclosed", src: "<object id=x ", want: "error 1:1: unclosed <object> tag"},
		{name: "global: unclosed", syntax: global, src: "<object id=x ", want: "error 1:1: unclosed <object> tag: missing >"},
		{name: "page: < is a bad name", src: "<object id=x <p>", want: "error 1:14: expected attribute name, found '<'"},
		{name: "global: < ends the tag", syntax: global, src: "<object id=x <p>", want: "error 1:1: unclosed <object> tag: missing >"},
		{name: "page: missing value at the value", src: "<object id=\n>", want: "error 2:1: missing value for id"},
		{name: "global: missing value at the name", syntax: global, src: "<object id=\n>", want: "error 1:9: missing value for id"},
		{name: "unterminated quote", src: "<object a=1 id=\"x>", want: "error 1:16: unterminated quoted value for id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSource("t", tt.src, tt.syntax)
			tag, err := s.LexTag(0, "object")
			if got := describe(tag, err); got != tt.want {
				t.Errorf("LexTag(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func describe(t *Tag, err error) string {
	if err != nil {
		e := err.(*Error)
		return fmt.Sprintf("error %d:%d: %s", e.Line, e.Col, e.Msg)
	}
	var b strings.Builder
	for _, a := range t.Attrs {
		b.WriteString(a.Name)
		if a.HasValue {
			b.WriteString("=" + a.Value)
		}
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "end=%d", t.End)
	if t.SelfClosing {
		b.WriteString(" />")
	}
	return b.String()
}

// TestLexAttrEnd reads attributes as a page directive does: the source
// ends, for the lexer, at the directive's "%>".
func TestLexAttrEnd(t *testing.T) {
	tests := []struct {
		src  string
		want string // the attribute and the offset past it, or the error
	}{
		{src: "<%@ Language=Lua%>", want: "Language=Lua 16"},
		{src: "<%@ Language = 'Lua' %>", want: "Language=Lua 20"},
		{src: "<%@ Language %>", want: "Language 12"},
		{src: "<%@ Language=\"Lua %> \"", want: "error 1:14: unterminated quoted value for Language"},
		{src: "<%@ Language= %>", want: "error 1:15: missing value for Language"},
	}
	for _, tt := range tests {
		s := NewSource("t", tt.src, TagSyntax{})
		a, next, err := s.LexAttr(len("<%@ "), strings.Index(tt.src, "%>"))
		got := fmt.Sprintf("%s %d", a.Name, next)
		if a.HasValue {
			got = fmt.Sprintf("%s=%s %d", a.Name, a.Value, next)
		}
		if err != nil {
			got = describe(nil, err)
		}
		if got != tt.want {
			t.Errorf("LexAttr(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestCheckAttrs(t *testing.T) {
	s := NewSource("global.lasa", "<object RunAt=' Server ' id=a ID=b runat>", TagSyntax{})
	tag, err := s.LexTag(0, "object")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckDuplicates(tag.Attrs); err == nil || err.Error() != "global.lasa:1: attribute ID given twice" {
		t.Errorf("CheckDuplicates: %v", err)
	}
	runat, ok := FindAttr(tag.Attrs, "runat")
	if !ok || runat.Name != "RunAt" {
		t.Fatalf("FindAttr(runat) = %+v, %v; want the first, RunAt", runat, ok)
	}
	if err := s.CheckRunat(runat); err != nil {
		t.Errorf("CheckRunat(%+v): %v", runat, err)
	}
	if err := s.CheckRunat(tag.Attrs[3]); err == nil || err.Error() != `global.lasa:1: runat must be "server", not ""` {
		t.Errorf("CheckRunat(runat without a value): %v", err)
	}
}
