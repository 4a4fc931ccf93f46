package framework

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the want sections of testdata/docs/*.txtar")

// docFiles are the documents whose examples must all be tested.
var docFiles = []string{"../docs/pages.md", "../docs/lua-api.md", "../docs/sessions.md", "../docs/data.md"}

// docsDir is the application directory the docs examples run in, as
// Server.MapPath reports it.
const docsDir = "/srv/myapp"

// docCase is one testdata/docs/*.txtar archive: an application, a request
// and the response it must get.
//
// The archive's format is that of testdata/golden: the comment's first line
// is the URL when it starts with "/" (default /index.lasp), the files are the
// application, and the file "want" is the exact response body. Because txtar
// ends every file with a newline, a body without a final newline is stored
// with one. Further comment lines of the form "Key: value" describe the
// request and what else the response must have:
//
//	Method: POST                  the request method (default GET)
//	Header: Name: value           a request header (repeatable)
//	Body: text                    the request body, one line
//	Status: 404                   the response status (default 200)
//	Want-Header: Name: value      a response header value (repeatable)
//	Want-Header: Name             a response header that must be present
//	Data: yes                     the app's own directory is its Dir (data/,
//	                              SQLite, uploads), not docsDir
//
// Other comment lines describe the case. Redirects are not followed.
type docCase struct {
	name        string
	file        string
	ar          *txtar.Archive
	want        int               // index of the want file in ar.Files
	files       map[string]string // the application
	url         string
	page        string // the application file the URL runs
	method      string
	headers     [][2]string
	body        string
	status      int
	wantHeaders [][2]string
	data        bool // Dir is the app's own directory
}

func loadDocCase(file string) (*docCase, error) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		return nil, err
	}
	c := &docCase{
		name:   strings.TrimSuffix(filepath.Base(file), ".txtar"),
		file:   file,
		ar:     ar,
		want:   -1,
		files:  map[string]string{},
		url:    "/index.lasp",
		method: "GET",
		status: http.StatusOK,
	}
	for i, f := range ar.Files {
		if f.Name == "want" {
			c.want = i
			continue
		}
		c.files[f.Name] = string(f.Data)
	}
	if c.want < 0 {
		return nil, fmt.Errorf("%s: no want file", file)
	}
	for i, line := range strings.Split(string(ar.Comment), "\n") {
		if i == 0 && strings.HasPrefix(line, "/") {
			c.url = strings.TrimSpace(line)
			continue
		}
		key, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch key {
		case "Method":
			c.method = value
		case "Body":
			c.body = value
		case "Data":
			c.data = value == "yes"
		case "Status":
			if c.status, err = strconv.Atoi(value); err != nil {
				return nil, fmt.Errorf("%s: %q: %v", file, line, err)
			}
		case "Header", "Want-Header":
			name, v, _ := strings.Cut(value, ": ")
			if key == "Header" {
				c.headers = append(c.headers, [2]string{name, v})
			} else {
				c.wantHeaders = append(c.wantHeaders, [2]string{name, v})
			}
		}
	}
	p, _, _ := strings.Cut(c.url, "?")
	if strings.HasSuffix(p, "/") {
		p += "index.lasp"
	}
	c.page = path.Clean(strings.TrimPrefix(p, "/"))
	if _, ok := c.files[c.page]; !ok {
		return nil, fmt.Errorf("%s: no file %s for %s", file, c.page, c.url)
	}
	return c, nil
}

func loadDocCases(t *testing.T) []*docCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/docs/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no docs examples: %v", err)
	}
	var cases []*docCase
	for _, p := range paths {
		c, err := loadDocCase(p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	return cases
}

// run serves the case's application and checks the response.
func (c *docCase) run(t *testing.T) {
	a := newApp(t, c.files, func(cfg *Config) {
		if !c.data {
			cfg.Dir = docsDir
		}
	})
	req := newRequest(t, c.method, a.URL+c.url, c.body)
	for _, h := range c.headers {
		req.Header.Add(h[0], h[1])
	}
	client := *a.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, res)
	if res.StatusCode != c.status {
		t.Errorf("%s %s: status %d, want %d; body:\n%s\nlog:\n%s", c.method, c.url, res.StatusCode, c.status, got, a.log.String())
	}
	for _, h := range c.wantHeaders {
		vals := res.Header.Values(h[0])
		switch {
		case h[1] == "" && len(vals) == 0:
			t.Errorf("%s %s: no %s header", c.method, c.url, h[0])
		case h[1] != "" && !slices.Contains(vals, h[1]):
			t.Errorf("%s %s: %s header %q, want %q", c.method, c.url, h[0], vals, h[1])
		}
	}
	if !strings.HasSuffix(got, "\n") && got != "" {
		got += "\n"
	}
	if *updateDocs {
		c.ar.Files[c.want].Data = []byte(got)
		if err := os.WriteFile(c.file, txtar.Format(c.ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if w := string(c.ar.Files[c.want].Data); got != w {
		t.Errorf("%s %s\n--- got ---\n%s\n--- want ---\n%s\nlog:\n%s", c.method, c.url, got, w, a.log.String())
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fence is a fenced code block of a Markdown document.
type fence struct {
	file string
	line int    // of the opening fence
	info string // the info string: "lasp", "html output", ...
	text string // the content, each line ending in "\n"
}

// fences returns the fenced code blocks of a Markdown document.
func fences(file, doc string) []fence {
	var out []fence
	var cur *fence
	for i, line := range strings.SplitAfter(doc, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &fence{file: file, line: i + 1, info: strings.TrimSpace(trimmed[3:])}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += trimmed + "\n"
		}
	}
	return out
}

// TestDocsExamples runs every testdata/docs example, and checks that the
// docs show no example that is not one of them: every ```lasp (or ```lua)
// block of the docs is a file of some example (the page, or a file it
// uses), and every ```html output block is the output of an example whose
// page is the last ```lasp block before it.
func TestDocsExamples(t *testing.T) {
	cases := loadDocCases(t)
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
	t.Run("docs", func(t *testing.T) {
		for _, file := range docFiles {
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			var lastLasp *fence
			for _, f := range fences(file, string(doc)) {
				switch f.info {
				case "lasp", "lua":
					if f.info == "lasp" {
						n++
						lastLasp = &f
					}
					if !slices.ContainsFunc(cases, func(c *docCase) bool { return slices.Contains(slices.Collect(maps.Values(c.files)), f.text) }) {
						t.Errorf("%s:%d: this %s example is no file of any testdata/docs case:\n%s", f.file, f.line, f.info, f.text)
					}
				case "html output":
					if lastLasp == nil {
						t.Errorf("%s:%d: an output block with no lasp example before it", f.file, f.line)
						continue
					}
					page := lastLasp.text
					if !slices.ContainsFunc(cases, func(c *docCase) bool {
						return c.files[c.page] == page && string(c.ar.Files[c.want].Data) == f.text
					}) {
						t.Errorf("%s:%d: this output is not what the example at line %d writes in any testdata/docs case:\n%s", f.file, f.line, lastLasp.line, f.text)
					}
					lastLasp = nil
				}
			}
			if n == 0 {
				t.Errorf("%s has no lasp examples", file)
			}
		}
	})
}
