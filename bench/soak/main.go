// Command soak runs a Lasp server in this process under mixed load for a
// while and checks that the server's memory and goroutines stay flat
// (issue 9: no page and no request can take the server down). It is a tool
// for people, not a test: neither go test nor CI runs it.
//
//	go run ./bench/soak                        # 10 minutes, a sample every 30 s
//	go run ./bench/soak -duration 90s -every 15s
//	go run ./bench/soak -h                     # every flag
//
// The tool writes a small application into a temporary directory, serves it
// with framework.New behind a real http.Server on a free loopback port, with
// Config.MemoryLimit and debug.SetMemoryLimit both set to -memory-limit (as
// serve does), and loads it from a fixed number of worker goroutines, each
// with a few sessions (an http.Client with its own cookie jar apiece). The
// mix, printed at the start, has session counters, ReadOnly pages, pages
// that fail with a Lua error, pages that run past a ScriptTimeout of 0.2 s,
// static files, multipart uploads of 1 to 9 MiB, and Application:Lock
// increments; besides, every -bomb-every a page grows a table without end
// until the memory limit stops it. Every answer is checked (status, and the
// body: the application's 500.lasp writes Server.GetLastError()); a 503 with
// Retry-After, the server's answer while memory is short, is allowed.
//
// Because the server runs in this process, the samples read its RSS
// (VmRSS of /proc/self/status), Go heap in use and runtime.NumGoroutine();
// the load's own share of these is constant. Samples are taken while no
// bomb runs. RSS as found swings with the bombs (a bomb takes the process
// near its limit, and the scavenger returns that memory over seconds), so
// each sample also reads RSS "settled": after debug.FreeOSMemory, which
// leaves what the process really holds on to; heap in use is read after
// that collection too. At the end the tool fits a least-squares line to
// the samples taken after -warmup and calls settled RSS and goroutines flat
// when the line rises by no more than -rss-tolerance and
// -goroutine-tolerance (at least 3 goroutines) of its starting value over
// that span. It exits 1 when either is not flat, when the peak RSS
// (VmHWM) went over the memory limit, when a request got a transport error
// or an answer it should not have, or when the server logged an error or
// warning that the load does not cause; 0 otherwise.
//
// The load is paced (-rate) to leave a 2-core machine usable; the bombs and
// the timed-out pages are what costs CPU.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"lasp/framework"
)

// app is the application under load, written into a temporary directory.
var app = map[string]string{
	// 500.lasp shows what went wrong, so that answers can be checked.
	"500.lasp":      `<% local e = Server.GetLastError() %><%- e.Category %>|<%- e.Description %>`,
	"counter.lasp":  "<% local n = (Session['n'] or 0) + 1\nSession['n'] = n %><%= n %>",
	"readonly.lasp": `<%@ EnableSessionState="ReadOnly" %><%= Session['n'] or 0 %>`,
	"error.lasp":    "<% local t = nil %>\n<%= t.field %>",
	"timeout.lasp":  "<% Server.ScriptTimeout = 0.2\nwhile true do end %>",
	"upload.lasp":   `<%@ EnableSessionState="False" %><%= Request.Form['note'] %>:<%= Request.TotalBytes %>`,
	"app.lasp":      "<%@ EnableSessionState=\"False\" %><% Application:Lock()\nlocal n = (Application['hits'] or 0) + 1\nApplication['hits'] = n\nApplication:Unlock() %><%= n %>",
	"apphits.lasp":  `<%@ EnableSessionState="False" %><%= Application['hits'] or 0 %>`,
	"bomb.lasp":     "<%@ EnableSessionState=\"False\" %><% local t, i = {}, 0\nwhile true do i = i + 1 t[i] = ('x'):rep(1000) .. i end %>",
	"static.txt":    strings.Repeat("static file line of 32 bytes...\n", 1024),
}

const staticSize = 32 << 10

// kinds are the requests of the mix, with their weights per 1000. The
// bombs are not in the mix: they come on their own clock.
var kinds = []struct {
	name   string
	weight int
}{
	{"session", 410},
	{"readonly", 200},
	{"static", 150},
	{"app", 120},
	{"error", 80},
	{"upload", 30},
	{"timeout", 10},
}

const bombKind = "bomb"

