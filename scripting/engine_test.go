package scripting

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
)

func runPage(t testing.TB, e *Engine, name string, query url.Values) (string, error) {
	t.Helper()
	p, err := e.Page(name)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = e.Run(t.Context(), &out, p, &Env{Request: &testRequest{query: query}, Response: &testResponse{}})
	return out.String(), err
}

func TestEngineSmoke(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{
		"a.lasp":      {Data: []byte("<p><%= 1+1 %></p>\n<% x = 1 %><%= x %>")},
		"err.lasp":    {Data: []byte("line1\n<% local t = nil %>\n<% t.x = 1 %>\n")},
		"inc.lasp":    {Data: []byte("a\n<!--#include file=\"x.inc\"-->\n")},
		"x.inc":       {Data: []byte("one\ntwo\n<% error('boom') %>\n")},
		"syntax.lasp": {Data: []byte("ok\n\n<% if then %>\n")},
	}})
	defer e.Close()
	out, err := runPage(t, e, "a.lasp", nil)
	if err != nil || out != "<p>2</p>\n1" {
		t.Fatalf("got %q, %v", out, err)
	}
	for name, want := range map[string]string{
		"err.lasp":    "err.lasp:3: ",
		"inc.lasp":    "x.inc:3: boom",
		"syntax.lasp": "syntax.lasp:3: ",
	} {
		_, err = runPage(t, e, name, nil)
		var se *Error
		if !errors.As(err, &se) || !strings.HasPrefix(se.Error(), want) {
			t.Errorf("%s: got %v, want prefix %q", name, err, want)
		}
		t.Logf("%s: %v\n%s", name, err, se.Traceback)
	}
}

// TestErrorChains: errors inside included files name the include chain, and
// an included file may not carry page directives.
func TestErrorChains(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{
		"p.lasp":   {Data: []byte("a\n<!--#include file=\"a.inc\"-->")},
		"a.inc":    {Data: []byte("b\n\n<!--#include file=\"b.inc\"-->")},
		"b.inc":    {Data: []byte("<% local t = nil; t.x = 1 %>")},
		"d.lasp":   {Data: []byte("x\n<!--#include file=\"dir.inc\"-->")},
		"dir.inc":  {Data: []byte(`<%@ ContentType="text/plain" %>`)},
		"gen.lasp": {Data: []byte("<% for i = 1, 3 %>x<%= i %>")},
	}})
	defer e.Close()
	for _, tc := range []struct {
		page, want string
		includes   []string
	}{
		{"p.lasp", "b.inc:1: attempt to index", []string{"p.lasp:2", "a.inc:3"}},
		{"d.lasp", "d.lasp:2: dir.inc has page directives", nil},
		{"gen.lasp", "gen.lasp:1: syntax error", nil},
	} {
		_, err := runPage(t, e, tc.page, nil)
		var se *Error
		if !errors.As(err, &se) || !strings.HasPrefix(se.Error(), tc.want) || strings.Contains(se.Error(), "__") {
			t.Errorf("%s: %v, want prefix %q", tc.page, err, tc.want)
			continue
		}
		if tc.includes != nil && strings.Join(chainStrings(se.Includes), " ") != strings.Join(tc.includes, " ") {
			t.Errorf("%s: includes %q, want %q", tc.page, se.Includes, tc.includes)
		}
	}
}
