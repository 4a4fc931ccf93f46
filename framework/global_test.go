package framework

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestApplicationEvents: Application_OnStart runs once, inside the first
// page request, with concurrent first requests waiting for it; its functions
// are not visible to pages; Application_OnEnd runs at Close.
func TestApplicationEvents(t *testing.T) {
	a := newApp(t, map[string]string{
		"global.lasa": `<!-- events -->
<object runat="server" scope="Application" id="g_dict" progid="Lasp.Dictionary"></object>
<script runat="server" language="lua">
function Application_OnStart()
  Application["starts"] = (Application["starts"] or 0) + 1
  Server.Sleep(0.05)
  Application["ready"] = "yes"
end
function Application_OnEnd() Application["ended"] = true end
</script>`,
		"p.lasp": `<%= Application["ready"] %> <%= Application["starts"] %> <%= type(Application_OnStart) %>`,
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			res, err := a.Client().Get(a.URL + "/p.lasp")
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK || string(b) != "yes 1 nil" {
				t.Errorf("%d %q, want \"yes 1 nil\"", res.StatusCode, b)
			}
		})
	}
	wg.Wait()
	if err := a.srv.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.srv.app.Get("ended"); v != true {
		t.Errorf("Application_OnEnd did not run: ended = %v", v)
	}
}

// TestApplicationOnStartRetry: an error in Application_OnStart fails that
// request with a 500 and the next request tries again.
func TestApplicationOnStartRetry(t *testing.T) {
	a := newApp(t, map[string]string{
		"global.lasa": `<script runat="server">
function Application_OnStart()
  Application["tries"] = (Application["tries"] or 0) + 1
  if Application["tries"] == 1 then error("not yet") end
end
</script>`,
		"p.lasp": `tries=<%= Application["tries"] %>`,
	})
	if status, _ := a.get(t, "/p.lasp"); status != 500 {
		t.Fatalf("first request: %d, want 500", status)
	}
	if !strings.Contains(a.log.String(), `global.lasa:4`) {
		t.Errorf("log does not name global.lasa:4:\n%s", a.log)
	}
	if got := a.mustGet(t, "/p.lasp"); got != "tries=2" {
		t.Errorf("second request: %q", got)
	}
}

// TestGlobalFileErrors: a broken global.lasa stops New with an error naming
// the file and line; with -dev every page shows it until the file is fixed.
func TestGlobalFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"text", "<object runat=\"server\" scope=\"Page\" id=\"a\" progid=\"Lasp.Counters\"></object>\nhello", "global.lasa:2:"},
		{"unknown progid", "\n<object runat=\"server\" scope=\"Application\" id=\"a\" progid=\"No.Such\"></object>", `global.lasa:2: unknown progid "No.Such"`},
		{"lua syntax", "<script runat=\"server\">\n\nfunction f( end\n</script>", "global.lasa:3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"global.lasa": tc.src, "p.lasp": "ok"})
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			if _, err := New(Config{Root: root.FS()}); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
	a := newApp(t, map[string]string{"global.lasa": "oops", "p.lasp": "ok"}, func(c *Config) { c.Dev = true })
	if status, body := a.get(t, "/p.lasp"); status != 500 || !strings.Contains(body, "global.lasa") {
		t.Errorf("-dev with a broken global.lasa: %d", status)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "global.lasa"), []byte("<!-- fixed -->"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := a.mustGet(t, "/p.lasp"); got != "ok" {
		t.Errorf("after the fix: %q", got)
	}
}
