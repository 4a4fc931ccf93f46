package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lasp/internal/redistest"
)

// farmApp is the application every server of a test farm runs.
var farmApp = map[string]string{
	"inc.lasp": `<% Session["n"] = (Session["n"] or 0) + 1 %><%= Session["n"] %>`,
	// slow.lasp writes to its session, flushes so that the client knows the
	// page is running (and holds the session's lock), then sleeps far past
	// the time the test gives it: it never commits unless something is wrong.
	"slow.lasp": `<% Session["slow"] = "written by the killed server" Response.Write("started") Response.Flush() Server.Sleep(30) %>done`,
	"n.lasp":    `<%@ EnableSessionState="ReadOnly" %><%= tostring(Session["n"]) %> <%= tostring(Session["slow"]) %>`,
	"free.lasp": `<%@ EnableSessionState="False" %>free`,
	"hello.txt": `hello`,
}

// Generous limits for a busy 2-core machine running the tests under -race.
const (
	farmStartTimeout = time.Minute      // a process prints "listening on"
	farmStopTimeout  = time.Minute      // a process exits after SIGTERM
	farmReqTimeout   = 45 * time.Second // one request
)

// proc is one real serve process, started by startProc.
type proc struct {
	cmd    *exec.Cmd
	url    string // http://host:port from its "listening on" line
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // what Wait returned, once done is closed
}

// skipFarm skips the farm tests in -short mode and where there are no
// signals to send.
func skipFarm(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("farm tests run real serve and redis-server processes; skipped in -short mode")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
}

// buildServe builds the serve command into a temporary directory and
// returns the binary's path.
func buildServe(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found:", err)
	}
	bin := filepath.Join(t.TempDir(), "serve")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProc runs bin with args, out of reach of the developer's own LASP_*
// variables, and returns once it prints its "listening on" line. The test's
// cleanup ends it with SIGTERM (SIGKILL if it does not exit in time) and
// expects exit status 0 unless the test already stopped or killed it.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdoutR, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		stdoutW.Close() // the reader gets io.EOF
		close(p.done)
	}()
	first := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdoutR)
		line, _ := r.ReadString('\n')
		first <- line
		io.Copy(io.Discard, r) // never block the process's later writes
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return // the test stopped or killed it
		default:
		}
		if err := p.terminate(); err != nil {
			t.Errorf("serve %s: %v\nstderr:\n%s", p.url, err, p.stderr)
		}
	})

	var line string
	select {
	case line = <-first:
	case <-time.After(farmStartTimeout):
		t.Fatalf("serve did not print its address within %v\nstderr:\n%s", farmStartTimeout, p.stderr)
	}
	addr, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "listening on http://")
	if !ok {
		<-p.done // stdout closed: the process ended
		t.Fatalf("stdout = %q, want \"listening on http://ADDR\" (exit: %v)\nstderr:\n%s", line, p.err, p.stderr)
	}
	p.url = "http://" + addr
	return p
}

// terminate sends SIGTERM and waits for the process to exit; it returns
// an error unless it exits with status 0 within farmStopTimeout.
func (p *proc) terminate() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		if p.err != nil {
			return errors.New("after SIGTERM: " + p.err.Error() + ", want exit status 0")
		}
		return nil
	case <-time.After(farmStopTimeout):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("still running " + farmStopTimeout.String() + " after SIGTERM: killed")
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// farmArgs are the flags of a server of the farm: the app in root, the
// keys file and the Redis every server shares.
func farmArgs(root, keys, redisURL string) []string {
	return []string{"-root", root, "-addr", "127.0.0.1:0", "-keys", keys,
		"-session-store", redisURL, "-application-store", redisURL}
}

// farmClient is a browser: its cookie jar holds one session cookie, which
// any server of the farm accepts (cookies do not depend on the port).
func farmClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: farmReqTimeout}
}

// wantBody fetches url and fails the test unless it answers 200 with body
// want.
func wantBody(t *testing.T, client *http.Client, url, want string) {
	t.Helper()
	resp, body := get(t, client, url)
	if resp.StatusCode != http.StatusOK || body != want {
		t.Fatalf("GET %s = %d %q, want 200 %q", url, resp.StatusCode, body, want)
	}
}