// options are the flags.
type options struct {
	duration, every, warmup, bombEvery, timeout time.Duration
	memoryLimit                                 int64
	workers, sessions                           int
	rate                                        float64
	rssTolerance, goroutineTolerance            float64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ok, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs")
	fs.DurationVar(&o.every, "every", 30*time.Second, "time between two samples")
	fs.DurationVar(&o.warmup, "warmup", time.Minute, "samples before this are left out of the verdict")
	fs.DurationVar(&o.bombEvery, "bomb-every", 5*time.Second, "time between two memory bombs (0: none)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "client timeout of each request")
	limit := fs.String("memory-limit", "512MiB", "the server's memory limit (Config.MemoryLimit and debug.SetMemoryLimit), bytes with an optional KiB, MiB or GiB")
	fs.IntVar(&o.workers, "workers", 6, "load goroutines, each doing one request at a time")
	fs.IntVar(&o.sessions, "sessions", 3, "sessions kept by each worker")
	fs.Float64Var(&o.rate, "rate", 80, "requests per second of all workers together, bombs aside")
	fs.Float64Var(&o.rssTolerance, "rss-tolerance", 0.25, "largest rise of RSS, as a fraction, that is still flat")
	fs.Float64Var(&o.goroutineTolerance, "goroutine-tolerance", 0.10, "largest rise of goroutines, as a fraction (at least 3), that is still flat")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./bench/soak [flags]

Runs a Lasp server in this process under mixed load, prints a sample of its
RSS, heap, goroutines and request counts every -every, and exits 1 unless
RSS and goroutines stayed flat and every answer was as expected.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.memoryLimit, err = parseSize(*limit); err != nil {
		return o, fmt.Errorf("-memory-limit: %w", err)
	}
	switch {
	case o.every <= 0 || o.duration <= 0 || o.timeout <= 0 || o.warmup < 0 || o.bombEvery < 0:
		return o, errors.New("-duration, -every and -timeout must be positive; -warmup and -bomb-every not negative")
	case o.duration < o.warmup+2*o.every:
		return o, fmt.Errorf("-duration %v leaves fewer than 3 samples after the -warmup of %v (one every %v)", o.duration, o.warmup, o.every)
	case o.workers < 1 || o.sessions < 1 || o.rate <= 0:
		return o, errors.New("-workers, -sessions and -rate must be positive")
	case o.memoryLimit < 64<<20:
		return o, errors.New("-memory-limit must be at least 64MiB")
	}
	return o, nil
}

// parseSize reads "512MiB", "1GiB", "65536".
func parseSize(s string) (int64, error) {
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return n * mult, nil
}

// run serves the application, loads it for o.duration, prints the samples
// and the verdict, and reports whether everything stayed flat and clean.
func run(ctx context.Context, o options, out io.Writer) (bool, error) {
	goroutinesBefore := runtime.NumGoroutine()
	dir, err := os.MkdirTemp("", "lasp-soak-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	for name, text := range app {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return false, err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return false, err
	}
	defer root.Close()

	debug.SetMemoryLimit(o.memoryLimit)
	logs := newLogCounter()
	srvApp, err := framework.New(framework.Config{
		Root:          root.FS(),
		Dir:           dir,
		MemoryLimit:   o.memoryLimit,
		ScriptTimeout: o.timeout * 2 / 3, // the server answers before the client gives up
		Logger:        slog.New(logs),
	})
	if err != nil {
		return false, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, errors.Join(err, srvApp.Close(context.Background()))
	}
	srv := &http.Server{
		Handler:           srvApp,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logs, slog.LevelError),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	fmt.Fprintf(out, "soak: Lasp in this process on %s, %d CPUs, GOMAXPROCS %d, memory limit %s\n",
		base, runtime.NumCPU(), runtime.GOMAXPROCS(0), mib(uint64(o.memoryLimit)))
	fmt.Fprintf(out, "load: %v, %d workers with %d sessions each, %.0f requests/s in all; a sample every %v, verdict on the samples after %v\n",
		o.duration, o.workers, o.sessions, o.rate, o.every, o.warmup)
	var mix []string
	for _, k := range kinds {
		mix = append(mix, fmt.Sprintf("%s %.1f%%", k.name, float64(k.weight)/10))
	}
	fmt.Fprintf(out, "mix: %s; uploads of 1-9 MiB; a memory bomb every %v; client timeout %v\n",
		strings.Join(mix, ", "), o.bombEvery, o.timeout)

	l := newLoad(base, o)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { l.pace(loadCtx) })
	for range o.workers {
		w := l.newWorker()
		wg.Go(func() { w.loop(loadCtx) })
	}
	if o.bombEvery > 0 {
		wg.Go(func() { l.bombs(loadCtx) })
	}

	var samples []sample
	first := l.sample(0)
	fmt.Fprintln(out, first.line(l))
	start := time.Now()
	interrupted := false
	for i := 1; ; i++ {
		at := min(time.Duration(i)*o.every, o.duration)
		select {
		case <-time.After(time.Until(start.Add(at))):
		case <-ctx.Done():
			interrupted = true
		}
		if interrupted {
			break
		}
		s := l.sample(time.Since(start))
		samples = append(samples, s)
		fmt.Fprintln(out, s.line(l))
		if at >= o.duration {
			break
		}
	}
	stopLoad()
	wg.Wait()
	l.closeIdle()

	// What the application counted, before it closes.
	hits, hitsErr := l.appHits()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", err))
	}
	if err := srvApp.Close(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("close: %w", err))
	}
	if interrupted {
		errs = append(errs, errors.New("interrupted"))
	}
	if err := errors.Join(errs...); err != nil {
		return false, err
	}
	// Goroutines that end on their own (closed connections) get a moment.
	goroutinesAfter := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); goroutinesAfter > goroutinesBefore && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		goroutinesAfter = runtime.NumGoroutine()
	}

	return report(out, o, l, logs, samples, hits, hitsErr, goroutinesBefore, goroutinesAfter), nil
}

