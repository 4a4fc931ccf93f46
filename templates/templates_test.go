package templates

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestWriteDevError(t *testing.T) {
	src := "<h1>\n<% local x = nil %>\n<%= x.y %>\n</h1>\n"
	e := DevError{
		Status:    500,
		Title:     "Lua runtime error",
		Message:   `cart/checkout.lasp:3: attempt to index a nil value <script>alert("m")</script>`,
		File:      "cart/<b>checkout</b>.lasp",
		Line:      3,
		Source:    SourceAround(src, 3, 5),
		Traceback: "stack traceback:\n\t[G]: in function <script>t</script>",
		RequestID: "req-<42>",
	}
	var b strings.Builder
	if err := WriteDevError(&b, e); err != nil {
		t.Fatal(err)
	}
	page := b.String()

	for _, want := range []string{
		"<title>Lua runtime error in cart/&lt;b&gt;checkout&lt;/b&gt;.lasp</title>",
		"500 Internal Server Error",
		"attempt to index a nil value &lt;script&gt;alert(&#34;m&#34;)&lt;/script&gt;",
		"<code>cart/&lt;b&gt;checkout&lt;/b&gt;.lasp:3</code>",
		"stack traceback:\n\t[G]: in function &lt;script&gt;t&lt;/script&gt;",
		"req-&lt;42&gt;",
		`<td class="n">1</td><td>&lt;h1&gt;</td>`,
		`<td class="n">4</td><td>&lt;/h1&gt;</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "<b>", "<42>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	current := regexp.MustCompile(`<tr class="current"[^>]*><td class="n">(\d+)</td><td>([^<]*)</td></tr>`).FindAllStringSubmatch(page, -1)
	if len(current) != 1 || current[0][1] != "3" || current[0][2] != "&lt;%= x.y %&gt;" {
		t.Errorf("current lines = %q, want line 3 only", current)
	}
}

func TestWriteDevErrorMinimal(t *testing.T) {
	var b strings.Builder
	if err := WriteDevError(&b, DevError{Message: "boom"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"500 Internal Server Error", "<h1>Internal Server Error</h1>", "boom"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, absent := range []string{"Source", "traceback", "Request ID", "class=\"where\""} {
		if strings.Contains(page, absent) {
			t.Errorf("page without that detail holds %q", absent)
		}
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		status    int
		requestID string
		want      []string
	}{
		{500, "abc123", []string{"<h1>Internal Server Error</h1>", "<code>abc123</code>", "went wrong"}},
		{404, "", []string{"<title>404 Not Found</title>", "no page at this address"}},
		{413, "r<1>", []string{"Request Entity Too Large", "r&lt;1&gt;"}},
		{503, "x", []string{"Service Unavailable", "try again"}},
		{599, "x", []string{"<h1>Error</h1>", "599"}},
		{418, "", []string{"I&#39;m a teapot", "could not be handled"}},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := WriteError(&b, tt.status, tt.requestID); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		for _, want := range tt.want {
			if !strings.Contains(page, want) {
				t.Errorf("WriteError(%d, %q) lacks %q:\n%s", tt.status, tt.requestID, want, page)
			}
		}
		if tt.requestID == "" && strings.Contains(page, "Request ID") {
			t.Errorf("WriteError(%d, \"\") mentions a request ID", tt.status)
		}
		for _, detail := range []string{"traceback", ".lasp", "Lua", "<pre"} {
			if strings.Contains(page, detail) {
				t.Errorf("WriteError(%d) shows a detail: %q", tt.status, detail)
			}
		}
	}
}

func TestSourceAround(t *testing.T) {
	five := "one\ntwo\nthree\nfour\nfive\n"
	tests := []struct {
		name   string
		src    string
		line   int
		radius int
		want   []int // line numbers; the current one is line
	}{
		{name: "middle", src: five, line: 3, radius: 1, want: []int{2, 3, 4}},
		{name: "first line", src: five, line: 1, radius: 2, want: []int{1, 2, 3}},
		{name: "last line", src: five, line: 5, radius: 2, want: []int{3, 4, 5}},
		{name: "radius beyond file", src: five, line: 2, radius: 100, want: []int{1, 2, 3, 4, 5}},
		{name: "radius zero", src: five, line: 4, radius: 0, want: []int{4}},
		{name: "negative radius", src: five, line: 4, radius: -3, want: []int{4}},
		{name: "no final newline", src: "a\nb", line: 2, radius: 1, want: []int{1, 2}},
		{name: "empty last line", src: "a\n\n", line: 2, radius: 1, want: []int{1, 2}},
		{name: "line zero", src: five, line: 0, radius: 2},
		{name: "line past the end", src: five, line: 6, radius: 2},
		{name: "empty source", src: "", line: 1, radius: 2},
		{name: "one line", src: "only", line: 1, radius: 3, want: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SourceAround(tt.src, tt.line, tt.radius)
			var nums []int
			for _, l := range got {
				nums = append(nums, l.Number)
				if l.Current != (l.Number == tt.line) {
					t.Errorf("line %d: Current = %v", l.Number, l.Current)
				}
			}
			if !slices.Equal(nums, tt.want) {
				t.Errorf("lines %v, want %v", nums, tt.want)
			}
		})
	}
	got := SourceAround("a\r\nb\r\n", 2, 1)
	want := []SourceLine{{1, "a", false}, {2, "b", true}}
	if !slices.Equal(got, want) {
		t.Errorf("CRLF: %+v, want %+v", got, want)
	}
}

func TestStarter(t *testing.T) {
	starter := Starter()
	var files []string
	err := fs.WalkDir(starter, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"css/site.css",
		"global.lasa",
		"inc/footer.inc",
		"inc/header.inc",
		"index.lasp",
		"lib/greeting.lua",
	}
	if !slices.Equal(files, want) {
		t.Errorf("starter files %q, want %q", files, want)
	}
	if err := fstest.TestFS(starter, want...); err != nil {
		t.Error(err)
	}

	read := func(name string) string {
		b, err := fs.ReadFile(starter, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	index := read("index.lasp")
	for _, want := range []string{
		`<%= Request.QueryString["name"] or "world" %>`,
		`require("greeting")`,
		`<!--#include file="inc/header.inc"-->`,
		`<!--#include file="inc/footer.inc"-->`,
		`href="css/site.css"`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index.lasp lacks %q", want)
		}
	}
	global := read("global.lasa")
	for _, want := range []string{`<script runat="server" language="lua">`, "</script>", "-- function Application_OnStart()", "-- function Session_OnStart()"} {
		if !strings.Contains(global, want) {
			t.Errorf("global.lasa lacks %q", want)
		}
	}
	if !strings.Contains(read("lib/greeting.lua"), "return M") {
		t.Error("lib/greeting.lua does not return its module")
	}
}
