package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lasp/framework"
	"lasp/framework/session"
	"lasp/internal/redisstore"
)

const (
	// readHeaderTimeout bounds how long a client may take to send its
	// request headers (slowloris). There is deliberately no ReadTimeout:
	// it would be fixed when the request starts, cutting off the upload of
	// a page that raised its Server.ScriptTimeout. The framework bounds
	// reading a body instead: by the reading page's script timeout, and
	// otherwise by -script-timeout from the request's start.
	readHeaderTimeout = 10 * time.Second

	// idleTimeout closes keep-alive connections that stay idle this long.
	idleTimeout = 2 * time.Minute

	// shutdownTimeout bounds a graceful shutdown: in-flight requests get
	// this long to finish, and the application's Close shares the deadline.
	shutdownTimeout = 30 * time.Second
)

// envPrefix starts the environment variable of every flag: -script-timeout
// is LASP_SCRIPT_TIMEOUT.
const envPrefix = "LASP_"

// options are the settings of one "serve" run, from the command line and the
// LASP_* environment variables.
type options struct {
	root             string
	addr             string
	dev              bool
	scriptTimeout    time.Duration
	sessionTimeout   time.Duration
	sessionStore     string
	applicationStore string
	keys             string
	maxRequestBody   int64
	// memoryLimit is -memory-limit: autoMemoryLimit until given, 0 for
	// no limit.
	memoryLimit int64
	databases   map[string]string // -database NAME=URL
	accessLog   bool
	version     bool // -version: print it and exit
	// noCompression is -compress=false (stored inverted, so that the
	// zero options compress, as the flag's default does).
	noCompression bool

	// tlsCert and tlsKey are -tls-cert and -tls-key: HTTPS (and HTTP/2)
	// when set, both or neither.
	tlsCert, tlsKey string

	adminAddr      string // -admin-addr: the operators' listener; "" none
	trustedProxies []netip.Prefix
	trustedOrigins []string
	crossOrigin    bool // -cross-origin-protection
}

// autoMemoryLimit stands for the default -memory-limit, worked out from
// the machine when serve starts (framework.DefaultMemoryLimit).
const autoMemoryLimit = -1

// usageError is a mistake in the command line or in a LASP_* variable; main
// exits 2 for it. reported says the flag package has already printed it
// (with the usage text) to stderr.
type usageError struct {
	err      error
	reported bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// run is the whole command: main only adds the signals, the real environment
// and the exit status. args excludes the program name; getenv looks up
// environment variables (os.Getenv, or a map in tests). run returns when ctx
// is done and the server has shut down gracefully (nil), or on an error.
// flag.ErrHelp means -h was asked for and the usage has been printed.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "new" {
		return runNew(args[1:], stdout, stderr)
	}
	opts, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	if opts.version {
		_, err := fmt.Fprintln(stdout, version())
		return err
	}
	return serve(ctx, opts, stdout, stderr)
}