// load is the load generator and its tallies.
type load struct {
	o      options
	base   string
	tr     *http.Transport
	tokens chan struct{}

	// upload is the multipart body of an upload, data cut to each size.
	uploadHead, uploadTail []byte
	uploadType             string
	data                   []byte

	// bombMu keeps samples from being taken while a bomb runs.
	bombMu sync.Mutex

	mu        sync.Mutex
	tally     map[string]*kindTally
	bombTimes []time.Duration // of bombs stopped by the memory limit
	cookies   int             // session cookies set by the server
	lost      int             // times a session's cookie changed (session lost)
	mismatch  int             // counter or ReadOnly answers not the expected n
	problems  []string        // the first few wrong answers and transport errors
}

type kindTally struct {
	status    map[int]int
	transport int // no answer: connection error or client timeout
	wrong     int // an answer that the page should not give
}

const maxProblems = 12

func newLoad(base string, o options) *load {
	l := &load{
		o:    o,
		base: base,
		tr: &http.Transport{
			Proxy:               nil, // loopback only
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: o.workers + 4,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		tokens: make(chan struct{}, 1),
		tally:  map[string]*kindTally{},
		data:   make([]byte, 9<<20),
	}
	for i := range l.data {
		l.data[i] = byte(rand.Uint32())
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("note", "soak")
	mw.CreateFormFile("file", "blob.bin")
	l.uploadHead = bytes.Clone(b.Bytes())
	b.Reset()
	mw.Close()
	l.uploadTail = bytes.Clone(b.Bytes())
	l.uploadType = mw.FormDataContentType()
	for _, k := range kinds {
		l.tally[k.name] = &kindTally{status: map[int]int{}}
	}
	l.tally[bombKind] = &kindTally{status: map[int]int{}}
	return l
}

// pace hands the workers o.rate tokens a second.
func (l *load) pace(ctx context.Context) {
	t := time.NewTicker(time.Duration(float64(time.Second) / l.o.rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case l.tokens <- struct{}{}:
			default:
			}
		}
	}
}

func (l *load) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: l.tr, Jar: jar, Timeout: l.o.timeout}
}

func (l *load) closeIdle() { l.tr.CloseIdleConnections() }

// session is one of a worker's sessions: its client and the counter value
// it last saw (-1: unknown, after a request that may or may not have run).
type session struct {
	c      *http.Client
	cookie string
	n      int
}

type worker struct {
	l        *load
	sessions []*session
	total    int
}