// TestFarmCrash kills (SIGKILL) a server in the middle of a page that holds
// its session's lock and has written to the session: another server of the
// farm serves the session's next request once the dead server's lease has
// passed (within the 10 s lease, not after a session timeout), and the dead
// page's uncommitted write is lost, not half-applied.
func TestFarmCrash(t *testing.T) {
	skipFarm(t)
	redis := redistest.Start(t)
	bin := buildServe(t)
	root, keys := t.TempDir(), filepath.Join(t.TempDir(), "keys")
	writeApp(t, root, farmApp)
	a := startProc(t, bin, farmArgs(root, keys, redis.URL)...)
	b := startProc(t, bin, farmArgs(root, keys, redis.URL)...)
	client := farmClient(t)

	wantBody(t, client, a.url+"/inc.lasp", "1")

	// slow.lasp on A: its first bytes arrive once it runs, holding the lock.
	slowClient := &http.Client{Jar: client.Jar, Timeout: 2 * farmReqTimeout}
	resp, err := slowClient.Get(a.url + "/slow.lasp")
	if err != nil {
		t.Fatalf("GET slow.lasp on A: %v", err)
	}
	defer resp.Body.Close()
	started := make([]byte, len("started"))
	if _, err := io.ReadFull(resp.Body, started); err != nil || string(started) != "started" {
		t.Fatalf("slow.lasp on A: read %q (%v), want \"started\"", started, err)
	}
	// Let A renew its lease once (every Lease/3, about 3.3 s), so that what
	// B waits for below is a renewed lease running out.
	time.Sleep(4 * time.Second)

	a.kill(t)
	killed := time.Now()
	if rest, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("slow.lasp on A ended normally (%q) though A was killed", rest)
	}

	wantBody(t, client, b.url+"/inc.lasp", "2")
	took := time.Since(killed)
	t.Logf("B served the session %v after A was killed holding its lock", took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("B served the session %v after A was killed, want within the 10 s lease (15 s allowed)", took)
	}
	wantBody(t, client, b.url+"/n.lasp", "2 nil")
}

// TestFarmRestart restarts the whole farm (SIGTERM, then the same flags,
// keys and Redis): sessions outlive their servers, and the client's cookie
// still names its session.
func TestFarmRestart(t *testing.T) {
	skipFarm(t)
	redis := redistest.Start(t)
	bin := buildServe(t)
	root, keys := t.TempDir(), filepath.Join(t.TempDir(), "keys")
	writeApp(t, root, farmApp)
	args := farmArgs(root, keys, redis.URL)
	a := startProc(t, bin, args...)
	b := startProc(t, bin, args...)
	client := farmClient(t)

	for i, s := range []*proc{a, b, a, b} {
		wantBody(t, client, s.url+"/inc.lasp", strconv.Itoa(i+1))
	}

	for _, s := range []*proc{a, b} {
		if err := s.terminate(); err != nil {
			t.Fatalf("serve %s: %v\nstderr:\n%s", s.url, err, s.stderr)
		}
	}
	a = startProc(t, bin, args...)
	b = startProc(t, bin, args...)
	wantBody(t, client, a.url+"/inc.lasp", "5")
	wantBody(t, client, b.url+"/inc.lasp", "6")
	wantBody(t, client, a.url+"/n.lasp", "6 nil")
}

// TestFarmRedisDown stops Redis under a running server: pages that need the
// session answer 503 with Retry-After, while static files and pages
// without session state keep working; once Redis is back the server
// reconnects by itself, and the session is intact.
func TestFarmRedisDown(t *testing.T) {
	skipFarm(t)
	redis := redistest.Start(t)
	bin := buildServe(t)
	root, keys := t.TempDir(), filepath.Join(t.TempDir(), "keys")
	writeApp(t, root, farmApp)
	s := startProc(t, bin, farmArgs(root, keys, redis.URL)...)
	client := farmClient(t)

	wantBody(t, client, s.url+"/inc.lasp", "1")

	redis.Stop()
	resp, body := get(t, client, s.url+"/inc.lasp")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("inc.lasp with Redis down = %d %q, want 503", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("inc.lasp with Redis down: no Retry-After header in %v", resp.Header)
	}
	wantBody(t, client, s.url+"/free.lasp", "free")
	wantBody(t, client, s.url+"/hello.txt", "hello")

	redis.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := get(t, client, s.url+"/inc.lasp")
		if resp.StatusCode == http.StatusOK {
			if body != "2" {
				t.Fatalf("inc.lasp after Redis came back = %q, want \"2\"", body)
			}
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("inc.lasp after Redis came back = %d %q, want 200 \"2\"\nstderr:\n%s", resp.StatusCode, body, s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantBody(t, client, s.url+"/n.lasp", "2 nil")
}
