package scan

import "testing"

func TestCloseTag(t *testing.T) {
	for _, tc := range []struct {
		lower, name string
		from        int
		start, end  int
	}{
		{lower: "a</script>b", name: "script", start: 1, end: 10},
		{lower: "</script \n >", name: "script", start: 0, end: 12},
		{lower: "</scripts></script>", name: "script", start: 10, end: 19},
		{lower: "</script", name: "script", start: -1, end: -1},
		{lower: "x</script>", name: "script", from: 2, start: -1, end: -1},
		{lower: "", name: "object", start: -1, end: -1},
	} {
		start, end := CloseTag(tc.lower, tc.from, tc.name)
		if start != tc.start || end != tc.end {
			t.Errorf("CloseTag(%q, %d, %q) = %d, %d; want %d, %d", tc.lower, tc.from, tc.name, start, end, tc.start, tc.end)
		}
	}
}

func TestIsLuaIdentifier(t *testing.T) {
	for s, want := range map[string]bool{
		"x": true, "_x9": true, "Fido_2": true, "": false, "9x": false, "a-b": false, "é": false, "a.b": false,
	} {
		if got := IsLuaIdentifier(s); got != want {
			t.Errorf("IsLuaIdentifier(%q) = %v", s, got)
		}
	}
	if !IsLuaKeyword("goto") || !IsLuaKeyword("end") || IsLuaKeyword("End") {
		t.Error("IsLuaKeyword: goto and end are keywords, End is not")
	}
}

func TestASCIILower(t *testing.T) {
	if got := ASCIILower("<SCRIPT Ünï>"); got != "<script Ünï>" || len(got) != len("<SCRIPT Ünï>") {
		t.Errorf("ASCIILower: %q", got)
	}
}

func TestLineCol(t *testing.T) {
	lines := LineStarts("ab\ncd\n\ne")
	for _, tc := range []struct{ off, line, col int }{
		{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {6, 3, 1}, {7, 4, 1}, {8, 4, 2},
	} {
		if line, col := LineCol(lines, tc.off); line != tc.line || col != tc.col {
			t.Errorf("LineCol(%d) = %d:%d, want %d:%d", tc.off, line, col, tc.line, tc.col)
		}
	}
}

// TestLineBreaks: a line ends as gopher-lua's lexer ends one: at "\n",
// "\r", "\r\n" or "\n\r"; LuaNewlines writes each as "\n".
func TestLineBreaks(t *testing.T) {
	for _, tc := range []struct {
		src, lua string
		lines    int
	}{
		{"a\nb", "a\nb", 2},
		{"a\r\nb", "a\nb", 2},
		{"a\rb", "a\nb", 2},
		{"a\n\rb", "a\nb", 2},
		{"a\r\rb", "a\n\nb", 3},
		{"a\n\nb", "a\n\nb", 3},
		{"a\r\n\r\nb", "a\n\nb", 3},
		{"a\n\r\nb", "a\n\nb", 3},
		{"ab", "ab", 1},
		{"\r", "\n", 2},
	} {
		if got := len(LineStarts(tc.src)); got != tc.lines {
			t.Errorf("LineStarts(%q): %d lines, want %d", tc.src, got, tc.lines)
		}
		if got := LuaNewlines(tc.src); got != tc.lua {
			t.Errorf("LuaNewlines(%q) = %q, want %q", tc.src, got, tc.lua)
		}
	}
}