func (l *load) newWorker() *worker {
	w := &worker{l: l}
	for range l.o.sessions {
		w.sessions = append(w.sessions, &session{c: l.client()})
	}
	for _, k := range kinds {
		w.total += k.weight
	}
	return w
}

func (w *worker) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.l.tokens:
		}
		s := w.sessions[rand.IntN(len(w.sessions))]
		pick := rand.IntN(w.total)
		for _, k := range kinds {
			if pick -= k.weight; pick < 0 {
				w.do(s, k.name)
				break
			}
		}
	}
}

// answer is what a request got: the status, the body (up to 64 KiB), whether
// a 503 came with Retry-After, or the transport error.
type answer struct {
	status     int
	body       string
	retryAfter bool
	took       time.Duration
	err        error
}

func (l *load) send(c *http.Client, req *http.Request) answer {
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	a := answer{status: resp.StatusCode, body: string(body), retryAfter: resp.Header.Get("Retry-After") != "", took: time.Since(start), err: err}
	if err != nil {
		a.err = fmt.Errorf("reading the body: %w", err)
	}
	return a
}

func (l *load) get(c *http.Client, path string) answer {
	req, err := http.NewRequest(http.MethodGet, l.base+path, nil)
	if err != nil {
		return answer{err: err}
	}
	return l.send(c, req)
}

// uploadLen is the length of an upload's body with a file of size bytes.
func (l *load) uploadLen(size int) int { return len(l.uploadHead) + size + len(l.uploadTail) }

// upload posts a multipart form with a file of size bytes.
func (l *load) upload(c *http.Client, size int) answer {
	body := func() io.Reader {
		return io.MultiReader(bytes.NewReader(l.uploadHead), bytes.NewReader(l.data[:size]), bytes.NewReader(l.uploadTail))
	}
	req, err := http.NewRequest(http.MethodPost, l.base+"/upload.lasp", body())
	if err != nil {
		return answer{err: err}
	}
	req.ContentLength = int64(l.uploadLen(size))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
	req.Header.Set("Content-Type", l.uploadType)
	return l.send(c, req)
}

// do sends one request of kind for session s and checks its answer.
func (w *worker) do(s *session, kind string) {
	l := w.l
	var a answer
	var want func(a answer) bool
	switch kind {
	case "session":
		a = l.get(s.c, "/counter.lasp")
		want = func(a answer) bool { return a.status == 200 && l.sameN(s, a.body, 1) }
	case "readonly":
		a = l.get(s.c, "/readonly.lasp")
		want = func(a answer) bool { return a.status == 200 && l.sameN(s, a.body, 0) }
	case "static":
		a = l.get(s.c, "/static.txt")
		want = func(a answer) bool { return a.status == 200 && len(a.body) == staticSize }
	case "app":
		a = l.get(s.c, "/app.lasp")
		want = func(a answer) bool { _, err := strconv.Atoi(a.body); return a.status == 200 && err == nil }
	case "error":
		a = l.get(s.c, "/error.lasp")
		want = func(a answer) bool {
			return a.status == 500 && strings.HasPrefix(a.body, "Lua runtime error|") && strings.Contains(a.body, "attempt to index")
		}
	case "timeout":
		a = l.get(s.c, "/timeout.lasp")
		want = func(a answer) bool { return a.status == 500 && strings.HasPrefix(a.body, "Lua script timeout|") }
	case "upload":
		size := 1<<20 + rand.IntN(8<<20+1)
		a = l.upload(s.c, size)
		want = func(a answer) bool { return a.status == 200 && a.body == "soak:"+strconv.Itoa(l.uploadLen(size)) }
	}
	if a.err != nil && kind == "session" {
		s.n = -1 // it may have run
	}
	l.record(kind, a, want)
	l.checkCookie(s)
}

// sameN checks a counter answer against the session's last value plus
// inc, and remembers the answer.
func (l *load) sameN(s *session, body string, inc int) bool {
	n, err := strconv.Atoi(body)
	if err != nil {
		return false
	}
	ok := s.n < 0 || n == s.n+inc
	s.n = n
	if !ok {
		l.mu.Lock()
		l.mismatch++
		l.mu.Unlock()
	}
	return ok
}

