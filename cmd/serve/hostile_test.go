package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hostileApp holds the pages an attacker, or a careless page author, would
// write. Each would take a server without bounds down.
var hostileApp = map[string]string{
	"ok.lasp":   `ok`,
	"style.css": `body {}`,
	// 3,000,000 nested tables take about 400 MB: with a 512 MiB limit the
	// memory watch may stop the page before it stores them (a page may grow
	// memory by half the limit at most); 1,000,000 reach the store.
	"deep.lasp":     "<% local t = {} for i = 1, 1e6 do t = {t} end %>\n<% Session['t'] = t %>",
	"deeper.lasp":   "<% local t = {} for i = 1, 3e6 do t = {t} end %>\n<% Session['t'] = t %>",
	"doubling.lasp": "<% local s = 'x'\nwhile true do s = s .. s end %>",
	"growth.lasp":   "<% local t, i = {}, 0\nwhile true do i = i + 1 t['k' .. i] = ('x'):rep(1000) .. i end %>",
	"nest.lasp":     "<% local function nest() coroutine.wrap(nest)() end\nnest() %>",
	"bytes.lasp":    "<% local s = ('x'):rep(300000)\nlocal t = {s:byte(1, -1)} %>",
	"unpack.lasp":   "<% local n = select('#', unpack({}, 1, 1e7)) %>",
	"form.lasp":     `<%= #Request.Form:Keys() %>`,
	"slow.lasp":     "<% Server.ScriptTimeout = 2 %>\n<%= Request.Form['a'] %>",
	"query.lasp":    `<%= Request.QueryString:Count() %>`,
	"timeout.lasp":  "<% Session.Timeout = 0/0 %>",
	"execute.lasp":  "\n<% Server.Execute('execute.lasp') %>",
}

// hostileMemoryLimit is the serve's -memory-limit; hostileAddressSpace its
// address-space cap, under which an allocation that goes through would
// kill the process.
const (
	hostileMemoryLimit  = 512 << 20
	hostileAddressSpace = 4 << 30
)

// hostileServer is a serve process of the hostile suite.
type hostileServer struct {
	*proc
	pid    int
	client *http.Client
}

// startHostile runs serve -dev on hostileApp under prlimit --as, so that
// running out of memory would kill only the server.
func startHostile(t *testing.T) *hostileServer {
	t.Helper()
	skipFarm(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prlimit (util-linux) is needed for the hostile suite:", err)
		}
		t.Skip("prlimit not found:", err)
	}
	root := t.TempDir()
	writeApp(t, root, hostileApp)
	p := startProc(t, prlimit, "--as="+strconv.Itoa(hostileAddressSpace), "--", buildServe(t),
		"-root", root, "-addr", "127.0.0.1:0", "-dev", "-script-timeout", "5s",
		"-memory-limit", strconv.Itoa(hostileMemoryLimit), "-max-request-body", "32MiB")
	jar, _ := cookiejar.New(nil)
	return &hostileServer{proc: p, pid: p.cmd.Process.Pid, client: &http.Client{Jar: jar, Timeout: farmReqTimeout}}
}

