package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"lasp/templates"
)

// lockedBuffer collects what the server's goroutines write (logs) while a
// test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mapEnv is a getenv that reads env instead of the process environment.
func mapEnv(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// server is one run of the real command, started by startServe.
type server struct {
	addr   string // host:port from the "listening on" line
	url    string // http://addr, or https://addr
	stderr *lockedBuffer

	cancel context.CancelFunc
	done   chan error // run's result
	once   sync.Once
	err    error
}

// stop cancels run's context and returns what run returned. It can be called
// more than once.
func (s *server) stop() error {
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}

// startServe runs the real command with args and env in a goroutine and
// returns once it prints its "listening on" line. The test's cleanup stops it
// and expects a clean shutdown.
func startServe(t *testing.T, args []string, env map[string]string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stderr: &lockedBuffer{}, cancel: cancel, done: make(chan error, 1)}
	stdoutR, stdoutW := io.Pipe()
	go func() {
		err := run(ctx, args, mapEnv(env), stdoutW, s.stderr)
		stdoutW.Close() // the reader gets io.EOF
		s.done <- err
	}()

	r := bufio.NewReader(stdoutR)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("run ended before listening: %v\nstderr:\n%s", s.stop(), s.stderr)
	}
	go io.Copy(io.Discard, r) // never block run's later writes to stdout
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("run returned %v after cancel, want nil\nstderr:\n%s", err, s.stderr)
		}
	})

	scheme, addr, ok := strings.Cut(strings.TrimPrefix(line, "listening on "), "://") // http, or https with -tls-cert
	if !ok || !strings.HasPrefix(line, "listening on ") || scheme != "http" && scheme != "https" || !strings.HasSuffix(addr, "\n") {
		t.Fatalf("stdout line = %q, want \"listening on http://ADDR\\n\" (or https://)", line)
	}
	s.addr = strings.TrimSuffix(addr, "\n")
	s.url = scheme + "://" + s.addr
	return s
}

// writeApp writes files (slash paths → contents) under dir.
func writeApp(t *testing.T, dir string, files map[string]string) {
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

// get fetches url and returns the response with its body read.
func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(body)
}

func TestServeAnswers(t *testing.T) {
	root := t.TempDir()
	writeApp(t, root, map[string]string{
		"index.lasp":       `<p>Hello, <%= "world" %></p>`,
		"css/site.css":     `body { color: black }`,
		"global.lasa":      ``,
		"inc/header.inc":   `<h1>header</h1>`,
		"lib/util.lua":     `return {}`,
		"components/X.lua": `return {}`,
	})
	s := startServe(t, []string{"-root", root, "-addr", "127.0.0.1:0"}, nil)

	// The request pipeline is being written: until it lands the handler
	// answers 404 for everything, so want* left zero means "any well-formed
	// response". Fill them in as pages are served.
	tests := []struct {
		name       string
		path       string
		wantStatus int    // 0: any status
		wantBody   string // "": any body; else the body must contain it
	}{
		{name: "page", path: "/"},
		{name: "static file", path: "/css/site.css"},
		{name: "missing", path: "/no-such-page.lasp", wantStatus: http.StatusNotFound},
		{name: "global file is never served", path: "/global.lasa", wantStatus: http.StatusNotFound},
		{name: "include is never served", path: "/inc/header.inc", wantStatus: http.StatusNotFound},
		{name: "lib is never served", path: "/lib/util.lua", wantStatus: http.StatusNotFound},
		{name: "components are never served", path: "/components/X.lua", wantStatus: http.StatusNotFound},
	}
	client := &http.Client{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, client, s.url+tt.path)
			if resp.ProtoMajor != 1 || resp.StatusCode < 100 || resp.StatusCode > 599 {
				t.Fatalf("GET %s: malformed response %s %s", tt.path, resp.Proto, resp.Status)
			}
			if tt.wantStatus != 0 && resp.StatusCode != tt.wantStatus {
				t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.wantStatus)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s: body %q does not contain %q", tt.path, body, tt.wantBody)
			}
		})
	}
}

