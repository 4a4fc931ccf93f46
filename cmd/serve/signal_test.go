package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSighupRestarts: SIGHUP restarts the application as an edit of
// global.lasa does: the sessions end (Session_OnEnd), Application_OnEnd
// runs, Application starts afresh, pages are read again from disk, and
// serving goes on without a dropped request.
func TestSighupRestarts(t *testing.T) {
	skipFarm(t)
	root := t.TempDir()
	writeApp(t, root, map[string]string{
		"global.lasa": `<script runat="server">
function Application_OnEnd() print("Application_OnEnd ran, n = " .. tostring(Application["n"])) end
function Session_OnEnd() print("Session_OnEnd ran for " .. tostring(Session["who"])) end
</script>`,
		"count.lasp": `<% Application:Lock() Application["n"] = (Application["n"] or 0) + 1 Application:Unlock() Session["who"] = "ann" %><%= Application["n"] %>`,
		"v.lasp":     `v1`,
	})
	p := startProc(t, buildServe(t), "-root", root, "-addr", "127.0.0.1:0")
	c := farmClient(t)
	wantBody(t, c, p.url+"/count.lasp", "1")
	wantBody(t, c, p.url+"/count.lasp", "2")
	wantBody(t, c, p.url+"/v.lasp", "v1")
	if err := os.WriteFile(filepath.Join(root, "v.lasp"), []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), "Application_OnEnd ran") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	logs := p.stderr.String()
	for _, want := range []string{"SIGHUP", "Session_OnEnd ran for ann", "Application_OnEnd ran, n = 2"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	wantBody(t, c, p.url+"/count.lasp", "1") // a fresh Application
	wantBody(t, c, p.url+"/v.lasp", "v2")    // the file as it is now
}
