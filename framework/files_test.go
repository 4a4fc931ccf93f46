package framework

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// secretText is in every file that must never be served.
const secretText = "TOPSECRET"

// styleCSS is the content of the app's static file style.css.
const styleCSS = "body { color: rebeccapurple; }\n"

// filesHandler is the slice of a Server that lookup and serveStatic are for:
// pages answer "PAGE name" instead of running.
func filesHandler(fsys fs.FS) http.Handler {
	etags := &etagCache{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := lookup(fsys, r.URL.Path)
		switch {
		case err != nil:
		case t.redirect != "":
			loc := t.redirect
			if r.URL.RawQuery != "" {
				loc += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, loc, http.StatusMovedPermanently)
			return
		case t.page:
			fmt.Fprint(w, "PAGE "+t.name)
			return
		default:
			err = serveStatic(w, r, fsys, etags, t.name)
		}
		switch {
		case errors.Is(err, errNotFound):
			http.NotFound(w, r)
		case err != nil:
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	})
}

// writeTree writes files (slash-separated name -> content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// diskApp writes a test application into base/app, with secrets beside it
// (base/secret, base/outside/secret) and symbolic links pointing in and
// out, and returns it opened as the lead opens it: os.OpenRoot(dir).FS().
func diskApp(t *testing.T) fs.FS {
	t.Helper()
	base := t.TempDir()
	app := filepath.Join(base, "app")
	writeTree(t, base, map[string]string{
		"secret":         secretText,
		"outside/secret": secretText,
	})
	writeTree(t, app, map[string]string{
		"index.lasp":                  "<% page %>",
		"index.html":                  "shadowed by index.lasp",
		"style.css":                   styleCSS,
		"global.lasa":                 secretText,
		"components/Animals.Dog.lua":  secretText,
		"lib/util.lua":                secretText,
		"inc/header.inc":              secretText,
		"sub/file.txt":                "sub file",
		"sub/.hidden":                 secretText,
		"sub/part.inc":                secretText,
		"sub/page.lasp":               "<% sub page %>",
		".git/config":                 secretText,
		".env":                        secretText,
		"onlyhtml/index.html":         "only html",
		"empty/readme.txt":            "no default document here",
		"docs/index.lasp/readme.txt":  "a directory named like a page",
		"docs/index.html":             "docs html",
		"components/index.html":       secretText,
		"lib/index.html":              secretText,
		"data/shop.db":                secretText,
		"data/index.html":             secretText,
		"names/data/not-app-data.txt": "fine: data/ only at the root",
		"upper/INDEX.HTML":            "not a default document on Linux",
		"a b/index.html":              "with a space",
		"names/global.lasa.txt":       "fine: not global.lasa",
		"names/include.txt":           "fine: not *.inc",
		"names/components.txt":        "fine: not under components/",
		"names/lib/not-app-lib.txt":   "fine: lib/ only at the root",
		"names/trailing~dash.txt":     "fine: no digit after ~",
		"names/version-2.0.0.tar.txt": "fine: dots inside",
	})
	links := map[string]string{
		"link-out":       filepath.Join(base, "outside"),
		"link-file-out":  filepath.Join(base, "secret"),
		"link-rel-out":   "../secret",
		"link-in":        "sub/file.txt",
		"link-dir-in":    "sub",
		"sub/link-up-in": "../style.css",
		"link-loop":      "link-loop",
		"link-dangling":  "nowhere",
	}
	for name, dest := range links {
		if err := os.Symlink(dest, filepath.Join(app, filepath.FromSlash(name))); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	root, err := os.OpenRoot(app)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root.FS()
}

// rawGet sends one request with the request line exactly as given, so that
// no client cleans or re-escapes the path, and returns status and body.
func rawGet(t *testing.T, addr, rawPath string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", rawPath); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", rawPath, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestFilesHostilePaths(t *testing.T) {
	srv := httptest.NewServer(filesHandler(diskApp(t)))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	tests := []struct {
		name string
		raw  string // the request target, sent as is
		// go400 marks a request line that Go's own server refuses with 400
		// before any handler runs (a raw control character); 404 is
		// accepted as well. Every other row reaches the handler.
		go400 bool
	}{
		{name: "dotdot", raw: "/../secret"},
		{name: "dotdot twice", raw: "/../../secret"},
		{name: "encoded dotdot", raw: "/%2e%2e/secret"},
		{name: "encoded dotdot upper", raw: "/%2E%2E/secret"},
		{name: "encoded slashes", raw: "/sub/..%2f..%2fsecret"},
		{name: "encoded backslash", raw: "/..%5csecret"},
		{name: "encoded leading backslash", raw: "/%5c..%5csecret"},
		{name: "raw backslash", raw: `/..\secret`},
		{name: "global.lasa", raw: "/global.lasa"},
		{name: "GLOBAL.LASA", raw: "/GLOBAL.LASA"},
		{name: "Global.lasa", raw: "/Global.lasa"},
		{name: "global.lasa long s", raw: "/global.la%C5%BFa"},
		{name: "global.lasa trailing dot", raw: "/global.lasa."},
		{name: "global.lasa trailing space", raw: "/global.lasa%20"},
		{name: "global.lasa 8.3 name", raw: "/GLOBAL~1.LAS"},
		{name: "global.lasa data stream", raw: "/global.lasa::$DATA"},
		{name: "global.lasa under dot", raw: "/./global.lasa"},
		{name: "global.lasa via dotdot", raw: "/sub/../global.lasa"},
		{name: "global.lasa encoded", raw: "/%67lobal.lasa"},
		{name: "component", raw: "/components/Animals.Dog.lua"},
		{name: "Components", raw: "/Components/Animals.Dog.lua"},
		{name: "components dir", raw: "/components"},
		{name: "components index", raw: "/components/"},
		{name: "lib module", raw: "/lib/util.lua"},
		{name: "LIB module", raw: "/LIB/util.lua"},
		{name: "lib dir", raw: "/lib"},
		{name: "lib index", raw: "/lib/"},
		{name: "data file", raw: "/data/shop.db"},
		{name: "DATA file", raw: "/DATA/shop.db"},
		{name: "Data file", raw: "/Data/shop.db"},
		{name: "data encoded", raw: "/%64ata/shop.db"},
		{name: "data dir", raw: "/data"},
		{name: "data index", raw: "/data/"},
		{name: "data via dotdot", raw: "/sub/../data/shop.db"},
		{name: "include", raw: "/inc/header.inc"},
		{name: "INCLUDE", raw: "/inc/HEADER.INC"},
		{name: "include in sub", raw: "/sub/part.inc"},
		{name: "git config", raw: "/.git/config"},
		{name: "git dir", raw: "/.git"},
		{name: "dotenv", raw: "/.env"},
		{name: "dotfile in sub", raw: "/sub/.hidden"},
		{name: "encoded dotfile", raw: "/%2eenv"},
		{name: "symlink dir out", raw: "/link-out/secret"},
		{name: "symlink dir out itself", raw: "/link-out"},
		{name: "symlink dir out slash", raw: "/link-out/"},
		{name: "symlink file out", raw: "/link-file-out"},
		{name: "relative symlink out", raw: "/link-rel-out"},
		{name: "symlink loop", raw: "/link-loop"},
		{name: "dangling symlink", raw: "/link-dangling"},
		{name: "NUL", raw: "/a%00b"},
		{name: "NUL before file", raw: "/style.css%00.txt"},
		{name: "empty segment", raw: "//etc/passwd"},
		{name: "empty segment inside", raw: "/sub//file.txt"},
		{name: "double trailing slash", raw: "/sub//"},
		{name: "dot segment", raw: "/sub/./file.txt"},
		{name: "trailing dot segment", raw: "/sub/."},
		{name: "page with slash", raw: "/index.lasp/"},
		{name: "file as directory", raw: "/style.css/x"},
		{name: "missing", raw: "/missing.html"},
		{name: "no default document", raw: "/empty/"},
		{name: "colon", raw: "/c:/secret"},
		{name: "absolute URI", raw: "http://x/../secret"},
		{name: "asterisk", raw: "*"},
		{name: "raw NUL", raw: "/a\x00b", go400: true},
		{name: "raw tab", raw: "/global.lasa\t", go400: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawGet(t, addr, tt.raw)
			t.Logf("GET %q: %d", tt.raw, status)
			if status != http.StatusNotFound && !(tt.go400 && status == http.StatusBadRequest) {
				t.Errorf("GET %s: status %d, want 404", tt.raw, status)
			}
			if strings.Contains(body, secretText) {
				t.Errorf("GET %s: body leaks the secret: %q", tt.raw, body)
			}
		})
	}
}

// filesDo sends one request built by the client and returns the response with
// its body read.
func filesDo(t *testing.T, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestFilesRouting(t *testing.T) {
	srv := httptest.NewServer(filesHandler(diskApp(t)))
	defer srv.Close()

	tests := []struct {
		name     string
		path     string
		status   int
		body     string // the whole body, when status is not a redirect
		location string
	}{
		{name: "root prefers index.lasp", path: "/", status: 200, body: "PAGE index.lasp"},
		{name: "page", path: "/index.lasp", status: 200, body: "PAGE index.lasp"},
		{name: "page in sub", path: "/sub/page.lasp", status: 200, body: "PAGE sub/page.lasp"},
		{name: "index.html alone", path: "/onlyhtml/", status: 200, body: "only html"},
		{name: "index.html direct", path: "/onlyhtml/index.html", status: 200, body: "only html"},
		{name: "no default document", path: "/empty/", status: 404},
		{name: "default document must be a file", path: "/docs/", status: 200, body: "docs html"},
		{name: "default document names are exact", path: "/upper/", status: 404},
		{name: "static", path: "/style.css", status: 200, body: styleCSS},
		{name: "static in sub", path: "/sub/file.txt", status: 200, body: "sub file"},
		{name: "directory redirect", path: "/sub", status: 301, location: "/sub/"},
		{name: "directory redirect keeps query", path: "/onlyhtml?x=1&y=2", status: 301, location: "/onlyhtml/?x=1&y=2"},
		{name: "directory redirect escapes", path: "/a%20b", status: 301, location: "/a%20b/"},
		{name: "escaped directory", path: "/a%20b/", status: 200, body: "with a space"},
		{name: "symlink file in", path: "/link-in", status: 200, body: "sub file"},
		{name: "symlink dir in", path: "/link-dir-in/file.txt", status: 200, body: "sub file"},
		{name: "symlink up, still in", path: "/sub/link-up-in", status: 200, body: styleCSS},
		{name: "lookalike names", path: "/names/global.lasa.txt", status: 200, body: "fine: not global.lasa"},
		{name: "lookalike include", path: "/names/include.txt", status: 200, body: "fine: not *.inc"},
		{name: "lookalike components", path: "/names/components.txt", status: 200, body: "fine: not under components/"},
		{name: "lib below the root", path: "/names/lib/not-app-lib.txt", status: 200, body: "fine: lib/ only at the root"},
		{name: "data below the root", path: "/names/data/not-app-data.txt", status: 200, body: "fine: data/ only at the root"},
		{name: "tilde", path: "/names/trailing~dash.txt", status: 200, body: "fine: no digit after ~"},
		{name: "inner dots", path: "/names/version-2.0.0.tar.txt", status: 200, body: "fine: dots inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := filesDo(t, "GET", srv.URL+tt.path, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s: status %d, want %d (body %q)", tt.path, resp.StatusCode, tt.status, body)
			}
			if tt.location != "" {
				if got := resp.Header.Get("Location"); got != tt.location {
					t.Errorf("GET %s: Location %q, want %q", tt.path, got, tt.location)
				}
				return
			}
			if tt.body != "" && body != tt.body {
				t.Errorf("GET %s: body %q, want %q", tt.path, body, tt.body)
			}
		})
	}
}

