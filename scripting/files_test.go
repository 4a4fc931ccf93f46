package scripting

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// testFile is an uploaded file of Request.Files, in memory. SaveAs records
// the paths it is given and answers "data/" and the path.
type testFile struct {
	name, ctype, data string
	readErr, saveErr  error
	saved             *[]string
}

func (f *testFile) Name() string        { return f.name }
func (f *testFile) Size() int64         { return int64(len(f.data)) }
func (f *testFile) ContentType() string { return f.ctype }
func (f *testFile) Read() (string, error) {
	if f.readErr != nil {
		return "", f.readErr
	}
	return f.data, nil
}
func (f *testFile) SaveAs(ctx context.Context, path string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if f.saveErr != nil {
		return "", f.saveErr
	}
	if f.saved != nil {
		*f.saved = append(*f.saved, path)
	}
	return "data/" + path, nil
}

// withFiles gives the case's request the uploaded files files.
func withFiles(files map[string][]File) func(*Env) {
	return func(e *Env) { e.Request.(*testRequest).files = files }
}

var (
	errDiskGone  = errors.New("the temporary file is gone")
	errLeavesDir = errors.New(`the path "../x" leaves data/`)
)

func TestFiles(t *testing.T) {
	a := &testFile{name: "a.png", ctype: "image/png", data: "PNG\x00data"}
	b := &testFile{name: "b.txt", ctype: "text/plain", data: "hello"}
	c := &testFile{name: "c.bin", data: ""}
	two := map[string][]File{"f": {a, b}, "Other": {c}}
	cases := []apiCase{
		{
			name: "Files[k] is the first file",
			env:  withFiles(two),
			page: `<% local f = Request.Files["f"] %><%= f.Name %>|<%= f.Size %>|<%= f.ContentType %>|<%= #f:Read() %>|<%= #f.Read() %>|<%= type(f) %>|<%= tostring(f) %>`,
			want: "a.png|8|image/png|8|8|userdata|a.png",
		},
		{
			name: "Files:Values gives every file of a field",
			env:  withFiles(two),
			page: `<% for _, f in ipairs(Request.Files:Values("f")) do %><%= f.Name %>=<%= f:Read() %>;<% end %>|<%= #Request.Files.Values("f") %>|<%= #Request.Files:Values("none") %>`,
			want: "a.png=PNG\x00data;b.txt=hello;|2|0",
		},
		{
			name: "Files:Keys, Count, Item, call and any case",
			env:  withFiles(two),
			page: `<%= table.concat(Request.Files:Keys(), ",") %>|<%= table.concat(Request.Files.Keys(), ",") %>|<%= Request.Files.Count %>|<%= Request.Files:Item("f").Name %>|<%= Request.Files("F").Name %>|<%= Request.Files.other.Name %>|<%= tostring(Request.Files.none) %>`,
			want: "Other,f|Other,f|2|a.png|a.png|c.bin|nil",
		},
		{
			name: "an empty file",
			env:  withFiles(two),
			page: `<% local f = Request.Files.Other %>[<%= f.ContentType %>]<%= f.Size %>[<%= f:Read() %>]`,
			want: "[]0[]",
		},
		{
			name: "a request without files",
			page: `<%= Request.Files.Count %>|<%= #Request.Files:Keys() %>|<%= tostring(Request.Files.f) %>|<%= tostring(Request.Files) %>`,
			want: "0|0|nil|Request.Files",
		},
		{
			name: "Files are not in Request(k)",
			env:  withFiles(two),
			page: `<%= tostring(Request("f")) %>`,
			want: "nil",
		},
		{
			name: "SaveAs with . and :",
			env:  withFiles(two),
			page: `<%= Request.Files.f:SaveAs("uploads/a.png") %>|<%= Request.Files.f.SaveAs("b.png") %>`,
			want: "data/uploads/a.png|data/b.png",
		},
		{
			name: "SaveAs without a path",
			env:  withFiles(two),
			page: "\n\n<% Request.Files.f:SaveAs() %>",
			err:  "t.lasp:3: bad argument #1 to SaveAs",
		},
		{
			name:  "a SaveAs error at the page's line",
			env:   withFiles(map[string][]File{"f": {&testFile{name: "a", saveErr: errLeavesDir}}}),
			page:  "<% local f = Request.Files.f %>\n\n<% f:SaveAs('../x') %>",
			err:   `t.lasp:3: Request.Files: SaveAs: the path "../x" leaves data/`,
			check: wantCause(errLeavesDir),
		},
		{
			name:  "a Read error at the page's line",
			env:   withFiles(map[string][]File{"f": {&testFile{name: "a", readErr: errDiskGone}}}),
			page:  "\n<%= #Request.Files.f.Read() %>",
			err:   "t.lasp:2: Request.Files: Read: the temporary file is gone",
			check: wantCause(errDiskGone),
		},
		{
			name: "a caught SaveAs error",
			env:  withFiles(map[string][]File{"f": {&testFile{name: "a", saveErr: errLeavesDir}}}),
			page: `<% local ok, err = pcall(Request.Files.f.SaveAs, "../x") %><%= ok %>|<%= err %>`,
			want: `false|t.lasp:1: Request.Files: SaveAs: the path &#34;../x&#34; leaves data/`,
		},
		{
			name: "a file's fields cannot be set",
			env:  withFiles(two),
			page: "\n<% Request.Files.f.Name = 'x.sh' %>",
			err:  "t.lasp:2: Request.Files: a file's Name cannot be set",
		},
		{
			name: "an unknown member is nil",
			env:  withFiles(two),
			page: `<%= tostring(Request.Files.f.Nope) %>`,
			want: "nil",
		},
		{
			name:    "Files of a body that cannot be read",
			env:     withFiles(two),
			bodyErr: errTooLarge,
			page:    "\n<%= Request.Files.Count %>",
			err:     "t.lasp:2: Request.Files: request body too large",
			check:   wantCause(errTooLarge),
		},
		{
			name: "Request.Files cannot be set",
			env:  withFiles(two),
			page: "\n<% Request.Files.f = 1 %>",
			err:  "t.lasp:2: Request.Files.f cannot be set",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkAPICase(t, c, runAPICase(t, c))
		})
	}
}

// A file kept past its request (here in a module, which lives as long as
// its Lua state) cannot be read or saved: its temporary file is gone.
func TestFilesOutliveTheirRun(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/keep.lua": {Data: []byte(`return {}`)},
		"keep.lasp":    {Data: []byte(`<% require("keep").f = Request.Files.f %>kept`)},
		"read.lasp":    {Data: []byte("<% local f = require(\"keep\").f %><%= f.Name %>\n<%= f:Read() %>")},
	}
	e := New(Config{FS: fsys})
	t.Cleanup(e.Close)
	run := func(page string, files map[string][]File) (string, error) {
		p, err := e.Page(page)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		env := &Env{Request: &testRequest{files: files}, Response: &testResponse{}}
		err = e.Run(t.Context(), &out, p, env)
		return out.String(), err
	}
	if out, err := run("keep.lasp", map[string][]File{"f": {&testFile{name: "a.txt", data: "a"}}}); err != nil || out != "kept" {
		t.Fatalf("keep.lasp: %q, %v", out, err)
	}
	_, err := run("read.lasp", nil)
	if err == nil || !strings.Contains(err.Error(), `read.lasp:2: Request.Files: Read: the file "a.txt" came with a request that has ended`) {
		t.Fatalf("read.lasp: %v, want the error that the file's request has ended", err)
	}
}