// checkCookie notes a session cookie set or changed by the server.
func (l *load) checkCookie(s *session) {
	u, _ := url.Parse(l.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name != "LASPSESSIONID" || c.Value == s.cookie {
			continue
		}
		l.mu.Lock()
		l.cookies++
		if s.cookie != "" {
			l.lost++
		}
		l.mu.Unlock()
		s.cookie = c.Value
	}
}

// record tallies an answer of kind; want says whether it is right. A 503
// with Retry-After (memory short) is always allowed.
func (l *load) record(kind string, a answer, want func(answer) bool) {
	right := a.err != nil || (a.status == 503 && a.retryAfter) || want(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tally[kind]
	problem := ""
	switch {
	case a.err != nil:
		t.transport++
		problem = fmt.Sprintf("%s: transport error after %v: %v", kind, a.took.Round(time.Millisecond), a.err)
	case a.status == 503 && a.retryAfter:
		t.status[a.status]++
	default:
		t.status[a.status]++
		if !right {
			t.wrong++
			problem = fmt.Sprintf("%s: %d %q", kind, a.status, short(a.body, 200))
		}
	}
	if problem != "" && len(l.problems) < maxProblems {
		l.problems = append(l.problems, problem)
	}
}

// bombs sends a memory bomb every o.bombEvery, one at a time.
func (l *load) bombs(ctx context.Context) {
	c := l.client()
	// Half a period off, so that bombs fall between samples when -every
	// is a multiple of -bomb-every.
	next := time.Now().Add(l.o.bombEvery / 2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		l.bombMu.Lock()
		a := l.get(c, "/bomb.lasp")
		l.bombMu.Unlock()
		next = next.Add(l.o.bombEvery)
		for time.Until(next) <= 0 { // a bomb that took longer than a period
			next = next.Add(l.o.bombEvery)
		}
		stopped := a.err == nil && a.status == 500 && strings.Contains(a.body, "memory limit")
		l.record(bombKind, a, func(answer) bool { return stopped })
		if stopped {
			l.mu.Lock()
			l.bombTimes = append(l.bombTimes, a.took)
			l.mu.Unlock()
		}
	}
}

// appHits asks the application for its Application["hits"].
func (l *load) appHits() (int, error) {
	c := l.client()
	defer l.closeIdle()
	a := l.get(c, "/apphits.lasp")
	for deadline := time.Now().Add(15 * time.Second); a.err == nil && a.status == 503 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond) // memory short after the last bomb
		a = l.get(c, "/apphits.lasp")
	}
	if a.err != nil {
		return 0, a.err
	}
	if a.status != 200 {
		return 0, fmt.Errorf("apphits.lasp: %d %q", a.status, short(a.body, 200))
	}
	return strconv.Atoi(a.body)
}

// sample is the server's state at one time.
type sample struct {
	at         time.Duration
	rss        uint64 // VmRSS as found
	settled    uint64 // VmRSS after debug.FreeOSMemory
	heap       uint64 // Go heap in use after that collection
	goroutines int
	tally      map[string]kindTally
	transport  int
	wrong      int
}

func (l *load) sample(at time.Duration) sample {
	l.bombMu.Lock()
	defer l.bombMu.Unlock()
	s := sample{at: at, rss: procStatus("VmRSS:"), goroutines: runtime.NumGoroutine(), tally: map[string]kindTally{}}
	// RSS as found depends on how long ago the last bomb ended and how far
	// the scavenger got since; after a collection that returns all free
	// memory, what is left is what the process holds on to.
	debug.FreeOSMemory()
	s.settled = procStatus("VmRSS:")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.heap = ms.HeapInuse
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, t := range l.tally {
		c := kindTally{status: map[int]int{}, transport: t.transport, wrong: t.wrong}
		for st, n := range t.status {
			c.status[st] = n
		}
		s.tally[k] = c
		s.transport += t.transport
		s.wrong += t.wrong
	}
	return s
}

func (s sample) requests() int {
	n := 0
	for _, t := range s.tally {
		n += t.transport
		for _, c := range t.status {
			n += c
		}
	}
	return n
}

