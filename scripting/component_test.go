package scripting

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"lasp/scope"
)

// TestComponentRegistry: the Go components an engine is given are checked
// (CheckComponents, and New panics on what it refuses), and the engine
// answers which progids exist and which can be kept as their state.
func TestComponentRegistry(t *testing.T) {
	newHorse := func() (Instance, error) { return testHorse{}, nil }
	for _, tc := range []struct {
		name string
		list []Component
		err  string // a substring of CheckComponents' error; empty: accepted
	}{
		{name: "none"},
		{name: "one", list: []Component{{ProgID: "Animals.Horse", Threading: scope.Apartment, New: newHorse}}},
		{name: "a built-in again", list: []Component{{ProgID: "Lasp.Dictionary", Threading: scope.Agile, New: newHorse}}, err: `component "Lasp.Dictionary" is registered twice`},
		{name: "twice", list: []Component{{ProgID: "A.B", Threading: scope.Agile, New: newHorse}, {ProgID: "A.B", Threading: scope.Agile, New: newHorse}}, err: `component "A.B" is registered twice`},
		{name: "a progid without a dot", list: []Component{{ProgID: "NoDot", Threading: scope.Agile, New: newHorse}}, err: "a progid is two or more dotted names"},
		{name: "without New", list: []Component{{ProgID: "A.B", Threading: scope.Agile}}, err: "New is required"},
		{name: "without a threading model", list: []Component{{ProgID: "A.B", New: newHorse}}, err: "Threading must be scope.Agile or scope.Apartment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckComponents(tc.list)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				New(Config{Components: tc.list}).Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("CheckComponents: %v, want %q", err, tc.err)
			}
			defer func() {
				if v := recover(); v == nil || !strings.Contains(panicText(v), tc.err) {
					t.Errorf("New: panic %v, want %q", v, tc.err)
				}
			}()
			New(Config{Components: tc.list})
		})
	}

	e := New(Config{
		FS: fstest.MapFS{"components/Shop.Cart.lua": {Data: []byte(cartFiles["components/Shop.Cart.lua"])}},
		Components: []Component{
			{ProgID: "Test.Tally", Threading: scope.Apartment, New: func() (Instance, error) { return &testTally{}, nil }},
			{ProgID: "Animals.Horse", Threading: scope.Apartment, New: newHorse},
			{ProgID: "Broken.Thing", Threading: scope.Agile, New: func() (Instance, error) { return nil, errors.New("broken") }},
		},
	})
	defer e.Close()
	for _, tc := range []struct {
		progid     string
		has, keeps bool
	}{
		{"Lasp.Dictionary", true, false},
		{"Lasp.Counters", true, false},
		{"Test.Tally", true, true},
		{"Animals.Horse", true, false}, // made once to find out, and terminated
		{"Broken.Thing", true, false},
		{"Shop.Cart", true, true}, // a Lua component: checked when it saves
		{"No.Such", false, true},  // not a Go component: as a Lua one
		{"../etc/passwd", false, true},
	} {
		if got := e.HasComponent(tc.progid); got != tc.has {
			t.Errorf("HasComponent(%q) = %v, want %v", tc.progid, got, tc.has)
		}
		if got := e.KeepsState(tc.progid); got != tc.keeps {
			t.Errorf("KeepsState(%q) = %v, want %v", tc.progid, got, tc.keeps)
		}
	}
}

func panicText(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	s, _ := v.(string)
	return s
}