func TestStaticDisk(t *testing.T) {
	srv := httptest.NewServer(filesHandler(diskApp(t)))
	defer srv.Close()
	url := srv.URL + "/style.css"

	resp, body := filesDo(t, "GET", url, nil)
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	switch {
	case resp.StatusCode != 200 || body != styleCSS:
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	case !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 3:
		t.Errorf("ETag %q, want a strong ETag", etag)
	case lastMod == "":
		t.Error("no Last-Modified")
	case !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css"):
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	case resp.Header.Get("Accept-Ranges") != "bytes":
		t.Errorf("Accept-Ranges %q", resp.Header.Get("Accept-Ranges"))
	}

	tests := []struct {
		name   string
		method string
		header http.Header
		status int
		body   string
		check  func(t *testing.T, h http.Header)
	}{
		{name: "If-None-Match", method: "GET", header: http.Header{"If-None-Match": {etag}}, status: 304},
		{name: "If-None-Match other", method: "GET", header: http.Header{"If-None-Match": {`"other"`}}, status: 200, body: styleCSS},
		{name: "If-Modified-Since", method: "GET", header: http.Header{"If-Modified-Since": {lastMod}}, status: 304},
		{name: "Range", method: "GET", header: http.Header{"Range": {"bytes=7-11"}}, status: 206, body: styleCSS[7:12],
			check: func(t *testing.T, h http.Header) {
				if want := fmt.Sprintf("bytes 7-11/%d", len(styleCSS)); h.Get("Content-Range") != want {
					t.Errorf("Content-Range %q, want %q", h.Get("Content-Range"), want)
				}
			}},
		{name: "suffix Range", method: "GET", header: http.Header{"Range": {"bytes=-3"}}, status: 206, body: styleCSS[len(styleCSS)-3:]},
		{name: "unsatisfiable Range", method: "GET", header: http.Header{"Range": {"bytes=1000-"}}, status: 416},
		{name: "If-Range stale", method: "GET", header: http.Header{"Range": {"bytes=0-3"}, "If-Range": {`"stale"`}}, status: 200, body: styleCSS},
		{name: "HEAD", method: "HEAD", status: 200,
			check: func(t *testing.T, h http.Header) {
				if h.Get("Content-Length") != fmt.Sprint(len(styleCSS)) || h.Get("ETag") != etag {
					t.Errorf("HEAD headers %v", h)
				}
			}},
		{name: "POST", method: "POST", status: 405,
			check: func(t *testing.T, h http.Header) {
				if h.Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow %q", h.Get("Allow"))
				}
			}},
		{name: "DELETE", method: "DELETE", status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := filesDo(t, tt.method, url, tt.header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.body != "" && body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if tt.check != nil {
				tt.check(t, resp.Header)
			}
		})
	}
}

