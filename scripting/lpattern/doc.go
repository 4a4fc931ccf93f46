// Package lpattern provides interruptible replacements for the pattern
// functions of gopher-lua's string library: string.find, string.match,
// string.gmatch (and its alias gfind) and string.gsub.
//
// gopher-lua runs Lua patterns in Go code that never looks at the state's
// context: the VM checks the context between Lua instructions, but a single
// call such as string.find(("a"):rep(5000), ".-.-.-.-b") backtracks for
// minutes inside one Go function, whatever the script's deadline. Lasp runs
// page scripts that it does not fully trust under a timeout, so the pattern
// functions must stop when the run is cancelled, and should not run without
// bound even without a deadline.
//
// Install swaps the four functions in a state's string table for versions
// built on this package's own matcher. The matcher backtracks with an
// explicit stack (the Go stack does not grow with the pattern or the
// subject), counts its steps, looks at the context at least every 1024
// steps and at every start position, and can be given a step budget per
// call. When it stops, the call raises a Lua error: the context's error
// ("context deadline exceeded", as gopher-lua's VM reports a cancelled run)
// or "pattern too complex (over N steps)".
//
// Everything else follows gopher-lua v1.1.2 rather than C Lua, including its
// quirks, so that scripts see no difference: its pattern grammar and error
// messages ("unexpected EOS at 3", "invalid capture index", "unfinished
// capture at EOS"), gsub's treatment of "%x" in a replacement string, a
// gmatch that finds every match when it is called, string.match returning
// no value (not nil) when nothing matches. A differential test and a fuzz
// target (FuzzDifferential) compare it with gopher-lua's own functions. The
// few places where gopher-lua panics with a Go runtime error (a back
// reference to a position capture at the end of the subject, a plain find
// starting past the end) raise an ordinary Lua error here instead. Unlike
// gopher-lua's matcher, this one has no recursion limit to hit on very long
// subjects ("pattern/input too complex"), and gsub builds its result in
// linear time.
//
// The package depends only on gopher-lua and the standard library; it must
// not depend on the rest of Lasp.
package lpattern