// alive fails the test unless the process is still running and a normal
// page answers 200 soon after (503s while memory is short are allowed for
// a few seconds, each with Retry-After).
func (s *hostileServer) alive(t *testing.T, after string) {
	t.Helper()
	select {
	case <-s.done:
		t.Fatalf("after %s: serve died: %v\nstderr:\n%s", after, s.err, tail(s.stderr.String(), 3000))
	default:
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := get(t, s.client, s.url+"/ok.lasp")
		if resp.StatusCode == http.StatusOK && body == "ok" {
			t.Logf("after %s: alive, peak RSS so far %d MiB", after, s.peakRSS()>>20)
			return
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || time.Now().After(deadline) {
			t.Fatalf("after %s: /ok.lasp = %d %q", after, resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peakRSS is the process's peak resident memory (VmHWM), in bytes.
func (s *hostileServer) peakRSS() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// do sends req and returns the status, the body (the -dev page's text
// unescaped) and how long the answer took.
func (s *hostileServer) do(t *testing.T, req *http.Request) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", req.Method, req.URL.Path, err, tail(s.stderr.String(), 3000))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(body)), time.Since(start)
}

func (s *hostileServer) get(t *testing.T, path string) (int, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.do(t, req)
}

// TestHostile runs every attack of issue 9 against the real serve binary
// under an address-space cap. For each: the answer (status, and the -dev
// page's error text), the process still alive, and a normal page 200 right
// after. The times and the peak RSS are logged (go test -v) for the notes.
func TestHostile(t *testing.T) {
	s := startHostile(t)
	s.alive(t, "start")

	pages := []struct {
		name, path string
		status     int
		where      string // the -dev page's file:line
		text       string // and its message (or one of messages separated by |)
	}{
		{"deep nesting", "/deep.lasp", 500, "deep.lasp:2", `Session["t"]: a table nested more than 100 deep`},
		{"deeper nesting", "/deeper.lasp", 500, "", "a table nested more than 100 deep|over its memory limit of 512 MiB"},
		{"doubling string", "/doubling.lasp", 500, "doubling.lasp:2", "the page was stopped: the server went over its memory limit of 512 MiB"},
		{"growing table", "/growth.lasp", 500, "growth.lasp:2", "the page was stopped: the server went over its memory limit of 512 MiB"},
		{"nested coroutines", "/nest.lasp", 500, "nest.lasp:1", "too many coroutines: a page may create at most 1000"},
		{"string.byte of 300 KB", "/bytes.lasp", 500, "bytes.lasp:2", "too many results from string.byte"},
		{"unpack of 1e7", "/unpack.lasp", 500, "unpack.lasp:1", "too many results to unpack"},
		{"10,001 query parameters", "/query.lasp?" + strings.Repeat("a=1&", 10_000) + "a=1", 400, "", ""},
		{"Session.Timeout = 0/0", "/timeout.lasp", 500, "timeout.lasp:1", "Session.Timeout must be a positive number of minutes"},
		{"a page that executes itself", "/execute.lasp", 500, "execute.lasp:2", "Server.Execute: pages nested more than 16 deep"},
	}
	for _, a := range pages {
		status, body, took := s.get(t, a.path)
		t.Logf("%-28s %d in %v", a.name, status, took.Round(time.Millisecond))
		said := slices.ContainsFunc(strings.Split(a.text, "|"), func(text string) bool { return strings.Contains(body, text) })
		if status != a.status || !said || a.where != "" && !strings.Contains(body, "<code>"+a.where+"</code>") {
			t.Errorf("%s: %d, want %d with %q at %s; body:\n%s", a.name, status, a.status, a.text, a.where, tail(body, 2000))
		}
		s.alive(t, a.name)
	}

	t.Run("4 growing tables at once", func(t *testing.T) {
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, s.url+"/growth.lasp", nil)
				resp, err := http.DefaultClient.Do(req) // no session: all four run at once
				if err != nil {
					t.Errorf("bomb %d: %v", i, err)
					return
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		wg.Wait()
		for i, st := range statuses {
			if st != 500 && st != 503 {
				t.Errorf("bomb %d: %d, want 500 (stopped) or 503 (memory short)", i, st)
			}
		}
		t.Logf("4 bombs: %v", statuses)
		s.alive(t, "4 bombs")
	})

	t.Run("malformed bodies", func(t *testing.T) {
		for _, b := range []struct {
			name, contentType string
			body              []byte
		}{
			{"malformed multipart", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end")},
			{"1,000,000 urlencoded fields", "application/x-www-form-urlencoded", bytes.Repeat([]byte("a=1&"), 1_000_000)},
		} {
			req, _ := http.NewRequest(http.MethodPost, s.url+"/form.lasp", bytes.NewReader(b.body))
			req.Header.Set("Content-Type", b.contentType)
			status, body, took := s.do(t, req)
			t.Logf("%-28s %d in %v", b.name, status, took.Round(time.Millisecond))
			if status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400; body:\n%s", b.name, status, tail(body, 1000))
			}
			s.alive(t, b.name)
		}
	})

	t.Run("slow body", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /slow.lasp HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
		start := time.Now()
		answered := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(conn)
			answered <- string(b)
		}()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var answer string
	trickle:
		for range 40 { // a byte a second, for as long as 40 s
			select {
			case answer = <-answered:
				break trickle
			case <-tick.C:
				conn.Write([]byte("a"))
			}
		}
		took := time.Since(start)
		t.Logf("%-28s %.40q in %v", "body at 1 byte/s", answer, took.Round(time.Millisecond))
		if !strings.HasPrefix(answer, "HTTP/1.1 500") || took > 10*time.Second {
			t.Errorf("slow body: answered %.60q after %v, want a 500 at the 2 s script timeout", answer, took)
		}
		s.alive(t, "slow body")
	})

	t.Run("100 uploads of 9 MB at once", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "big.bin")
		fw.Write(bytes.Repeat([]byte("0123456789abcdef"), 9<<20/16))
		mw.WriteField("a", "1")
		mw.Close()
		body := buf.Bytes()
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[int]int{}
		for range 100 {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, s.url+"/form.lasp", bytes.NewReader(body))
				req.Header.Set("Content-Type", mw.FormDataContentType())
				resp, err := http.DefaultClient.Do(req)
				status := 0
				if err != nil {
					t.Log(err)
				}
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				mu.Lock()
				counts[status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		t.Logf("100 uploads: statuses %v", counts)
		if counts[200]+counts[503] != 100 || counts[200] == 0 {
			t.Errorf("100 uploads: statuses %v, want each 200 or 503, some 200", counts)
		}
		s.alive(t, "100 uploads")
	})

	rss := s.peakRSS()
	t.Logf("peak RSS %d MiB against -memory-limit %d MiB", rss>>20, hostileMemoryLimit>>20)
	if err := s.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("serve is gone: %v", err)
	}
}
