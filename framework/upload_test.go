package framework

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// part is a part of a multipart form: a file when filename or
// disposition is set, else a value.
type part struct {
	field, filename, ctype, data string
	// disposition, when set, is the part's Content-Disposition as sent.
	disposition string
}

// multipartOf is a multipart form of parts.
func multipartOf(parts ...part) (ctype, body string) {
	var b strings.Builder
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		switch {
		case p.disposition != "":
			h.Set("Content-Disposition", p.disposition)
		case p.filename != "":
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.filename))
		default:
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.field))
		}
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		pw, _ := w.CreatePart(h)
		io.WriteString(pw, p.data)
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

func TestUploadFiles(t *testing.T) {
	t.Parallel()
	a := newApp(t, map[string]string{
		"files.lasp": `<% local F = Request.Files %>keys=<%= table.concat(F:Keys(), ",") %> count=<%= F.Count %>
<% for _, f in ipairs(F:Values("f")) do %><%= f.Name %>|<%= f.Size %>|<%= f.ContentType %>|<%- f:Read() %>
<% end %>first=<%= F["f"].Name %> call=<%= F("F").Name %> none=<%= tostring(F.none) %> form=<%= Request.Form("a") %> files in form=<%= tostring(Request.Form("f")) %>`,
		// Form first, then Files: one parse of the body.
		"formfirst.lasp": `<%= Request.Form("a") %> <%= Request.Files.f.Name %>`,
		// Body first: Form and Files parse it from memory.
		"bodyfirst.lasp": `<%= #Request.Body > 0 %> <%= Request.Files.f.Name %> <%= Request.Form("a") %>`,
		"count.lasp":     `<%= Request.Files.Count %> <%= tostring(Request.Files.f) %>`,
	})
	ctype, body := multipartOf(
		part{field: "a", data: "1"},
		part{field: "f", filename: "a.png", ctype: "image/png", data: "PNG\x00\x01"},
		part{field: "f", filename: "b.txt", ctype: "text/plain", data: "hello"},
		part{field: "g", filename: "empty.txt"},
	)
	tests := []struct {
		name  string
		path  string
		ctype string
		body  string
		want  string
	}{
		{
			name: "two files in one field", path: "/files.lasp", ctype: ctype, body: body,
			want: "keys=f,g count=2\na.png|5|image/png|PNG\x00\x01\nb.txt|5|text/plain|hello\nfirst=a.png call=a.png none=nil form=1 files in form=nil",
		},
		{name: "Form, then Files", path: "/formfirst.lasp", ctype: ctype, body: body, want: "1 a.png"},
		{name: "Body, then Files", path: "/bodyfirst.lasp", ctype: ctype, body: body, want: "true a.png 1"},
		{name: "an urlencoded form has no files", path: "/count.lasp", ctype: formType, body: "f=1", want: "0 nil"},
		{name: "an empty file input is no file", path: "/count.lasp", ctype: ctype, body: strings.Replace(body, `filename="a.png"`, `filename=""`, 1), want: "2 b.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, got := a.post(t, tt.path, tt.ctype, tt.body)
			if res.StatusCode != 200 || got != tt.want {
				t.Fatalf("POST %s: %d\n%q\nwant 200\n%q\nlog:\n%s", tt.path, res.StatusCode, got, tt.want, a.log)
			}
		})
	}
	t.Run("an empty file", func(t *testing.T) {
		a := newApp(t, map[string]string{"empty.lasp": `<% local f = Request.Files.g %><%= f.Size %>[<%= f:Read() %>]<%= f:SaveAs("e.txt") %>`})
		res, got := a.post(t, "/empty.lasp", ctype, body)
		if res.StatusCode != 200 || got != "0[]data/e.txt" {
			t.Fatalf("%d %q, want 200 0[]data/e.txt\nlog:\n%s", res.StatusCode, got, a.log)
		}
		if b, err := os.ReadFile(filepath.Join(a.dir, "data", "e.txt")); err != nil || len(b) != 0 {
			t.Fatalf("data/e.txt: %q, %v; want it empty", b, err)
		}
	})
}

