// Command serve runs a Lasp application: HTML pages with embedded server-side
// Lua, served the way Classic ASP served its pages.
//
// Usage:
//
//	serve [flags]     run the application in -root
//	serve new DIR     write a starter application into DIR
//
// The flags are:
//
//	-root DIR              the application (default ".")
//	-addr HOST:PORT        where to listen (default 127.0.0.1:8080; port 0 picks a free one)
//	-dev                   reload on change and show detailed error pages
//	-script-timeout D      default Server.ScriptTimeout (default 90s)
//
// Each flag can also be given as an environment variable LASP_<FLAG>, upper
// case with dashes as underscores: LASP_ROOT, LASP_ADDR, LASP_DEV,
// LASP_SCRIPT_TIMEOUT. A flag on the command line wins over its variable; an
// empty variable counts as unset; a bad value is an error that names the
// variable.
//
// Once listening, serve prints one line, "listening on http://ADDR", to
// standard output, with the real address (so -addr 127.0.0.1:0 can be used by
// scripts and tests). Logs are structured (log/slog, text format) and go to
// standard error.
//
// SIGINT and SIGTERM shut down gracefully: serve stops accepting connections,
// lets requests in flight finish (up to 30 seconds), then closes the
// application, which runs its OnEnd events, and exits 0. A second signal
// kills the process at once.
//
// Exit status: 0 after a clean shutdown (or -h), 2 for a mistake in the
// flags, the arguments or a LASP_* variable, 1 for any other error.
//
// Serve is a thin user of package lasp/framework: it reads flags and
// environment variables, opens the root with os.OpenRoot and hands a
// framework.Config to framework.New. It is the only package that reads flags
// or the environment, and no package of the module may import it.
// See docs/serve.md.
package main
