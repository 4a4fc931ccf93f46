package globalfile

import (
	"errors"
	"strings"
	"testing"

	"lasp/internal/scan"
)

// FuzzParse checks that Parse never panics, that errors are *Error values
// pointing inside the input, and that a parsed file keeps the position
// contract: objects at their tags, script code the exact source at its
// position.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"\uFEFF \r\n",
		specExample,
		crlf(specExample),
		strings.ReplaceAll(specExample, "\n", "\r"), // lines ended as Lua ends them
		"<!-- <object runat=server scope=page id=x progid=A/> -->\n<object runat=server scope=page id=x progid=A/>",
		"<OBJECT RUNAT=Server SCOPE=SESSION ID=Cart PROGID=Shop.Cart/>",
		"<object runat = ' server ' scope='application' id='c' progid=' Lasp.Counters '>\n</OBJECT >",
		"<script runat=server>a()</script><script language=LUA runat=server>b()</script\n>",
		"<script runat=server>s = \"</script>\"</script>",
		"<object runat=server scope=page id=a progid=A/>\n<object runat=server scope=page id=a progid=A/>",
		"<object runat=server scope=page id=a progid=A>\nx</object>",
		"<object runat=server scope=page id=a progid=A classid=x/>",
		"<object runat=server scope=Global id=Session progid=../x/>",
		"<script runat=server>\nfunction f()\n",
		"<!--#include file=\"a.inc\"-->",
		"<% x %><html>text",
		"<object runat=\"server",
		"<!-- unclosed",
		"</script>",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse("global.lasa", src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.Name != "global.lasa" {
				t.Fatalf("error names %q, want global.lasa", pe.Name)
			}
			checkError(t, src, "global.lasa", pe)
			return
		}
		if file.Name != "global.lasa" {
			t.Fatalf("Name = %q, want global.lasa", file.Name)
		}
		checkFile(t, src, file)
		chunk := file.LuaChunk()
		if got, max := strings.Count(chunk, "\n"), len(scan.LineStarts(src))-1; got > max {
			t.Fatalf("LuaChunk holds %d newlines, the source %d line breaks", got, max)
		}
	})
}