// saveApp serves a page that saves the file f as the query's "to" and
// writes what SaveAs returned, or its error.
func saveApp(t *testing.T, configure ...func(*Config)) *app {
	return newApp(t, map[string]string{
		"save.lasp": `<% local ok, res = pcall(Request.Files.f.SaveAs, Request.QueryString.to) %><%= ok %> <%- res %>`,
		"name.lasp": `<% local f = Request.Files.f %><%- f.Name %> <%- f:SaveAs("uploads/" .. f.Name) %>`,
	}, configure...)
}

func TestUploadSaveAs(t *testing.T) {
	t.Parallel()
	ctype, body := multipartOf(part{field: "f", filename: "a.png", ctype: "image/png", data: "PNG data"})
	for _, conf := range []struct {
		name      string
		configure func(*Config)
	}{
		{name: "Root and Dir", configure: func(*Config) {}},
		{name: "Dir alone", configure: func(c *Config) { c.Root = nil }},
	} {
		t.Run(conf.name, func(t *testing.T) {
			a := saveApp(t, conf.configure)
			outside := t.TempDir()
			// data/out leads out of data/, data/in stays inside.
			if err := os.MkdirAll(filepath.Join(a.dir, "data", "keep"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(a.dir, "data", "out")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("keep", filepath.Join(a.dir, "data", "in")); err != nil {
				t.Fatal(err)
			}
			// data/link.png is a link to a file outside: saving replaces
			// the link, not the file.
			target := filepath.Join(t.TempDir(), "target")
			if err := os.WriteFile(target, []byte("secret"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(a.dir, "data", "link.png")); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				to   string
				want string // the page's output
				file string // the file saved, relative to the app; "": none
			}{
				{to: "uploads/a.png", want: "true data/uploads/a.png", file: "data/uploads/a.png"},
				{to: "a.png", want: "true data/a.png", file: "data/a.png"},
				{to: "x/./y/../b.png", want: "true data/x/b.png", file: "data/x/b.png"},
				{to: "uploads/a.png", want: "true data/uploads/a.png", file: "data/uploads/a.png"}, // replaced
				{to: "in/c.png", want: "true data/in/c.png", file: "data/keep/c.png"},
				{to: "link.png", want: "true data/link.png", file: "data/link.png"},
				{to: "../x", want: `false save.lasp:1: Request.Files: SaveAs: the path "../x" leaves data/`},
				{to: "/etc/x", want: `false save.lasp:1: Request.Files: SaveAs: the path "/etc/x" is absolute: it must be relative to data/`},
				{to: "uploads/../../x", want: `false save.lasp:1: Request.Files: SaveAs: the path "uploads/../../x" leaves data/`},
				{to: "..", want: `false save.lasp:1: Request.Files: SaveAs: the path ".." leaves data/`},
				{to: "out/x", want: "false save.lasp:1: Request.Files: SaveAs: making data/out: ", file: ""},
				{to: "out/deeper/x", want: "false save.lasp:1: Request.Files: SaveAs: making data/out/deeper: "},
				{to: `a\b`, want: `false save.lasp:1: Request.Files: SaveAs: the path "a\\b" has a \ or a NUL`},
				{to: "uploads/", want: `false save.lasp:1: Request.Files: SaveAs: the path "uploads/" names a folder`},
				{to: ".", want: `false save.lasp:1: Request.Files: SaveAs: the path "." names data/ itself`},
				{to: "", want: `false save.lasp:1: Request.Files: SaveAs: the path is empty`},
			}
			for _, tt := range tests {
				res, got := a.post(t, "/save.lasp?to="+strings.ReplaceAll(tt.to, `\`, "%5C"), ctype, body)
				if res.StatusCode != 200 || !strings.HasPrefix(got, tt.want) {
					t.Errorf("SaveAs(%q): %d %q, want 200 %q\nlog:\n%s", tt.to, res.StatusCode, got, tt.want, a.log)
				}
				if tt.file != "" {
					if b, err := os.ReadFile(filepath.Join(a.dir, tt.file)); err != nil || string(b) != "PNG data" {
						t.Errorf("SaveAs(%q): %s holds %q (%v), want the upload", tt.to, tt.file, b, err)
					}
				}
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("files written outside data/: %v", entries)
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != "secret" {
				t.Errorf("the file data/link.png linked to holds %q (%v), want it untouched", b, err)
			}
			if fi, err := os.Lstat(filepath.Join(a.dir, "data", "link.png")); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("data/link.png: %v (%v), want a regular file", fi, err)
			}
			var stray []string
			filepath.WalkDir(filepath.Join(a.dir, "data"), func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(d.Name(), ".upload-") {
					stray = append(stray, p)
				}
				return nil
			})
			if len(stray) != 0 {
				t.Errorf("temporary files left in data/: %v", stray)
			}
		})
	}
	t.Run("an fs.FS without a directory", func(t *testing.T) {
		a := newApp(t, nil, func(c *Config) {
			c.Root = fstest.MapFS{"save.lasp": {Data: []byte(`<% local ok, res = pcall(Request.Files.f.SaveAs, "a.png") %><%= ok %> <%- res %>`)}}
			c.Dir = ""
		})
		res, got := a.post(t, "/save.lasp", ctype, body)
		if want := "false save.lasp:1: Request.Files: SaveAs: the application has no directory on disk"; res.StatusCode != 200 || !strings.HasPrefix(got, want) {
			t.Fatalf("%d %q, want 200 %q", res.StatusCode, got, want)
		}
	})
	t.Run("an uncaught error", func(t *testing.T) {
		a := newApp(t, map[string]string{"save.lasp": "<% local f = Request.Files.f %>\n<%= f:SaveAs('../x') %>"})
		res, got := a.post(t, "/save.lasp", ctype, body)
		if res.StatusCode != 500 || strings.Contains(got, "leaves data") {
			t.Fatalf("%d %q, want a 500 that does not show the error", res.StatusCode, got)
		}
		if log := a.log.String(); !strings.Contains(log, `Request.Files: SaveAs: the path \"../x\" leaves data/`) || !strings.Contains(log, `"line":2`) {
			t.Fatalf("log lacks the error at line 2:\n%s", log)
		}
	})
}

func TestUploadClientNames(t *testing.T) {
	t.Parallel()
	a := saveApp(t)
	long := strings.Repeat("é", 200) + ".txt"
	tests := []struct {
		name        string
		filename    string
		disposition string
		want        string
	}{
		{name: "a plain name", filename: "a.png", want: "a.png"},
		{name: "a relative path", filename: "../../evil.sh", want: "evil.sh"},
		{name: "a Windows path", filename: `C:\dir\a.txt`, want: "a.txt"},
		{name: "a Windows path to ..", filename: `C:\dir\..`, want: "file"},
		{name: "a NUL", disposition: `form-data; name="f"; filename*=UTF-8''a%00b.txt`, want: "ab.txt"},
		{name: "control characters", disposition: `form-data; name="f"; filename*=UTF-8''a%0D%0Ab%1B%7F.txt`, want: "ab.txt"},
		{name: "a bidi override", disposition: `form-data; name="f"; filename*=UTF-8''evil%E2%80%AEgpj.exe`, want: "evilgpj.exe"},
		{name: "dots", filename: "..", want: "file"},
		{name: "a slash", filename: "/", want: "file"},
		{name: "a long name", filename: long, want: strings.Repeat("é", 125) + ".txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype, body := multipartOf(part{field: "f", filename: tt.filename, disposition: tt.disposition, data: "x"})
			res, got := a.post(t, "/name.lasp", ctype, body)
			if want := tt.want + " data/uploads/" + tt.want; res.StatusCode != 200 || got != want {
				t.Fatalf("%d %q, want 200 %q\nlog:\n%s", res.StatusCode, got, want, a.log)
			}
			if _, err := os.Stat(filepath.Join(a.dir, "data", "uploads", tt.want)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUploadOverTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	a := newApp(t, map[string]string{
		"files.lasp": `<%= Request.Files.Count %>`,
		"index.lasp": `ok`,
	}, func(c *Config) { c.MaxRequestBody = limit })
	ctype, body := multipartOf(part{field: "f", filename: "big.bin", data: strings.Repeat("x", limit)})
	for _, b := range []any{body, chunked(body)} {
		res, got := a.post(t, "/files.lasp", ctype, b)
		if res.StatusCode != 413 {
			t.Errorf("%T body: %d %q, want 413", b, res.StatusCode, got)
		}
		a.stillServes(t)
	}
	ctype, body = multipartOf(part{field: "f", filename: "small.bin", data: strings.Repeat("x", limit/2)})
	if res, got := a.post(t, "/files.lasp", ctype, body); res.StatusCode != 200 || got != "1" {
		t.Errorf("under the limit: %d %q, want 200 1", res.StatusCode, got)
	}
}

// TestUploadTemporaryFiles: files past multipartMemory are in temporary
// files while the page runs (Read and SaveAs use them), and gone after.
func TestUploadTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where mime/multipart puts the files
	a := newApp(t, map[string]string{
		"save.lasp": `<% local f = Request.Files.f %><%= f.Size %> <%= #f:Read() %> <%= f:SaveAs("big.bin") %> <%= Request.Files:Values("f")[2]:SaveAs("second.bin") %>`,
		"fail.lasp": "<% local f = Request.Files.f %>\n<% error('the page fails after ' .. f.Size) %>",
	})
	big := strings.Repeat("z", 2*multipartMemory)
	second := strings.Repeat("y", multipartMemory+1)
	ctype, body := multipartOf(part{field: "f", filename: "big.bin", data: big}, part{field: "f", filename: "second.bin", data: second})
	res, got := a.post(t, "/save.lasp", ctype, body)
	if want := fmt.Sprintf("%d %d data/big.bin data/second.bin", len(big), len(big)); res.StatusCode != 200 || got != want {
		t.Fatalf("%d %q, want 200 %q\nlog:\n%s", res.StatusCode, got, want, a.log)
	}
	for name, want := range map[string]string{"big.bin": big, "second.bin": second} {
		if b, err := os.ReadFile(filepath.Join(a.dir, "data", name)); err != nil || string(b) != want {
			t.Errorf("data/%s: %d bytes (%v), want the upload's %d", name, len(b), err, len(want))
		}
	}
	if left := tempFiles(t, tmp); len(left) != 0 {
		t.Errorf("temporary files left after the request: %v", left)
	}
	if res, _ := a.post(t, "/fail.lasp", ctype, body); res.StatusCode != 500 {
		t.Errorf("fail.lasp: %d, want 500", res.StatusCode)
	}
	if left := tempFiles(t, tmp); len(left) != 0 {
		t.Errorf("temporary files left after a failed page: %v", left)
	}
}

// pattern is an io.Reader of n bytes of a repeating pattern, without
// holding them; its CRC-32 is summed as it is read.
type pattern struct {
	n, off int64
	crc    uint32
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	p.crc = crc32.Update(p.crc, crc32.IEEETable, b)
	return len(b), nil
}

// memorySampler records the peak of the process's resident set (VmRSS)
// and of its Go heap objects, sampled every few milliseconds.
type memorySampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	rss      uint64
	heap     uint64
	idleRSS  uint64
	idleHeap uint64
}

func startSampling(t *testing.T) *memorySampler {
	t.Helper()
	runtime.GC()
	idle, err := readRSS()
	if err != nil {
		t.Skip("cannot read VmRSS:", err)
	}
	m := &memorySampler{stop: make(chan struct{}), idleRSS: idle, idleHeap: heapObjects()}
	m.done.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, _ := readRSS()
			m.rss, m.heap = max(m.rss, rss), max(m.heap, heapObjects())
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	})
	return m
}

// growth stops the sampling and gives the peaks above idle.
func (m *memorySampler) growth() (rss, heap int64) {
	close(m.stop)
	m.done.Wait()
	return int64(m.rss) - int64(m.idleRSS), int64(m.heap) - int64(m.idleHeap)
}

// readRSS is the process's resident set size (Linux).
func readRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestUploadLarge sends a 200 MB file, of unknown length (chunked), and
// saves it: it goes through temporary files, the server's memory staying
// bounded.
func TestUploadLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 200 MB")
	}
	if runtime.GOOS != "linux" {
		t.Skip("measures VmRSS")
	}
	const size = 200 << 20
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	a := newApp(t, map[string]string{
		"save.lasp": `<% local f = Request.Files.f %><%= f.Name %> <%= f.Size %> <%= f:SaveAs("big/big.bin") %>`,
	}, func(c *Config) { c.MaxRequestBody = size + 1<<20 })

	src := &pattern{n: size}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("f", "big.bin")
		if err == nil {
			_, err = io.Copy(fw, src)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	m := startSampling(t)
	start := time.Now()
	res, got := a.post(t, "/save.lasp", mw.FormDataContentType(), io.Reader(pr))
	elapsed := time.Since(start)
	rss, heap := m.growth()
	t.Logf("200 MB upload and SaveAs in %v: peak VmRSS +%.1f MiB, peak heap objects +%.1f MiB above idle", elapsed, float64(rss)/(1<<20), float64(heap)/(1<<20))
	if want := fmt.Sprintf("big.bin %d data/big/big.bin", size); res.StatusCode != 200 || got != want {
		t.Fatalf("%d %q, want 200 %q\nlog:\n%s", res.StatusCode, got, want, a.log)
	}
	if raceEnabled {
		rss = 0 // inflated by the race detector: the heap still says
	}
	if rss > 64<<20 || heap > 64<<20 {
		t.Errorf("memory grew by %d bytes (RSS) and %d bytes (heap) for a 200 MB upload, want under 64 MiB", rss, heap)
	}
	f, err := os.Open(filepath.Join(a.dir, "data", "big", "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := crc32.NewIEEE()
	if n, err := io.Copy(h, f); err != nil || n != size || h.Sum32() != src.crc {
		t.Errorf("data/big/big.bin: %d bytes, crc %08x (%v); want %d bytes, crc %08x", n, h.Sum32(), err, size, src.crc)
	}
	if left := tempFiles(t, tmp); len(left) != 0 {
		t.Errorf("temporary files left after the request: %v", left)
	}
}

// TestUploadDocsExample runs the avatar page of docs/data.md's Uploads
// section, which docs_test.go does not run, and checks what the text
// says it writes.
func TestUploadDocsExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/data.md")
	if err != nil {
		t.Fatal(err)
	}
	var page string
	for _, f := range fences("data.md", string(doc)) {
		if strings.Contains(f.text, `Request.Files["avatar"]`) {
			page = f.text
		}
	}
	if page == "" {
		t.Fatal("docs/data.md has no avatar page")
	}
	a := newApp(t, map[string]string{"avatar.lasp": page})
	png := strings.Repeat("p", 5120)
	tests := []struct {
		name   string
		parts  []part
		status int
		want   string
	}{
		{
			name:   "a PNG",
			parts:  []part{{field: "user", data: "ada"}, {field: "avatar", filename: "me.png", ctype: "image/png", data: png}},
			status: 200, want: "<p>me.png (5120 bytes) is saved as data/avatars/ada.png.</p>",
		},
		{
			name:   "a text file",
			parts:  []part{{field: "user", data: "ada"}, {field: "avatar", filename: "me.txt", ctype: "text/plain", data: "x"}},
			status: 400, want: "a PNG or JPEG of at most 2 MiB, please",
		},
		{
			name:   "no file",
			parts:  []part{{field: "user", data: "ada"}},
			status: 400, want: "a PNG or JPEG of at most 2 MiB, please",
		},
		{
			name:   "a user name that is a path",
			parts:  []part{{field: "user", data: "../ada"}, {field: "avatar", filename: "me.png", ctype: "image/png", data: png}},
			status: 400, want: "a PNG or JPEG of at most 2 MiB, please",
		},
	}
	for _, tt := range tests {
		ctype, body := multipartOf(tt.parts...)
		res, got := a.post(t, "/avatar.lasp", ctype, body)
		if res.StatusCode != tt.status || strings.TrimSpace(got) != tt.want {
			t.Errorf("%s: %d %q, want %d %q\nlog:\n%s", tt.name, res.StatusCode, got, tt.status, tt.want, a.log)
		}
	}
	if b, err := os.ReadFile(filepath.Join(a.dir, "data", "avatars", "ada.png")); err != nil || string(b) != png {
		t.Errorf("data/avatars/ada.png: %d bytes (%v), want the upload", len(b), err)
	}
}