// line is the sample as one line of output.
func (s sample) line(l *load) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6s  rss %s (settled %s)  heap %s  goroutines %d  requests %d:",
		fmtDuration(s.at), mib(s.rss), mib(s.settled), mib(s.heap), s.goroutines, s.requests())
	names := []string{}
	for _, k := range kinds {
		names = append(names, k.name)
	}
	for _, name := range append(names, bombKind) {
		t := s.tally[name]
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(t.status)) {
			parts = append(parts, fmt.Sprintf("%d:%d", st, t.status[st]))
		}
		if len(parts) == 0 {
			parts = []string{"-"}
		}
		fmt.Fprintf(&b, " %s %s", name, strings.Join(parts, ","))
	}
	fmt.Fprintf(&b, "  transport errors %d, wrong %d", s.transport, s.wrong)
	return b.String()
}

// report prints the summary and the verdict, and reports whether all is
// flat and clean.
func report(out io.Writer, o options, l *load, logs *logCounter, samples []sample, hits int, hitsErr error, goroutinesBefore, goroutinesAfter int) bool {
	final := l.sample(samples[len(samples)-1].at)
	var failures []string
	fmt.Fprintln(out)
	fmt.Fprintf(out, "requests: %d in %v (%.1f/s)\n", final.requests(), fmtDuration(final.at), float64(final.requests())/final.at.Seconds())
	if final.transport > 0 {
		failures = append(failures, fmt.Sprintf("%d transport errors", final.transport))
	}
	if final.wrong > 0 {
		failures = append(failures, fmt.Sprintf("%d wrong answers", final.wrong))
	}
	for _, p := range l.problems {
		fmt.Fprintln(out, "  problem:", p)
	}

	l.mu.Lock()
	bt := slices.Clone(l.bombTimes)
	cookies, lost, mismatch := l.cookies, l.lost, l.mismatch
	l.mu.Unlock()
	b := final.tally[bombKind]
	sent := b.transport
	for _, n := range b.status {
		sent += n
	}
	fmt.Fprintf(out, "memory bombs: %d sent, %d stopped by the memory limit (500), %d refused while memory was short (503)", sent, len(bt), b.status[503])
	if len(bt) > 0 {
		slices.Sort(bt)
		fmt.Fprintf(out, "; time to stop: min %v, median %v, max %v", bt[0].Round(time.Millisecond), bt[len(bt)/2].Round(time.Millisecond), bt[len(bt)-1].Round(time.Millisecond))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "sessions: %d cookies set for %d sessions, %d sessions lost, %d counter/ReadOnly answers not the expected n\n",
		cookies, o.workers*o.sessions, lost, mismatch)
	if lost > 0 || mismatch > 0 {
		failures = append(failures, "sessions lost or counters wrong")
	}
	app := final.tally["app"]
	switch {
	case hitsErr != nil:
		fmt.Fprintln(out, "application: reading Application['hits']:", hitsErr)
		failures = append(failures, "Application['hits'] unreadable")
	case app.transport > 0:
		fmt.Fprintf(out, "application: Application['hits'] = %d, %d answered 200 (%d transport errors: not compared)\n", hits, app.status[200], app.transport)
	default:
		fmt.Fprintf(out, "application: Application['hits'] = %d, %d app.lasp answered 200\n", hits, app.status[200])
		if hits != app.status[200] {
			failures = append(failures, "Application:Lock increments lost")
		}
	}
	fmt.Fprintf(out, "server log: %s\n", logs.summary())
	if n := logs.unexpectedCount(); n > 0 {
		for _, r := range logs.unexpectedRecords() {
			fmt.Fprintln(out, "  unexpected:", r)
		}
		failures = append(failures, fmt.Sprintf("%d unexpected server log records", n))
	}
	peak := procStatus("VmHWM:")
	under := peak <= uint64(o.memoryLimit)
	fmt.Fprintf(out, "peak RSS (VmHWM): %s, %s the memory limit of %s; goroutines before the server started %d, after it shut down %d\n",
		mib(peak), map[bool]string{true: "under", false: "OVER"}[under], mib(uint64(o.memoryLimit)), goroutinesBefore, goroutinesAfter)
	if !under {
		failures = append(failures, "peak RSS over the memory limit")
	}

	var after []sample
	for _, s := range samples {
		if s.at >= o.warmup {
			after = append(after, s)
		}
	}
	fmt.Fprintf(out, "flatness: a least-squares line through the %d samples at or after %v; flat when it rises by at most %.0f%% (settled RSS) and %.0f%% or 3 (goroutines) of its value at %v\n",
		len(after), o.warmup, o.rssTolerance*100, o.goroutineTolerance*100, fmtDuration(after[0].at))
	xs := make([]float64, len(after))
	rss := make([]float64, len(after))
	gor := make([]float64, len(after))
	for i, s := range after {
		xs[i], rss[i], gor[i] = s.at.Seconds(), float64(s.settled), float64(s.goroutines)
	}
	from, to := fit(xs, rss)
	rssFlat := to-from <= o.rssTolerance*from
	fmt.Fprintf(out, "  RSS settled: %s -> %s (%+.1f%%; samples %s -> %s): %s\n",
		mib(uint64(from)), mib(uint64(max(to, 0))), 100*(to-from)/from, mib(after[0].settled), mib(after[len(after)-1].settled), flat(rssFlat))
	gfrom, gto := fit(xs, gor)
	gorFlat := gto-gfrom <= max(o.goroutineTolerance*gfrom, 3)
	fmt.Fprintf(out, "  goroutines:  %.1f -> %.1f (%+.1f; samples %d -> %d): %s\n",
		gfrom, gto, gto-gfrom, after[0].goroutines, after[len(after)-1].goroutines, flat(gorFlat))
	if !rssFlat {
		failures = append(failures, "RSS grew")
	}
	if !gorFlat {
		failures = append(failures, "goroutines grew")
	}
	if len(failures) > 0 {
		fmt.Fprintf(out, "verdict: FAIL: %s\n", strings.Join(failures, "; "))
		return false
	}
	fmt.Fprintln(out, "verdict: OK: RSS and goroutines flat, every answer as expected, no transport errors")
	return true
}

