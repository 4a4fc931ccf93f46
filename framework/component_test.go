package framework

import (
	"context"
	"testing"

	"lasp/scope"
	"lasp/scripting"
)

// horse is an apartment-threaded Go component.
type horse struct{}

func (horse) Call(_ context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	return []scope.Value{"neigh"}, nil
}

const dog = `local Dog = {}
function Dog:Initialize() self.barks = 0 Application["inits"] = (Application["inits"] or 0) + 1 end
function Dog:WoofWoof() self.barks = self.barks + 1 return "Woof #" .. self.barks end
function Dog:Terminate() Application["terminated"] = (Application["terminated"] or 0) + 1 end
return Dog
`

// TestPageObjects: page-scope objects over HTTP, made from the app's
// components directory and from Config.Components, and an agile object kept
// in Application across requests. What objects do within a page (object
// tags, Lasp.Dictionary, refusals) is tested in scripting's TestLuaAPI.
func TestPageObjects(t *testing.T) {
	a := newApp(t, map[string]string{
		"components/Animals.Dog.lua": dog,
		"create.lasp":                `<% local d = Server.CreateObject("Animals.Dog") %><%= d:WoofWoof() %>,<%= d.WoofWoof(d) %>`,
		"hits.lasp":                  `<% if not Application["hits"] then Application["hits"] = Server.CreateObject("Lasp.Counters") end %><%= Application["hits"]:Increment("page") %>`,
		"horse.lasp":                 `<%= Server.CreateObject("Animals.Horse"):Gallop() %>`,
	}, func(c *Config) {
		c.Components = []Component{{ProgID: "Animals.Horse", Threading: scope.Apartment,
			New: func() (scripting.Instance, error) { return horse{}, nil }}}
	})
	for _, tc := range []struct {
		page, want string
	}{
		{"create", "Woof #1,Woof #2"},
		{"hits", "1"},
		{"hits", "2"},
		{"horse", "neigh"},
	} {
		if got := a.mustGet(t, "/"+tc.page+".lasp"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.page, got, tc.want)
		}
	}
}

// TestComponentsValidated: a bad component list is a configuration error.
func TestComponentsValidated(t *testing.T) {
	newHorse := func() (scripting.Instance, error) { return horse{}, nil }
	for _, list := range [][]Component{
		{{ProgID: "Lasp.Dictionary", Threading: scope.Agile, New: newHorse}},
		{{ProgID: "NoDot", Threading: scope.Agile, New: newHorse}},
		{{ProgID: "A.B", New: newHorse}},
		{{ProgID: "A.B", Threading: scope.Agile}},
	} {
		if _, err := New(Config{Components: list}); err == nil {
			t.Errorf("New accepted %+v", list[0].ProgID)
		}
	}
}
