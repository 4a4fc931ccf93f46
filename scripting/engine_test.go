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
	err = e.Run(t.Context(), &out, p, &Env{Request: &testRequest{query}, Response: &testResponse{}})
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