// TestAccessLog: one line per request by default (msg=request, with the
// method, path, status, bytes, duration and request ID), none with
// -access-log=false.
func TestAccessLog(t *testing.T) {
	root := t.TempDir()
	writeApp(t, root, map[string]string{"index.lasp": `<p>Hello</p>`})
	on := startServe(t, []string{"-root", root, "-addr", "127.0.0.1:0"}, nil)
	get(t, http.DefaultClient, on.url+"/")
	get(t, http.DefaultClient, on.url+"/missing")
	deadline := time.Now().Add(5 * time.Second) // log lines wait up to flushEvery
	for !strings.Contains(on.stderr.String(), "path=/missing") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	logs := on.stderr.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`level=INFO msg=request method=GET path=/ status=200 bytes=12 duration=\S+ request_id=\S+-1\n`),
		regexp.MustCompile(`level=INFO msg=request method=GET path=/missing status=404 bytes=\d+ duration=\S+ request_id=\S+-2\n`),
	} {
		if !want.MatchString(logs) {
			t.Errorf("no line matching %s in the log:\n%s", want, logs)
		}
	}
	off := startServe(t, []string{"-root", root, "-addr", "127.0.0.1:0", "-access-log=false"}, nil)
	get(t, http.DefaultClient, off.url+"/")
	if logs := off.stderr.String(); strings.Contains(logs, "msg=request") {
		t.Errorf("-access-log=false still logs requests:\n%s", logs)
	}
}

