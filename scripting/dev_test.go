package scripting

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestDevRecompiles: with Config.Dev a page, an include or a lib module
// changed on disk is used on the next run (and a changed module retires the
// Lua states that loaded it); without it, what was compiled first stays.
func TestDevRecompiles(t *testing.T) {
	steps := []struct {
		change map[string]string // files written before the run; "" removes one
		dev    string            // the output with Dev, or "error: " and a substring
		notDev string            // the output without
	}{
		{dev: "page 1|inc 1|mod 1", notDev: "page 1|inc 1|mod 1"},
		{change: map[string]string{"p.lasp": "page 2|<!--#include file=\"i.inc\"-->|<%= require('m').v %>"}, dev: "page 2|inc 1|mod 1", notDev: "page 1|inc 1|mod 1"},
		{change: map[string]string{"i.inc": "inc 2"}, dev: "page 2|inc 2|mod 1", notDev: "page 1|inc 1|mod 1"},
		{change: map[string]string{"lib/m.lua": "return {v = 'mod 2'}"}, dev: "page 2|inc 2|mod 2", notDev: "page 1|inc 1|mod 1"},
		{change: map[string]string{"lib/other.lua": "return 1"}, dev: "page 2|inc 2|mod 2", notDev: "page 1|inc 1|mod 1"},
		{change: map[string]string{"i.inc": ""}, dev: "error: include file not found: i.inc", notDev: "page 1|inc 1|mod 1"},
	}
	for _, dev := range []bool{false, true} {
		fsys := fstest.MapFS{}
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		write := func(name, src string) {
			if src == "" {
				delete(fsys, name)
				return
			}
			at = at.Add(time.Second) // each version has its own time
			fsys[name] = &fstest.MapFile{Data: []byte(src), ModTime: at}
		}
		write("p.lasp", "page 1|<!--#include file=\"i.inc\"-->|<%= require('m').v %>")
		write("i.inc", "inc 1")
		write("lib/m.lua", "return {v = 'mod 1'}")
		e := New(Config{FS: fsys, Dev: dev})
		for i, step := range steps {
			for name, src := range step.change {
				write(name, src)
			}
			want := step.notDev
			if dev {
				want = step.dev
			}
			out, err := runPage(t, e, "p.lasp", nil)
			if msg, ok := strings.CutPrefix(want, "error: "); ok {
				var se *Error
				if !errors.As(err, &se) || se.Kind != Compile || !strings.Contains(se.Msg, msg) {
					t.Errorf("dev %v, step %d: %q, %v; want a compile error %q", dev, i, out, err, msg)
				}
				continue
			}
			if err != nil || out != want {
				t.Errorf("dev %v, step %d: %q, %v; want %q", dev, i, out, err, want)
			}
		}
		states := int64(1)
		if dev {
			states = 3 // and one more after each of the two changes under lib/
		}
		if got := e.Stats().Created; got != states {
			t.Errorf("dev %v: %d Lua states made, want %d", dev, got, states)
		}
		e.Close()
	}
}
