package scripting

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrorKind says what went wrong in a script.
type ErrorKind int

const (
	// Runtime is an error raised while a page runs.
	Runtime ErrorKind = iota
	// Compile is a page, include or module that does not parse or compile.
	Compile
	// Timeout is a page that ran past its Server.ScriptTimeout.
	Timeout
	// Canceled is a page stopped because its request went away.
	Canceled
)

func (k ErrorKind) String() string {
	switch k {
	case Compile:
		return "compile error"
	case Timeout:
		return "script timeout"
	case Canceled:
		return "canceled"
	}
	return "runtime error"
}

// Error is a failure of a script: a page, an include or a lib module. File
// and Line always point into the original source, never into generated Lua.
type Error struct {
	Kind ErrorKind
	File string // app-relative name of the file the error is in; may be empty
	Line int    // 1-based; 0 when unknown
	Msg  string // without the file:line prefix
	// Includes is the chain that led to an error in an included file or a
	// lib module, outermost first: each step is where an include directive
	// is, or where the code of a module was called from (Site.Require).
	Includes  []Site
	Traceback string // Lua traceback; may be empty
	Err       error  // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Site is one step of an Error's chain: the include directive, or the call
// into a lib module (require, or a function of the module), at File:Line.
type Site struct {
	File    string
	Line    int
	Require bool // a call into a module, not an include
}

// String returns "file:line".
func (s Site) String() string { return s.File + ":" + strconv.Itoa(s.Line) }

// MarshalText writes the site as logs show it: "included from file:line"
// or "required from file:line".
func (s Site) MarshalText() ([]byte, error) {
	how := "included from "
	if s.Require {
		how = "required from "
	}
	return []byte(how + s.String()), nil
}

// errScriptTimeout is the cancel cause of a run that passed its ScriptTimeout.
var errScriptTimeout = errors.New("script timed out")

// ErrBusy is the cause of a run that waited for a lock (Application:Lock)
// until its script timeout passed: the application is busy, not broken, and
// the framework answers 503.
var ErrBusy = errors.New("the page waited for a lock for its whole script timeout")