// envName is the environment variable that can set the flag called name.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseOptions reads the flags of "serve" from args, then fills each flag not
// given on the command line from its LASP_* variable, if that is set and not
// empty. The command line wins over the environment.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.root, "root", ".", "the application `dir`ectory")
	fset.StringVar(&o.addr, "addr", "127.0.0.1:8080", "where to listen, as `host:port` (port 0 picks a free port)")
	fset.BoolVar(&o.dev, "dev", false, "development mode: reload on change, detailed error pages")
	fset.DurationVar(&o.scriptTimeout, "script-timeout", 90*time.Second, "default Server.ScriptTimeout, as a Go `duration` (90s, 2m)")
	fset.StringVar(&o.keys, "keys", "", "the `file` of the session cookie keys; made when it does not exist (default: new keys at each start)")
	fset.StringVar(&o.sessionStore, "session-store", "memory", "where sessions are kept: `memory` (this process), cookie (in the encrypted cookie) or redis://host:port/db (shared by a farm); cookie and redis need -keys")
	fset.StringVar(&o.applicationStore, "application-store", "memory", "where Application's contents live: `memory` (this process) or redis://host:port/db (shared by a farm; Application:Lock() is then farm-wide)")
	fset.DurationVar(&o.sessionTimeout, "session-timeout", 20*time.Minute, "default Session.Timeout: idle time after which a session ends, as a Go `duration`")
	o.maxRequestBody = 32 << 20
	fset.Var(sizeValue{&o.maxRequestBody}, "max-request-body", "the largest request body, uploads included, as a `size` (bytes, or with KiB, MiB, GiB); larger answers 413")
	fset.Var(databasesValue{&o.databases}, "database", "a named database for Lasp.Database:Open(NAME), as `NAME=URL` (sqlite:PATH or postgres://…); repeat for several (LASP_DATABASE takes several, separated by spaces)")
	fset.StringVar(&o.adminAddr, "admin-addr", "", "the operators' listener, as `host:port`: /status, /metrics and /debug/pprof/ (off by default; keep it private)")
	fset.Var(prefixesValue{&o.trustedProxies}, "trusted-proxies", "comma-separated `CIDRs` (or addresses) of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (REMOTE_ADDR, HTTPS, Secure cookies)")
	fset.BoolVar(&o.crossOrigin, "cross-origin-protection", true, "refuse (403) unsafe requests (POST, PUT, DELETE …) that a browser sends from another origin")
	fset.Var(listValue{&o.trustedOrigins}, "trusted-origins", "comma-separated `origins` (https://partner.example) allowed to send unsafe requests across origins")
	fset.BoolVar(&o.version, "version", false, "print the version (module version, VCS revision, Go version) and exit")
	fset.BoolVar(&o.accessLog, "access-log", true, "log one line per request (msg=request: method, path, status, bytes, duration, request id, session wait)")
	fset.Var(notValue{&o.noCompression}, "compress", "gzip text responses (pages, CSS, JavaScript, JSON, SVG) of 1 KiB or more for clients that accept it")
	fset.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS (and HTTP/2) with the certificate (chain) in this PEM `file`; needs -tls-key")
	fset.StringVar(&o.tlsKey, "tls-key", "", "the private key of -tls-cert, a PEM `file`")
	o.memoryLimit = autoMemoryLimit
	fset.Var(sizeValue{&o.memoryLimit}, "memory-limit", "the memory the server may use, as a `size`: a page that drives it past this is stopped, and new pages answer 503 while memory is short; 0 means no limit (default: 3/4 of physical memory or of the cgroup's limit, less under an address-space limit)")
	fset.Usage = func() {
		w := fset.Output()
		fmt.Fprint(w, `Usage:
  serve [flags]     run the application in -root
  serve new DIR     write a starter application into DIR

Each flag can also be set by an environment variable LASP_<FLAG>, upper case
with underscores (LASP_ROOT, LASP_ADDR, LASP_DEV, LASP_SCRIPT_TIMEOUT); a flag
on the command line wins.

Flags:
`)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err: err, reported: true}
	}
	if fset.NArg() > 0 {
		return o, &usageError{err: fmt.Errorf("unexpected argument %q (usage: serve [flags], or serve new DIR)", fset.Arg(0))}
	}

	// source names where a flag's value came from, for error messages.
	source := map[string]string{}
	fset.Visit(func(f *flag.Flag) { source[f.Name] = "-" + f.Name })
	var errs []error
	fset.VisitAll(func(f *flag.Flag) {
		if source[f.Name] != "" {
			return
		}
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		source[f.Name] = name
		if err := fset.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("invalid value %q for %s: %v", v, name, err))
		}
	})
	if o.addr == "" {
		errs = append(errs, fmt.Errorf("%s is empty: give a host:port", sourceOf(source, "addr")))
	}
	if o.sessionTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s must be positive, not %v", sourceOf(source, "session-timeout"), o.sessionTimeout))
	}
	switch kind, err := session.Parse(o.sessionStore); {
	case err != nil || o.sessionStore == "": // the flag's default is memory: empty is a mistake
		errs = append(errs, fmt.Errorf("%s: unknown session store %q (want memory, cookie or redis://host:port/db)", sourceOf(source, "session-store"), o.sessionStore))
	case kind.Shared():
		if o.keys == "" {
			errs = append(errs, fmt.Errorf("%s %s needs -keys: every server must sign and read the cookie with the same keys", sourceOf(source, "session-store"), o.sessionStore))
		}
	}
	if o.applicationStore != "memory" && !strings.HasPrefix(o.applicationStore, "redis://") && !strings.HasPrefix(o.applicationStore, "rediss://") {
		errs = append(errs, fmt.Errorf("%s: unknown application store %q (want memory or redis://host:port/db)", sourceOf(source, "application-store"), o.applicationStore))
	}
	if o.scriptTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s must be positive, not %v", sourceOf(source, "script-timeout"), o.scriptTimeout))
	}
	if o.maxRequestBody <= 0 {
		errs = append(errs, fmt.Errorf("%s must be positive", sourceOf(source, "max-request-body")))
	}
	switch {
	case o.tlsCert != "" && o.tlsKey == "":
		errs = append(errs, fmt.Errorf("%s needs -tls-key: HTTPS takes a certificate and its key", sourceOf(source, "tls-cert")))
	case o.tlsKey != "" && o.tlsCert == "":
		errs = append(errs, fmt.Errorf("%s needs -tls-cert: HTTPS takes a certificate and its key", sourceOf(source, "tls-key")))
	}
	if err := errors.Join(errs...); err != nil {
		return o, &usageError{err: err}
	}
	return o, nil
}

// sourceOf names the flag or variable that set the flag called name.
func sourceOf(source map[string]string, name string) string {
	if s := source[name]; s != "" {
		return s
	}
	return "-" + name
}