func TestShutdown(t *testing.T) {
	s := startServe(t, []string{"-root", t.TempDir(), "-addr", "127.0.0.1:0"}, nil)

	// Leave a keep-alive connection open: shutdown must close it, not wait.
	client := &http.Client{}
	get(t, client, s.url+"/")

	if err := s.stop(); err != nil {
		t.Fatalf("run returned %v after cancel, want nil\nstderr:\n%s", err, s.stderr)
	}
	if conn, err := net.Dial("tcp", s.addr); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after run returned", s.addr)
	}
	logs := s.stderr.String()
	for _, want := range []string{"msg=listening", "addr=" + s.addr, `msg="shutting down"`, "msg=stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestParseOptions(t *testing.T) {
	defaults := options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true}
	allEnv := map[string]string{
		"LASP_ROOT":           "/srv/app",
		"LASP_ADDR":           "0.0.0.0:9000",
		"LASP_DEV":            "true",
		"LASP_SCRIPT_TIMEOUT": "5s",
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    options
		wantErr string // "": no error; else the error contains it
	}{
		{name: "defaults", want: defaults},
		{
			name: "session timeout",
			args: []string{"-session-timeout", "90m"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 90 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{
			name: "session timeout variable",
			env:  map[string]string{"LASP_SESSION_TIMEOUT": "5m"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 5 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{
			name: "cookie store",
			args: []string{"-session-store", "cookie", "-keys", "k"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "cookie", keys: "k", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{name: "cookie store without keys", env: map[string]string{"LASP_SESSION_STORE": "cookie"}, wantErr: "LASP_SESSION_STORE cookie needs -keys"},
		{name: "unknown application store", args: []string{"-application-store", "disk"}, wantErr: `-application-store: unknown application store "disk"`},
		{name: "unknown store", args: []string{"-session-store", "disk"}, wantErr: `-session-store: unknown session store "disk"`},
		{name: "zero session timeout", args: []string{"-session-timeout", "0s"}, wantErr: "-session-timeout must be positive"},
		{
			name: "flags",
			args: []string{"-root", "app", "-addr", "127.0.0.1:0", "-dev", "-script-timeout", "2m"},
			want: options{root: "app", addr: "127.0.0.1:0", dev: true, scriptTimeout: 2 * time.Minute, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{
			name: "environment",
			env:  allEnv,
			want: options{root: "/srv/app", addr: "0.0.0.0:9000", dev: true, scriptTimeout: 5 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{
			name: "flags win over environment",
			args: []string{"-root", "app", "-addr", "127.0.0.1:0", "-dev=false", "-script-timeout", "1m"},
			env:  allEnv,
			want: options{root: "app", addr: "127.0.0.1:0", dev: false, scriptTimeout: time.Minute, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{
			name: "one flag, the rest from the environment",
			args: []string{"-addr", "127.0.0.1:0"},
			env:  allEnv,
			want: options{root: "/srv/app", addr: "127.0.0.1:0", dev: true, scriptTimeout: 5 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{
			name: "empty variables count as unset",
			env:  map[string]string{"LASP_ROOT": "", "LASP_ADDR": "", "LASP_DEV": "", "LASP_SCRIPT_TIMEOUT": ""},
			want: defaults,
		},
		{
			name: "a bad variable behind a flag is ignored",
			args: []string{"-script-timeout", "3s"},
			env:  map[string]string{"LASP_SCRIPT_TIMEOUT": "soon"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 3 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true},
		},
		{name: "bad duration flag", args: []string{"-script-timeout", "soon"}, wantErr: "-script-timeout"},
		{name: "bad bool flag", args: []string{"-dev=maybe"}, wantErr: "-dev"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "-nope"},
		{name: "zero script timeout", args: []string{"-script-timeout", "0s"}, wantErr: "-script-timeout must be positive"},
		{name: "empty addr", args: []string{"-addr", ""}, wantErr: "-addr is empty"},
		{name: "unexpected argument", args: []string{"-dev", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "bad duration variable", env: map[string]string{"LASP_SCRIPT_TIMEOUT": "soon"}, wantErr: `invalid value "soon" for LASP_SCRIPT_TIMEOUT`},
		{name: "bad bool variable", env: map[string]string{"LASP_DEV": "maybe"}, wantErr: `invalid value "maybe" for LASP_DEV`},
		{name: "negative variable", env: map[string]string{"LASP_SCRIPT_TIMEOUT": "-1s"}, wantErr: "LASP_SCRIPT_TIMEOUT must be positive"},
		{
			name: "sizes",
			args: []string{"-memory-limit", "512MiB", "-max-request-body", "1MiB"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true,
				maxRequestBody: 1 << 20, memoryLimit: 512 << 20},
		},
		{
			name: "no memory limit",
			env:  map[string]string{"LASP_MEMORY_LIMIT": "0"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true,
				maxRequestBody: 32 << 20, memoryLimit: 0},
		},
		{name: "bad size", args: []string{"-memory-limit", "lots"}, wantErr: `invalid value "lots" for flag -memory-limit`},
		{name: "bad size variable", env: map[string]string{"LASP_MAX_REQUEST_BODY": "1.5MiB"}, wantErr: `invalid value "1.5MiB" for LASP_MAX_REQUEST_BODY`},
		{name: "zero body", args: []string{"-max-request-body", "0"}, wantErr: "-max-request-body must be positive"},
		{
			name: "databases, from flags and the environment",
			args: []string{"-database", "shop=sqlite:data/shop.db", "-database", "farm=postgres://u:p@db/farm"},
			env:  map[string]string{"LASP_DATABASE": "ignored=sqlite:data/x.db"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true,
				databases: map[string]string{"shop": "sqlite:data/shop.db", "farm": "postgres://u:p@db/farm"}},
		},
		{
			name: "databases from the environment",
			env:  map[string]string{"LASP_DATABASE": "a=sqlite:/var/a.db  b=sqlite:data/b.db"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true, crossOrigin: true,
				databases: map[string]string{"a": "sqlite:/var/a.db", "b": "sqlite:data/b.db"}},
		},
		{
			name: "proxies and origins",
			args: []string{"-trusted-proxies", "10.0.0.0/8, 127.0.0.1,::1", "-trusted-origins", "https://a.example,https://b.example", "-cross-origin-protection=false"},
			want: options{root: ".", addr: "127.0.0.1:8080", scriptTimeout: 90 * time.Second, sessionTimeout: 20 * time.Minute, sessionStore: "memory", applicationStore: "memory", accessLog: true,
				trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
				trustedOrigins: []string{"https://a.example", "https://b.example"}},
		},
		{name: "bad proxy", args: []string{"-trusted-proxies", "10.0.0.0/33"}, wantErr: `neither a CIDR`},
		{name: "database without a name", args: []string{"-database", "sqlite:data/x.db"}, wantErr: `want NAME=URL`},
		{name: "database twice", args: []string{"-database", "a=sqlite:data/x.db", "-database", "a=sqlite:data/y.db"}, wantErr: `database a is given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := parseOptions(tt.args, mapEnv(tt.env), &stderr)
			if tt.wantErr != "" {
				var usage *usageError
				if !errors.As(err, &usage) {
					t.Fatalf("err = %v (%T), want a *usageError containing %q", err, err, tt.wantErr)
				}
				// The flag package prints its own errors; ours come back whole.
				if msg := err.Error() + stderr.String(); !strings.Contains(msg, tt.wantErr) {
					t.Fatalf("error %q (stderr %q) does not contain %q", err, stderr.String(), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.want.maxRequestBody == 0 && tt.want.memoryLimit == 0 { // the sizes' defaults
				tt.want.maxRequestBody, tt.want.memoryLimit = 32<<20, autoMemoryLimit
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEnvironmentEndToEnd(t *testing.T) {
	root := t.TempDir()

	t.Run("variables apply", func(t *testing.T) {
		s := startServe(t, nil, map[string]string{
			"LASP_ROOT":           root,
			"LASP_ADDR":           "127.0.0.1:0",
			"LASP_DEV":            "1",
			"LASP_SCRIPT_TIMEOUT": "7s",
		})
		host, port, err := net.SplitHostPort(s.addr)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Fatalf("listening on %q, want 127.0.0.1 and a real port", s.addr)
		}
		get(t, &http.Client{}, s.url+"/")
		logs := s.stderr.String()
		for _, want := range []string{"root=" + root, "dev=true", "script_timeout=7s"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %q:\n%s", want, logs)
			}
		}
	})

	t.Run("flags win", func(t *testing.T) {
		// Were the variables used, run would fail: no such root, no such address.
		s := startServe(t, []string{"-root", root, "-addr", "127.0.0.1:0"}, map[string]string{
			"LASP_ROOT": filepath.Join(root, "missing"),
			"LASP_ADDR": "not an address",
		})
		get(t, &http.Client{}, s.url+"/")
		if logs := s.stderr.String(); !strings.Contains(logs, "root="+root+" ") {
			t.Errorf("logs lack root=%s:\n%s", root, logs)
		}
	})
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-app")
	file := filepath.Join(dir, "a-file")
	writeApp(t, dir, map[string]string{"a-file": "not a directory"})
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantErr   string
		wantUsage bool // a *usageError: main exits 2
	}{
		{name: "missing root", args: []string{"-root", missing, "-addr", "127.0.0.1:0"}, wantErr: missing + " does not exist"},
		{name: "missing root from environment", env: map[string]string{"LASP_ROOT": missing, "LASP_ADDR": "127.0.0.1:0"}, wantErr: missing},
		{name: "root is a file", args: []string{"-root", file, "-addr", "127.0.0.1:0"}, wantErr: file},
		{name: "address in use", args: []string{"-root", dir, "-addr", busy.Addr().String()}, wantErr: busy.Addr().String()},
		{name: "bad address", args: []string{"-root", dir, "-addr", "no-port"}, wantErr: "no-port"},
		{name: "bad flag value", args: []string{"-script-timeout", "abc"}, wantErr: "invalid value", wantUsage: true},
		{name: "bad variable", env: map[string]string{"LASP_SCRIPT_TIMEOUT": "abc"}, wantErr: "LASP_SCRIPT_TIMEOUT", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, mapEnv(tt.env), &stdout, &stderr)
			if err == nil {
				t.Fatalf("run succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			var usage *usageError
			if got := errors.As(err, &usage); got != tt.wantUsage {
				t.Errorf("error %q is a usage error: %v, want %v", err, got, tt.wantUsage)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"new", "-h"}} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), args, mapEnv(nil), &stdout, &stderr)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("run %q = %v, want flag.ErrHelp", args, err)
		}
		if !strings.Contains(stderr.String(), "serve new DIR") {
			t.Errorf("run %q: usage lacks \"serve new DIR\":\n%s", args, stderr.String())
		}
	}
	var stderr bytes.Buffer
	run(t.Context(), []string{"-h"}, mapEnv(nil), io.Discard, &stderr)
	for _, want := range []string{"-script-timeout", "LASP_SCRIPT_TIMEOUT", "-root", "-addr", "-dev"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		want       int
		wantStderr string // "": nothing printed
	}{
		{name: "success", err: nil, want: 0},
		{name: "help", err: flag.ErrHelp, want: 0},
		{name: "usage error printed by the flag package", err: &usageError{err: errors.New("flag provided but not defined: -x"), reported: true}, want: 2},
		{name: "usage error", err: &usageError{err: errors.New(`invalid value "x" for LASP_DEV`)}, want: 2, wantStderr: "serve: invalid value \"x\" for LASP_DEV\n"},
		{name: "wrapped usage error", err: fmt.Errorf("new: %w", &usageError{err: errors.New("bad")}), want: 2, wantStderr: "serve: new: bad\n"},
		{name: "other error", err: errors.New("application root /x does not exist"), want: 1, wantStderr: "serve: application root /x does not exist\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tt.err, &stderr); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// checkTree checks that dir holds exactly the directories and regular files
// of want, with the same contents.
func checkTree(t *testing.T, dir string, want fs.FS) {
	t.Helper()
	seen := map[string]bool{}
	err := fs.WalkDir(want, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		seen[name] = true
		p := filepath.Join(dir, filepath.FromSlash(name))
		info, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return nil
		}
		if d.IsDir() {
			if !info.IsDir() {
				t.Errorf("%s is not a directory", p)
			}
			return nil
		}
		wantData, err := fs.ReadFile(want, name)
		if err != nil {
			return err
		}
		gotData, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !bytes.Equal(gotData, wantData) {
			t.Errorf("%s differs from the starter's", name)
		}
		if info.Mode().Perm()&0o111 != 0 {
			t.Errorf("%s is executable: %v", name, info.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); !seen[name] {
			t.Errorf("%s was written but is not in the starter", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNew(t *testing.T) {
	starter := templates.Starter()
	var files int
	fs.WalkDir(starter, ".", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return err
	})
	if files == 0 {
		t.Fatal("templates.Starter() holds no files")
	}

	t.Run("new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "parent", "myapp")
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"new", dir}, mapEnv(nil), &stdout, &stderr); err != nil {
			t.Fatalf("serve new: %v\nstderr:\n%s", err, stderr.String())
		}
		checkTree(t, dir, starter)
		if want := fmt.Sprintf("wrote %d files to %s", files, dir); !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout = %q, want it to contain %q", stdout.String(), want)
		}

		// The starter application starts and answers.
		s := startServe(t, []string{"-root", dir, "-addr", "127.0.0.1:0"}, nil)
		get(t, &http.Client{}, s.url+"/")
	})

	t.Run("empty existing directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := run(t.Context(), []string{"new", dir}, mapEnv(nil), io.Discard, io.Discard); err != nil {
			t.Fatalf("serve new: %v", err)
		}
		checkTree(t, dir, starter)
	})

	t.Run("refuses a non-empty directory", func(t *testing.T) {
		dir := t.TempDir()
		writeApp(t, dir, map[string]string{"mine.txt": "keep me"})
		err := run(t.Context(), []string{"new", dir}, mapEnv(nil), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), dir+" is not empty") {
			t.Fatalf("serve new into a non-empty dir: err = %v, want %q", err, dir+" is not empty")
		}
		checkTree(t, dir, fstest.MapFS{"mine.txt": {Data: []byte("keep me")}})
	})

	t.Run("refuses a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		writeApp(t, filepath.Dir(file), map[string]string{"file": "x"})
		err := run(t.Context(), []string{"new", file}, mapEnv(nil), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("serve new onto a file: err = %v, want \"not a directory\"", err)
		}
	})

	for _, args := range [][]string{{"new"}, {"new", "a", "b"}, {"new", "-x", "a"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			err := run(t.Context(), args, mapEnv(nil), io.Discard, io.Discard)
			var usage *usageError
			if !errors.As(err, &usage) {
				t.Fatalf("run %q = %v, want a usage error", args, err)
			}
		})
	}
}

func TestWriteStarter(t *testing.T) {
	t.Run("copies the tree", func(t *testing.T) {
		src := fstest.MapFS{
			"index.lasp":             {Data: []byte("<%= 1 %>")},
			"css/site.css":           {Data: []byte("body{}")},
			"components/A.B.lua":     {Data: []byte("return {}")},
			"deep/er/still/file.txt": {Data: []byte("x")},
			"empty":                  {Mode: fs.ModeDir},
		}
		dir := filepath.Join(t.TempDir(), "app")
		n, err := writeStarter(dir, src)
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("wrote %d files, want 4", n)
		}
		checkTree(t, dir, src)
	})

	t.Run("a failed copy leaves nothing behind", func(t *testing.T) {
		src := fstest.MapFS{
			"a.txt":   {Data: []byte("a")},
			"z.link":  {Data: []byte("a.txt"), Mode: fs.ModeSymlink},
			"b/c.txt": {Data: []byte("c")},
		}
		dir := filepath.Join(t.TempDir(), "app")
		if _, err := writeStarter(dir, src); err == nil || !strings.Contains(err.Error(), "z.link") {
			t.Fatalf("writeStarter = %v, want an error naming z.link", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind after a failed copy (stat: %v)", dir, err)
		}
	})
}

// TestSignal builds the real binary, starts it, and checks that SIGTERM
// shuts it down gracefully with exit status 0.
func TestSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	bin := buildServe(t)
	cmd := exec.Command(bin, "-root", t.TempDir(), "-addr", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) { // the developer's own LASP_* stay out
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // if the test fails before Wait

	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "listening on http://")
	if err != nil || !ok {
		t.Fatalf("stdout = %q (%v), want \"listening on http://ADDR\"\nstderr:\n%s", line, err, stderr)
	}
	get(t, &http.Client{}, "http://"+addr+"/")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v, want exit status 0\nstderr:\n%s", err, stderr)
	}
	if logs := stderr.String(); !strings.Contains(logs, "msg=stopped") {
		t.Errorf("logs lack msg=stopped:\n%s", logs)
	}
}

// TestMaxRequestBody runs the command with -max-request-body, or its
// variable: a body over it answers 413, one at it reaches the page.
func TestMaxRequestBody(t *testing.T) {
	root := t.TempDir()
	writeApp(t, root, map[string]string{"form.lasp": `<%= #Request.Form("a") %>`})
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{name: "flag", args: []string{"-root", root, "-addr", "127.0.0.1:0", "-max-request-body", "1KiB"}},
		{name: "variable", args: []string{"-root", root, "-addr", "127.0.0.1:0"}, env: map[string]string{"LASP_MAX_REQUEST_BODY": "1KiB"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, tt.args, tt.env)
			for _, c := range []struct {
				value  int // bytes of the field a: the body has 2 more
				status int
				want   string
			}{
				{value: 1022, status: 200, want: "1022"},
				{value: 1023, status: 413},
			} {
				resp, err := http.Post(s.url+"/form.lasp", "application/x-www-form-urlencoded", strings.NewReader("a="+strings.Repeat("x", c.value)))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
					t.Errorf("a body of %d bytes: %d %q, want %d %q", c.value+2, resp.StatusCode, body, c.status, c.want)
				}
			}
		})
	}
}

// TestVersion: -version prints the module version, the VCS revision the
// binary was built from (when built in a git checkout) and the Go version.
func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, mapEnv(nil), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^lasp serve \S+ .*go1\.\d+`).MatchString(stdout.String()) {
		t.Errorf("-version in the test binary: %q", stdout.String())
	}
	if testing.Short() {
		return
	}
	// Built as a user builds it: go build stamps the VCS revision unless
	// told not to (GOFLAGS=-buildvcs=false here and there).
	bin := filepath.Join(t.TempDir(), "serve")
	if b, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out, err := exec.Command(bin, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
	want := `^lasp serve \S+ `
	if rev, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		want += strings.TrimSpace(string(rev)) + ` \S+( modified)? `
	}
	if !regexp.MustCompile(want + `go1\.\d+.*\n$`).Match(out) {
		t.Errorf("serve -version = %q, want it to match %s", out, want)
	}
}