//go:embed testdata/embedapp
var embedTestApp embed.FS

func TestStaticEmbed(t *testing.T) {
	fsys, err := fs.Sub(embedTestApp, "testdata/embedapp")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(filesHandler(fsys))
	defer srv.Close()

	css, err := fs.ReadFile(fsys, "css/site.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(css)
	wantETag := `"sha256-` + hex.EncodeToString(sum[:16]) + `"`

	for range 2 { // the second time from the cache
		resp, body := filesDo(t, "GET", srv.URL+"/css/site.css", nil)
		if resp.StatusCode != 200 || body != string(css) {
			t.Fatalf("GET: %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Get("ETag"); got != wantETag {
			t.Errorf("ETag %q, want %q", got, wantETag)
		}
		if lm := resp.Header.Get("Last-Modified"); lm != "" {
			t.Errorf("Last-Modified %q for a file without a modification time", lm)
		}
	}
	resp, _ := filesDo(t, "GET", srv.URL+"/css/site.css", http.Header{"If-None-Match": {wantETag}})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d, want 304", resp.StatusCode)
	}
	resp, body := filesDo(t, "GET", srv.URL+"/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Served from an embed.FS.") {
		t.Errorf("GET /: %d %q", resp.StatusCode, body)
	}
	resp, _ = filesDo(t, "GET", srv.URL+"/css", nil)
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/css/" {
		t.Errorf("GET /css: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// noSeekFS hides every file's Seek and ReadAt.
type noSeekFS struct{ fs.FS }

type noSeekFile struct{ fs.File }

func (n noSeekFS) Open(name string) (fs.File, error) {
	f, err := n.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return noSeekFile{f}, nil
}

func TestStaticNotSeekable(t *testing.T) {
	mt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	fsys := noSeekFS{fstest.MapFS{
		"a.txt": {Data: []byte("0123456789"), ModTime: mt},
		"b.txt": {Data: []byte("no modtime")},
	}}
	srv := httptest.NewServer(filesHandler(fsys))
	defer srv.Close()

	resp, body := filesDo(t, "GET", srv.URL+"/a.txt", http.Header{"Range": {"bytes=2-4"}})
	if resp.StatusCode != 206 || body != "234" {
		t.Errorf("Range: %d %q", resp.StatusCode, body)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != mt.Format(http.TimeFormat) {
		t.Errorf("Last-Modified %q", lm)
	}
	resp, body = filesDo(t, "GET", srv.URL+"/b.txt", nil)
	if resp.StatusCode != 200 || body != "no modtime" || !strings.HasPrefix(resp.Header.Get("ETag"), `"sha256-`) {
		t.Errorf("GET b.txt: %d %q ETag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
	}
}

// errFS fails every Open and Stat with err.
type errFS struct{ err error }

func (e errFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: e.err}
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		notFound bool
	}{
		{name: "not exist", err: fs.ErrNotExist, notFound: true},
		{name: "invalid", err: fs.ErrInvalid, notFound: true},
		{name: "permission", err: fs.ErrPermission},
		{name: "other", err: errors.New("disk on fire")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lookup(errFS{tt.err}, "/x.html")
			if got := errors.Is(err, errNotFound); got != tt.notFound {
				t.Errorf("lookup: %v, errNotFound %v, want %v", err, got, tt.notFound)
			}
			if !tt.notFound && !errors.Is(err, tt.err) {
				t.Errorf("lookup: %v, want it to wrap %v", err, tt.err)
			}
			req := httptest.NewRequest("GET", "/x.html", nil)
			err = serveStatic(httptest.NewRecorder(), req, errFS{tt.err}, nil, "x.html")
			if got := errors.Is(err, errNotFound); got != tt.notFound {
				t.Errorf("serveStatic: %v, errNotFound %v, want %v", err, got, tt.notFound)
			}
		})
	}
}

// TestLookupSymlinks pins down how os.Root reports a symbolic link that
// leaves the root, which escapesRoot relies on.
func TestLookupSymlinks(t *testing.T) {
	fsys := diskApp(t)
	for _, name := range []string{"link-out/secret", "link-file-out", "link-rel-out"} {
		_, err := fs.Stat(fsys, name)
		if err == nil || !escapesRoot(err) {
			t.Errorf("Stat(%q) = %v, want an escape error", name, err)
		}
		if _, err := lookup(fsys, "/"+name); err != errNotFound {
			t.Errorf("lookup(%q) = %v, want errNotFound", name, err)
		}
	}
	got, err := lookup(fsys, "/link-in")
	if err != nil || got != (target{name: "link-in"}) {
		t.Errorf("lookup(/link-in) = %+v, %v", got, err)
	}
}

func TestLookup(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":       {},
		"Shop/Cart.LASP":   {},
		"shop/index.lasp":  {},
		"dir/sub/x.txt":    {},
		"a b/c%d.txt":      {},
		"caf\u00e9/x.txt":  {},
		"dir/sub/index.js": {},
	}
	tests := []struct {
		path string
		want target
		err  error
	}{
		{path: "/", want: target{name: "index.html"}},
		{path: "/Shop/Cart.LASP", want: target{name: "Shop/Cart.LASP", page: true}},
		{path: "/shop/", want: target{name: "shop/index.lasp", page: true}},
		{path: "/shop", want: target{redirect: "/shop/"}},
		{path: "/dir/sub", want: target{redirect: "/dir/sub/"}},
		{path: "/dir/sub/", err: errNotFound},
		{path: "/dir/sub/x.txt", want: target{name: "dir/sub/x.txt"}},
		{path: "/a b/c%d.txt", want: target{name: "a b/c%d.txt"}},
		{path: "/a b", want: target{redirect: "/a%20b/"}},
		{path: "/caf\u00e9", want: target{redirect: "/caf%C3%A9/"}},
		{path: "", err: errNotFound},
		{path: "index.html", err: errNotFound},
		{path: "/index.html/", err: errNotFound},
	}
	for _, tt := range tests {
		got, err := lookup(fsys, tt.path)
		if got != tt.want || err != tt.err {
			t.Errorf("lookup(%q) = %+v, %v; want %+v, %v", tt.path, got, err, tt.want, tt.err)
		}
	}
}

func TestHidden(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"global.lasa", true},
		{"GLOBAL.LASA", true},
		{"Global.Lasa", true},
		{"global.la\u017fa", true}, // long s folds to s
		{"sub/global.lasa", true},
		{"components", true},
		{"components/Animals.Dog.lua", true},
		{"COMPONENTS/x.lua", true},
		{"lib", true},
		{"lib/util.lua", true},
		{"Lib/x.lua", true},
		{"data", true},
		{"data/shop.db", true},
		{"DATA/shop.db", true},
		{"Data/sub/x", true},
		{"\u0064ata/uploads/a.png", true},
		{"inc/header.inc", true},
		{"x.INC", true},
		{"a/b.Inc", true},
		{".env", true},
		{".git/config", true},
		{"sub/.hidden", true},
		{"sub/.well-known/x", true},
		{".", false}, // the root itself
		{"./x", true},
		{"index.lasp", false},
		{"index.html", false},
		{"css/site.css", false},
		{"inc", false},
		{"inc/readme.txt", false},
		{"sub/lib/x.lua", false},
		{"sub/components/x.lua", false},
		{"sub/data/x.txt", false},
		{"database/x.css", false},
		{"data.txt", false},
		{"library/x.css", false},
		{"global.lasa.bak", false},
		{"x.include", false},
		{"dir.inc.txt", false},
	}
	for _, tt := range tests {
		if got := hidden(tt.name); got != tt.want {
			t.Errorf("hidden(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