// serve runs the application described by o until ctx is done, then shuts
// down gracefully: it stops accepting, lets in-flight requests finish (for
// up to shutdownTimeout) and closes the application, which runs its OnEnd
// events.
func serve(ctx context.Context, o options, stdout, stderr io.Writer) error {
	logs := &logWriter{w: stderr}
	defer logs.Close()
	logger := slog.New(slog.NewTextHandler(logs, nil))

	dir, err := filepath.Abs(o.root)
	if err != nil {
		return fmt.Errorf("application root %s: %w", o.root, err)
	}
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("application root %s does not exist", dir)
	}
	if err != nil {
		return fmt.Errorf("application root %s: %w", dir, err)
	}
	defer root.Close()

	var keys [][]byte
	if o.keys != "" {
		if keys, err = loadKeys(o.keys); err != nil {
			return fmt.Errorf("-keys: %w", err)
		}
	}
	if kind, _ := session.Parse(o.sessionStore); kind == session.Redis || strings.HasPrefix(o.applicationStore, "redis") {
		redisstore.QuietGoRedis() // the server logs Redis errors itself, throttled
	}
	memoryLimit := o.memoryLimit
	switch memoryLimit {
	case autoMemoryLimit:
		memoryLimit = framework.DefaultMemoryLimit()
	case 0:
		memoryLimit = -1 // framework: no watch
	}
	if memoryLimit > 0 {
		// Go's collector works harder as the heap nears the limit, before
		// the watch has to stop anything.
		debug.SetMemoryLimit(memoryLimit)
	}
	crossOrigin := http.NewCrossOriginProtection()
	for _, origin := range o.trustedOrigins {
		if err := crossOrigin.AddTrustedOrigin(origin); err != nil {
			return &usageError{err: fmt.Errorf("-trusted-origins: %w", err)}
		}
	}
	app, err := framework.New(framework.Config{
		Keys:             keys,
		Root:             root.FS(),
		Dir:              dir,
		Dev:              o.dev,
		ScriptTimeout:    o.scriptTimeout,
		SessionTimeout:   o.sessionTimeout,
		SessionStore:     o.sessionStore,
		ApplicationStore: o.applicationStore,
		MaxRequestBody:   o.maxRequestBody,
		MemoryLimit:      memoryLimit,
		Databases:        o.databases,
		NoAccessLog:      !o.accessLog,
		NoCompression:    o.noCompression,
		TrustedProxies:   o.trustedProxies,
		CrossOrigin:      crossOrigin,
		AllowCrossOrigin: !o.crossOrigin,
		Logger:           logger,
	})
	if err != nil {
		return err
	}

	ln, scheme, err := listen(o)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		return errors.Join(err, app.Close(closeCtx))
	}
	addr := ln.Addr().String()
	logger.Info("listening", "addr", addr, "root", dir, "dev", o.dev, "script_timeout", o.scriptTimeout,
		"memory_limit", strconv.FormatInt(max(memoryLimit, 0)>>20, 10)+"MiB", "tls", scheme == "https")
	logs.flush() // the start's lines before "listening on"
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, addr)

	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var admin *http.Server
	if o.adminAddr != "" {
		aln, err := net.Listen("tcp", o.adminAddr)
		if err != nil {
			srv.Close()
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			return errors.Join(fmt.Errorf("-admin-addr: %w", err), app.Close(closeCtx))
		}
		admin = &http.Server{Handler: adminHandler(app), ReadHeaderTimeout: readHeaderTimeout,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
		go admin.Serve(aln)
		logger.Info("operators' listener", "addr", aln.Addr().String(), "paths", "/status /metrics /debug/pprof/")
	}

	// SIGHUP restarts the application, as an edit of global.lasa does.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var errs []error
wait:
	for {
		select {
		case err := <-served: // Serve never returns nil
			errs = append(errs, fmt.Errorf("serve: %w", err))
			break wait
		case <-ctx.Done():
			logger.Info("shutting down", "timeout", shutdownTimeout)
			break wait
		case <-hup:
			logger.Info("SIGHUP")
			restartCtx, cancel := context.WithTimeout(ctx, shutdownTimeout)
			app.Restart(restartCtx)
			cancel()
		}
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if admin != nil {
		admin.Close() // operators need no grace
	}
	if len(errs) == 0 {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
			srv.Close() // drop the connections still open
		}
		<-served // http.ErrServerClosed
	}
	if err := app.Close(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("close application: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		logger.Error("stopped", "err", err)
		return err
	}
	logger.Info("stopped")
	return nil
}

// listen opens the public listener on o.addr: plain HTTP, or with -tls-cert
// and -tls-key TLS offering HTTP/2 and HTTP/1.1. scheme is "http" or
// "https". The certificate is read once, at start.
func listen(o options) (ln net.Listener, scheme string, err error) {
	if o.tlsCert == "" {
		ln, err = net.Listen("tcp", o.addr)
		return ln, "http", err
	}
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return nil, "", fmt.Errorf("-tls-cert, -tls-key: %w", err)
	}
	if ln, err = net.Listen("tcp", o.addr); err != nil {
		return nil, "", err
	}
	// http.Server.Serve speaks HTTP/2 on the connections that negotiated
	// "h2".
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}), "https", nil
}

// notValue is a boolean flag stored inverted in *p: -compress=false sets
// noCompression.
type notValue struct{ p *bool }

func (v notValue) String() string   { return strconv.FormatBool(v.p != nil && !*v.p) } // nil: flag's zero value
func (v notValue) IsBoolFlag() bool { return true }

func (v notValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("parse error") // as the flag package's own booleans say
	}
	*v.p = !b
	return nil
}
