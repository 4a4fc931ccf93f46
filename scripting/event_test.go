package scripting

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"lasp/scope"
)

// TestRunEvent runs global.lasa's event handlers as framework does: the
// script in an environment of its own, then the handler, without a
// request or a response unless given one.
func TestRunEvent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		global string // the global file's scripts as one Lua chunk
		event  string
		files  map[string]string
		config func(*Config)

		session bool                   // the event has a session (testSession)
		kept    map[string]string      // kept Session objects, id → progid
		saved   map[string]scope.Value // their states before the event
		endKept bool                   // Kept.Ending: the session ends

		wantApp   map[string]scope.Value // Application after the event
		wantSess  map[string]scope.Value // Session after the event
		wantSaved map[string]scope.Value // states given to Kept.Save
		log       string                 // a substring of the log
		err       string                 // "file:line: text", as in TestLuaAPI
		kind      ErrorKind
	}{
		{
			name:    "Application_OnStart",
			global:  "local function note(s) Application.events = (Application.events or '') .. s end\nfunction Application_OnStart() note('start;') end",
			event:   "Application_OnStart",
			wantApp: map[string]scope.Value{"events": "start;"},
		},
		{
			name:    "an event that is not defined",
			global:  "Application.loaded = true\nfunction Application_OnStart() Application.started = true end",
			event:   "Application_OnEnd",
			wantApp: map[string]scope.Value{"loaded": true},
		},
		{
			name:     "Session_OnStart",
			global:   "function Session_OnStart() Session.visits = 0 Session.Timeout = 5 end",
			event:    "Session_OnStart",
			session:  true,
			wantApp:  map[string]scope.Value{},
			wantSess: map[string]scope.Value{"visits": float64(0)},
		},
		{
			name:    "objects made in an event end with it",
			files:   dogFiles,
			global:  "function Application_OnStart() Server.CreateObject('Animals.Dog'):WoofWoof() end",
			event:   "Application_OnStart",
			wantApp: map[string]scope.Value{"inits": float64(1), "ends": float64(1)},
		},
		{
			name:    "print in an event",
			global:  "function Application_OnEnd() print('ending') end",
			event:   "Application_OnEnd",
			wantApp: map[string]scope.Value{},
			log:     `"text":"ending"`,
		},
		{
			name:   "Response.Write in an event",
			global: "function Application_OnStart()\n  Response.Write('x')\nend",
			event:  "Application_OnStart",
			err:    "global.lasa:2: Response is not available in Application_OnStart",
		},
		{
			name:   "Response.AddHeader in an event",
			global: "function Session_OnEnd()\n  Response.AddHeader('X-A', '1')\nend",
			event:  "Session_OnEnd",
			err:    "global.lasa:2: Response is not available in Session_OnEnd",
		},
		{
			name:   "Request in an event",
			global: "function Application_OnStart()\n  local a = Request.QueryString.a\nend",
			event:  "Application_OnStart",
			err:    "global.lasa:2: Request is not available in Application_OnStart",
		},
		{
			name:   "a runtime error in an event",
			global: "function Application_OnStart()\n  local t = nil\n  return t.x\nend",
			event:  "Application_OnStart",
			err:    "global.lasa:3: attempt to index",
		},
		{
			name:   "a runtime error in the global file's own code",
			global: "\nerror('at load')",
			event:  "Application_OnStart",
			err:    "global.lasa:2: at load",
		},
		{
			name:   "a compile error in the global file",
			global: "function Application_OnStart()\n  local = 1\nend",
			event:  "Application_OnStart",
			err:    "global.lasa:2: ",
			kind:   Compile,
		},
		{
			name:      "Session_OnStart saves the kept objects it made",
			files:     cartFiles,
			global:    "function Session_OnStart() cart:Add(3) end",
			event:     "Session_OnStart",
			session:   true,
			kept:      map[string]string{"cart": "Shop.Cart"},
			wantApp:   map[string]scope.Value{},
			wantSaved: map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(3)}},
		},
		{
			name:    "Session_OnEnd terminates the kept objects",
			files:   cartFiles,
			config:  withTally,
			global:  "function Session_OnEnd() end",
			event:   "Session_OnEnd",
			session: true,
			kept:    map[string]string{"cart": "Shop.Cart", "n": "Test.Tally", "unused": "Shop.Cart"},
			saved:   map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(4)}, "n": float64(1)},
			endKept: true,
			wantApp: map[string]scope.Value{"cart ended with": float64(4)},
		},
		{
			name:    "Session_OnEnd terminates a kept object it used",
			files:   cartFiles,
			global:  "function Session_OnEnd() cart:Add(1) end",
			event:   "Session_OnEnd",
			session: true,
			kept:    map[string]string{"cart": "Shop.Cart"},
			saved:   map[string]scope.Value{"cart": map[string]scope.Value{"items": float64(4)}},
			endKept: true,
			wantApp: map[string]scope.Value{"cart ended with": float64(5)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			cfg := Config{FS: fsys}
			if tc.config != nil {
				tc.config(&cfg)
			}
			e := New(cfg)
			defer e.Close()
			var log bytes.Buffer
			app, sess := scope.NewContents("Application"), newTestSession()
			env := &Env{Application: Local(app), ApplicationLock: &scope.Lock{}, RequestID: "req-1",
				Log: slog.New(slog.NewJSONHandler(&log, nil))}
			if tc.session {
				env.Session = sess
			}
			saved := map[string]scope.Value{}
			if tc.kept != nil {
				env.Kept = &testKept{objects: tc.kept, ending: tc.endKept,
					load: func(id string) (scope.Value, bool) {
						v, ok := tc.saved[id]
						return v, ok
					},
					save: func(id string, state scope.Value) error {
						saved[id] = state
						return nil
					},
				}
			}
			g, err := CompileGlobal("global.lasa", tc.global)
			if err == nil {
				err = e.RunEvent(t.Context(), g, tc.event, env)
			}
			if tc.err != "" {
				checkError(t, err, tc.err, tc.kind, nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := app.Snapshot(); tc.wantApp != nil && !scope.Equal(scope.Value(got), scope.Value(tc.wantApp)) {
				t.Errorf("Application: %v, want %v", got, tc.wantApp)
			}
			if tc.wantSess != nil {
				keys, _ := sess.Keys()
				got := map[string]scope.Value{}
				for _, k := range keys {
					got[k], _, _ = sess.Get(k)
				}
				if !scope.Equal(scope.Value(got), scope.Value(tc.wantSess)) {
					t.Errorf("Session: %v, want %v", got, tc.wantSess)
				}
			}
			if tc.wantSaved != nil && !scope.Equal(scope.Value(saved), scope.Value(tc.wantSaved)) {
				t.Errorf("saved: %v, want %v", saved, tc.wantSaved)
			}
			if !strings.Contains(log.String(), tc.log) {
				t.Errorf("log does not contain %s:\n%s", tc.log, log.String())
			}
		})
	}
}
