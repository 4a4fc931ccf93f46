package lpattern

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// diffCase is one input of the differential test.
type diffCase struct {
	subject, pattern string
	init             int
	repl             string
	n                int
}

// diffCases are realistic patterns (many from Lua 5.1's pm.lua), gopher-lua's
// quirks and malformed patterns.
var diffCases = []diffCase{
	// Empty patterns and subjects, init.
	{subject: "", pattern: "", init: 1, repl: "x", n: -1},
	{subject: "alo", pattern: "", init: 5, repl: "x", n: 2},
	{subject: "alo", pattern: "", init: -10, repl: "%0%1", n: 0},
	{subject: "a\x00o a\x00o a\x00o", pattern: "a", init: 1, repl: "b", n: -1},
	{subject: "a\x00o a\x00o a\x00o", pattern: "a\x00o", init: 2, repl: "%0!", n: 2},
	{subject: "a\x00o a\x00o a\x00o", pattern: "a\x00o", init: 9, repl: "", n: 1},
	{subject: "a\x00a\x00a\x00a\x00\x00ab", pattern: "\x00ab", init: 2, repl: "-", n: -1},
	{subject: "a\x00a\x00a\x00a\x00\x00ab", pattern: "b\x00", init: 1, repl: "-", n: -1},
	{subject: "", pattern: "\x00", init: 1, repl: "-", n: -1},
	{subject: "alo123alo", pattern: "12", init: -4, repl: "%%", n: -1},
	{subject: "alo123alo", pattern: "^12", init: 4, repl: "x", n: -1},
	{subject: "alo123alo", pattern: "alo", init: 0, repl: "x", n: 1},
	{subject: "alo123alo", pattern: "alo", init: 100, repl: "x", n: 1},
	{subject: "alo123alo", pattern: "o", init: -1, repl: "x", n: 0},
	{subject: "xalo", pattern: "a", init: 1, repl: "y", n: 0},
	{subject: "alo", pattern: "a", init: 1, repl: "y", n: -5},
	// Classes and quantifiers.
	{subject: "aloALO", pattern: "%l*", init: 1, repl: "[%0]", n: -1},
	{subject: "aLo_ALO", pattern: "%a*", init: 1, repl: "[%0]", n: -1},
	{subject: "aaab", pattern: "a*", init: 1, repl: "-", n: -1},
	{subject: "aaa", pattern: "^.*$", init: 1, repl: "-", n: -1},
	{subject: "aaa", pattern: "b*", init: 1, repl: "-", n: -1},
	{subject: "aaa", pattern: "ab*a", init: 1, repl: "-", n: -1},
	{subject: "aba", pattern: "ab*a", init: 1, repl: "-", n: -1},
	{subject: "aaab", pattern: "a+", init: 1, repl: "-", n: -1},
	{subject: "aaa", pattern: "^.+$", init: 1, repl: "-", n: -1},
	{subject: "aaa", pattern: "ab+a", init: 1, repl: "-", n: -1},
	{subject: "a$a", pattern: ".$", init: 1, repl: "-", n: -1},
	{subject: "a$a", pattern: ".%$", init: 1, repl: "-", n: -1},
	{subject: "a$a", pattern: ".$.", init: 1, repl: "-", n: -1},
	{subject: "a$a", pattern: "$$", init: 1, repl: "-", n: -1},
	{subject: "a$b", pattern: "a$", init: 1, repl: "-", n: -1},
	{subject: "a$a", pattern: "$", init: 1, repl: "-", n: -1},
	{subject: "aaab", pattern: "a-", init: 1, repl: "-", n: -1},
	{subject: "aaa", pattern: "^.-$", init: 1, repl: "-", n: -1},
	{subject: "aabaaabaaabaaaba", pattern: "b.*b", init: 1, repl: "-", n: -1},
	{subject: "aabaaabaaabaaaba", pattern: "b.-b", init: 1, repl: "-", n: -1},
	{subject: "alo xo", pattern: ".o$", init: 1, repl: "-", n: -1},
	{subject: " \n isto \xe9 assim", pattern: "%S%S*", init: 1, repl: "-", n: -1},
	{subject: " \n isto \xe9 assim", pattern: "%S*$", init: 1, repl: "-", n: -1},
	{subject: " \n isto \xe9 assim", pattern: "[a-z]*$", init: 1, repl: "-", n: -1},
	{subject: "um caracter ? extra", pattern: "[^%sa-z]", init: 1, repl: "-", n: -1},
	{subject: "", pattern: "a?", init: 1, repl: "-", n: -1},
	{subject: "\xe1bl", pattern: "\xe1?b?l?", init: 1, repl: "-", n: -1},
	{subject: "  \xe1bl", pattern: "\xe1?b?l?", init: 1, repl: "-", n: -1},
	{subject: "aa", pattern: "^aa?a?a", init: 1, repl: "-", n: -1},
	{subject: "]]]\xe1b", pattern: "[^]]", init: 1, repl: "-", n: -1},
	{subject: "]]]\xe1b", pattern: "[^%]]", init: 1, repl: "-", n: -1},
	{subject: "0alo alo", pattern: "%x*", init: 1, repl: "-", n: -1},
	{subject: "alo alo", pattern: "%C+", init: 1, repl: "-", n: -1},
	{subject: "a.b-c_d e\tf\x7fg\x00h", pattern: "%p", init: 1, repl: "<%0>", n: -1},
	{subject: "a.b-c_d e\tf\x7fg\x00h", pattern: "[%c%s]", init: 1, repl: "<%0>", n: -1},
	{subject: "a.b-c_d e\tf\x7fg\x00h", pattern: "%z", init: 1, repl: "<%0>", n: -1},
	{subject: "ABC abc 123 xyz", pattern: "%u+", init: 1, repl: "<%0>", n: -1},
	{subject: "ABC abc 123 xyz", pattern: "[%U]+", init: 1, repl: "<%0>", n: -1},
	{subject: "ABC abc 123 xyz", pattern: "%W", init: 1, repl: "<%0>", n: -1},
	{subject: "ABC abc 123 xyz", pattern: "%D%X", init: 1, repl: "<%0>", n: -1},
	{subject: "deadBEEF 0x12", pattern: "0x(%x+)", init: 1, repl: "%1", n: -1},
	// Sets.
	{subject: "abcxyz-09", pattern: "[a-c]+", init: 1, repl: "-", n: -1},
	{subject: "abcxyz-09", pattern: "[a-]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[a%-z]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[-a]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[a--]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[a--z]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[a-c-z]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[a-%d]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[%d-z]", init: 1, repl: "_", n: -1},
	{subject: "abcxyz-09", pattern: "[z-a]", init: 1, repl: "_", n: -1},
	{subject: "a]b[c^d", pattern: "[]]", init: 1, repl: "_", n: -1},
	{subject: "a]b[c^d", pattern: "[^]", init: 1, repl: "_", n: -1},
	{subject: "a]b[c^d", pattern: "[^^]", init: 1, repl: "_", n: -1},
	{subject: "a]b[c^d", pattern: "[[]", init: 1, repl: "_", n: -1},
	{subject: "a]b[c^d.", pattern: "[.]", init: 1, repl: "_", n: -1},
	{subject: "a]b[c^d", pattern: "[%^%[%-a%]%-b]", init: 1, repl: "_", n: -1},
	{subject: "a%]b", pattern: "[%]%%]", init: 1, repl: "_", n: -1},
	{subject: "a%]b", pattern: "[]%%]", init: 1, repl: "_", n: -1},
	{subject: "\x01\x7f\x80\xff", pattern: "[\x80-\xff]", init: 1, repl: "_", n: -1},
	// Captures and back references.
	{subject: "alo xyzK", pattern: "(%w+)K", init: 1, repl: "%1", n: -1},
	{subject: "254 K", pattern: "(%d*)K", init: 1, repl: "%1", n: -1},
	{subject: "alo ", pattern: "(%w*)$", init: 1, repl: "%1", n: -1},
	{subject: "alo ", pattern: "(%w+)$", init: 1, repl: "%1", n: -1},
	{subject: "(\xe1lo)", pattern: "%(\xe1", init: 1, repl: "%1", n: -1},
	{subject: "\xe1lo alo", pattern: "^(((.).).* (%w*))$", init: 1, repl: "%4%3%2%1", n: -1},
	{subject: "0123456789", pattern: "(.+(.?)())", init: 1, repl: "%3", n: -1},
	{subject: "alo alx 123 b\x00o b\x00o", pattern: "(..*) %1", init: 1, repl: "%1", n: -1},
	{subject: "axz123= 4= 4 34", pattern: "(.+)=(.*)=%2 %1", init: 1, repl: "%2", n: -1},
	{subject: "=======", pattern: "^(=*)=%1$", init: 1, repl: "%1", n: -1},
	{subject: "==========", pattern: "^([=]*)=%1$", init: 1, repl: "%1", n: -1},
	{subject: "xuxx uu ppar r", pattern: "()(.)%2", init: 1, repl: "%1", n: -1},
	{subject: "ab", pattern: "ab()%1", init: 1, repl: "%1", n: -1},
	{subject: "abab", pattern: "()ab%1", init: 1, repl: "%1", n: -1},
	{subject: "xab", pattern: "(a(b)%1)", init: 1, repl: "%1", n: -1},
	{subject: "ab", pattern: "(a(b)%1)", init: 1, repl: "%1", n: -1},
	{subject: "abc", pattern: "(a%1)", init: 1, repl: "%1", n: -1},
	{subject: "abc", pattern: "(a)(b%2)", init: 1, repl: "%1", n: -1},
	{subject: "abc", pattern: "x%1", init: 1, repl: "%1", n: -1},
	{subject: "abc", pattern: "%1", init: 1, repl: "%1", n: -1},
	{subject: "abc", pattern: "()", init: 2, repl: "%1", n: -1},
	{subject: "abc", pattern: "()()", init: -1, repl: "%2%1", n: -1},
	{subject: "hello world from lua", pattern: "(%w+) (%w+)", init: 1, repl: "%2 %1", n: -1},
	{subject: "abc=xyz", pattern: "(%w*)(%p)(%w+)", init: 1, repl: "%3%2%1-%0", n: -1},
	{subject: "abc", pattern: "%w", init: 1, repl: "%1%0", n: -1},
	{subject: "abc", pattern: "%w+", init: 1, repl: "%0%1", n: -1},
	{subject: "abc", pattern: "(%w)", init: 1, repl: "%2", n: -1},
	{subject: "abc", pattern: "(%w)", init: 1, repl: "%9", n: -1},
	{subject: "abc", pattern: "x", init: 1, repl: "%9", n: -1},
	{subject: "abc", pattern: "%w", init: 1, repl: "%a%%%", n: -1},
	{subject: "abc", pattern: "%w", init: 1, repl: "%", n: -1},
	{subject: "abc", pattern: "%w", init: 1, repl: "%%%%", n: -1},
	{subject: "alo alo", pattern: "()[al]", init: 1, repl: "%1", n: -1},
	{subject: "alo alo", pattern: "((.)(.?))", init: 1, repl: "%3", n: -1},
	{subject: "a alo jose  joao", pattern: "()(%w+)()", init: 1, repl: "%1-%3", n: -1},
	{subject: "13 14 10 = 11, 15= 16, 22=23", pattern: "(%d+)%s*=%s*(%d+)", init: 1, repl: "%2=%1", n: -1},
	{subject: "abcde", pattern: "()", init: 1, repl: "%1", n: -1},
	{subject: "a", pattern: "((((((((((a))))))))))", init: 1, repl: "%9", n: -1},
	// Anchors and specials in odd places.
	{subject: "", pattern: "^", init: 1, repl: "r", n: -1},
	{subject: "", pattern: "$", init: 1, repl: "r", n: -1},
	{subject: "\xe1\xe9\xed", pattern: "$", init: 1, repl: "\x00\xf3\xfa", n: -1},
	{subject: "a^b", pattern: "a^b", init: 1, repl: "-", n: -1},
	{subject: "^a", pattern: "^^a", init: 1, repl: "-", n: -1},
	{subject: "a*b", pattern: "a**", init: 1, repl: "-", n: -1},
	{subject: "*+?-", pattern: "*+?-", init: 1, repl: "-", n: -1},
	{subject: "a$b$", pattern: "(b$)", init: 1, repl: "-", n: -1},
	{subject: "a-b", pattern: "^-", init: 1, repl: "-", n: -1},
	{subject: "x()y", pattern: "()+", init: 1, repl: "-", n: -1},
	{subject: "x(a)y", pattern: "(a)*", init: 1, repl: "-", n: -1},
	{subject: "abc", pattern: "(a)-", init: 1, repl: "-", n: -1},
	// %b and %f (gopher-lua has no frontier: %f is the letter f).
	{subject: "(9 ((8))(\x00) 7) \x00\x00 a b ()(c)() a", pattern: "%b()", init: 1, repl: "", n: -1},
	{subject: "(9 ((8) 7) a b (\x00 c) a", pattern: "%b()", init: 1, repl: "", n: -1},
	{subject: "alo 'oi' alo", pattern: "%b''", init: 1, repl: "\"", n: -1},
	{subject: "f(a(b)c) g(d)", pattern: "%w%b()", init: 1, repl: "<%0>", n: -1},
	{subject: "a(b", pattern: "%b(", init: 1, repl: "-", n: -1},
	{subject: "a(b", pattern: "%b", init: 1, repl: "-", n: -1},
	{subject: "a(b)", pattern: "%b()+", init: 1, repl: "-", n: -1},
	{subject: "aaa aa a aaa a", pattern: "%f[%w]a", init: 1, repl: "x", n: -1},
	{subject: "faaa f[a", pattern: "%f[%w]a", init: 1, repl: "x", n: -1},
	// Malformed patterns.
	{subject: "alo", pattern: "(.", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: ".)", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: ")", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "((.)", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "(%1)", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "(%0)", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[a", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[^", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[]", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[%", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[%]", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "[a-", init: 1, repl: "-", n: -1},
	{subject: "alo%", pattern: "o%", init: 1, repl: "-", n: -1},
	{subject: "alo%", pattern: "%", init: 1, repl: "-", n: -1},
	{subject: "alo", pattern: "%g", init: 1, repl: "-", n: -1},
	// Everyday patterns.
	{subject: "  alo alo  ", pattern: "^%s*(.-)%s*$", init: 1, repl: "%1", n: -1},
	{subject: "alo  alo  \n 123\n ", pattern: "%s+", init: 1, repl: " ", n: -1},
	{subject: "alo \xe1lo  ", pattern: " +$", init: 1, repl: "", n: -1},
	{subject: "key1=val1&key2=val2&k3=", pattern: "([^&=]+)=([^&=]*)", init: 1, repl: "%2:%1", n: -1},
	{subject: "2024-01-15", pattern: "(%d+)-(%d+)-(%d+)", init: 1, repl: "%3/%2/%1", n: -1},
	{subject: "user@example.com", pattern: "^[%w%.%-_]+@[%w%.%-]+%.%a+$", init: 1, repl: "-", n: -1},
	{subject: "/path/to/file.txt", pattern: "([^/]+)$", init: 1, repl: "%1", n: -1},
	{subject: "/path/to/file.txt", pattern: "^(.-)%.(%w+)$", init: 1, repl: "%2", n: -1},
	{subject: "a,b,,c", pattern: "[^,]+", init: 1, repl: "<%0>", n: -1},
	{subject: "a,b,,c", pattern: "([^,]*)", init: 1, repl: "<%1>", n: -1},
	{subject: "<b>bold</b>", pattern: "<(/?)(%w+)>", init: 1, repl: "[%1%2]", n: -1},
	{subject: "hello %s and %d", pattern: "%%(%a)", init: 1, repl: "{%1}", n: -1},
	{subject: "10-20 30-40", pattern: "(%d+)-(%d+)", init: 4, repl: "%2-%1", n: 1},
	{subject: "CamelCaseString", pattern: "(%u)", init: 1, repl: "_%1", n: -1},
	{subject: "line1\nline2\r\nline3", pattern: "[^\r\n]+", init: 1, repl: "(%0)", n: -1},
	{subject: "a b c", pattern: "%w", init: 1, repl: "b", n: 2},
	{subject: "a b c", pattern: "%w", init: 1, repl: "c", n: -1},
	{subject: "ab", pattern: ".", init: 1, repl: "", n: -1},
}

func TestDifferential(t *testing.T) {
	d := newDiffer(t)
	for _, c := range diffCases {
		orig, ours, skip := d.run(t, c.subject, c.pattern, c.init, c.repl, c.n)
		if skip {
			t.Errorf("s=%q p=%q: over the step guard: %s", c.subject, c.pattern, ours)
			continue
		}
		compare(t, c.subject, c.pattern, orig, ours)
	}
}

// Fuzz input bounds: gopher-lua's matcher cannot be stopped, so subjects and
// patterns stay short.
const (
	maxFuzzSubject = 48
	maxFuzzPattern = 24
	maxFuzzRepl    = 12
)

func FuzzDifferential(f *testing.F) {
	for _, c := range diffCases {
		f.Add(c.subject, c.pattern, c.init, c.repl, c.n)
	}
	d := newDiffer(f)
	f.Fuzz(func(t *testing.T, s, p string, init int, repl string, n int) {
		if len(s) > maxFuzzSubject || len(p) > maxFuzzPattern || len(repl) > maxFuzzRepl {
			t.Skip()
		}
		init %= 2*maxFuzzSubject + 4
		n = n % 6
		orig, ours, skip := d.run(t, s, p, init, repl, n)
		if skip {
			t.Skip()
		}
		compare(t, s, p, orig, ours)
	})
}

// TestLua51PatternSuite runs Lua 5.1's pm.lua (as shipped with gopher-lua,
// which passes it) with the functions of this package installed.
func TestLua51PatternSuite(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(gopherLuaDir(t), "_lua5.1-tests", "pm.lua"))
	if err != nil {
		t.Skipf("pm.lua not available: %v", err)
	}
	L := lua.NewState()
	defer L.Close()
	Install(L, L.GetGlobal("string").(*lua.LTable), 0)
	L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	if err := L.DoString(string(src)); err != nil {
		t.Fatal(err)
	}
}

// gopherLuaDir returns the directory of the gopher-lua module in use.
func gopherLuaDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yuin/gopher-lua").Output()
	if err != nil {
		t.Skipf("locating gopher-lua: %v", err)
	}
	return strings.TrimSpace(string(out))
}