func flat(ok bool) string {
	if ok {
		return "flat"
	}
	return "NOT FLAT"
}

// fit is the least-squares line through (xs, ys), as its values at the
// first and the last x.
func fit(xs, ys []float64) (from, to float64) {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i] / n
		my += ys[i] / n
	}
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	slope := 0.0
	if sxx > 0 {
		slope = sxy / sxx
	}
	at := func(x float64) float64 { return my + slope*(x-mx) }
	return at(xs[0]), at(xs[len(xs)-1])
}

// procStatus reads a "Name: N kB" line of /proc/self/status, in bytes; 0
// where there is none (not Linux).
func procStatus(name string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(n uint64) string { return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20)) }

func fmtDuration(d time.Duration) string { return d.Round(time.Second).String() }

func short(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// logCounter is the server's slog.Handler: it counts records by level and
// message, and keeps the first few that the load does not explain. The
// load explains "page failed" on the pages made to fail, "memory limit:
// stopping a page" on the bomb, and "request refused" (503) while memory
// is short.
type logCounter struct {
	mu          sync.Mutex
	counts      map[string]int
	memoryStops int
	unexpected  int
	records     []string
}

func newLogCounter() *logCounter { return &logCounter{counts: map[string]int{}} }

func (h *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logCounter) WithGroup(string) slog.Handler            { return h }

// failingPages are the pages that fail on purpose.
var failingPages = map[string]bool{"/error.lasp": true, "/timeout.lasp": true, "/bomb.lasp": true}

func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	var text strings.Builder
	fmt.Fprintf(&text, "%s %q", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		if a.Key != "traceback" {
			fmt.Fprintf(&text, " %s=%q", a.Key, short(a.Value.String(), 300))
		}
		return true
	})
	expected := r.Level < slog.LevelWarn
	switch r.Message {
	case "page failed":
		expected = failingPages[attrs["path"]]
	case "request refused":
		expected = strings.Contains(attrs["err"], "memory is short")
	case "memory limit: stopping a page":
		expected = attrs["page"] == "bomb.lasp"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[r.Level.String()+" "+r.Message]++
	if r.Message == "page failed" && strings.Contains(attrs["err"], "memory limit") {
		h.memoryStops++
	}
	if !expected {
		h.unexpected++
		if len(h.records) < maxProblems {
			h.records = append(h.records, text.String())
		}
	}
	return nil
}

func (h *logCounter) summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(h.counts)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, h.counts[k]))
	}
	return cmp.Or(strings.Join(parts, ", "), "nothing") + fmt.Sprintf(" (memory limit stops %d)", h.memoryStops)
}

func (h *logCounter) unexpectedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.unexpected
}

func (h *logCounter) unexpectedRecords() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}
