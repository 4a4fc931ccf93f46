package framework

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

// TestDevRestart: under -dev, editing global.lasa restarts the application:
// every live session ends, Application_OnEnd runs, Application is emptied,
// and the next request starts afresh with the new file.
func TestDevRestart(t *testing.T) {
	src := func(version string) string {
		return `<script runat="server">
function Application_OnStart() Application["version"] = "` + version + `" end
function Session_OnEnd() print("SessEnd ` + version + `") end
function Application_OnEnd() print("AppEnd ` + version + `") end
</script>`
	}
	a := newApp(t, map[string]string{
		"global.lasa": src("v1"),
		"p.lasp":      `<% Application["extra"] = Application["extra"] or "set" %><%= Application["version"] %> <%= Session.SessionID ~= nil %>`,
		"extra.lasp":  `<%@ EnableSessionState="False" %><%= tostring(Application["extra"]) %>`,
	}, func(c *Config) { c.Dev = true })
	c := client(t, a)
	if got := mustFetch(t, a, c, "/p.lasp"); got != "v1 true" {
		t.Fatalf("before: %q", got)
	}
	path := filepath.Join(a.dir, "global.lasa")
	if err := os.WriteFile(path, []byte(src("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	// The new file may have the same size and, on a coarse clock, the same
	// modification time: make the change visible.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if got := mustFetch(t, a, c, "/extra.lasp"); got != "nil" {
		t.Errorf("Application after the restart still holds %q", got)
	}
	if got := mustFetch(t, a, c, "/p.lasp"); got != "v2 true" {
		t.Errorf("after: %q", got)
	}
	for _, want := range []string{`"text":"SessEnd v1"`, `"text":"AppEnd v1"`} {
		if !strings.Contains(a.log.String(), want) {
			t.Errorf("the restart did not log %s", want)
		}
	}
	if i, j := strings.Index(a.log.String(), "SessEnd v1"), strings.Index(a.log.String(), "AppEnd v1"); i > j {
		t.Error("Application_OnEnd ran before Session_OnEnd")
	}
}
