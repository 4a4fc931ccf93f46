package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version describes the build, for -version: the module's version (a
// release tag, or "(devel)" for a build from a checkout), the VCS revision
// and time it was built from (and "modified" when the checkout had
// changes), and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "lasp serve (no build information)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "lasp serve %s", bi.Main.Version)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, " %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " %s", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(" modified")
		}
	}
	fmt.Fprintf(&b, " %s", bi.GoVersion)
	return b.String()
}
