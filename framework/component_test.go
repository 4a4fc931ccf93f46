package framework

import (
	"context"
	"strings"
	"testing"

	"lasp/scope"
	"lasp/scripting"
)

// horse is an apartment-threaded Go component for the agility table.
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

// TestPageObjects: Server.CreateObject and <object> tags make page-scope
// objects, Lua or Go, created on first reference only and terminated when
// the page ends.
func TestPageObjects(t *testing.T) {
	a := newApp(t, map[string]string{
		"components/Animals.Dog.lua": dog,
		"components/Bad.Thing.lua":   `return 42`,
		"create.lasp":                `<% local d = Server.CreateObject("Animals.Dog") %><%= d:WoofWoof() %>,<%= d.WoofWoof(d) %>`,
		"tags.lasp": `<object runat="server" id="fido" progid="Animals.Dog"></object>
<object runat="server" id="never" progid="Animals.Dog"></object>
<%= fido:WoofWoof() %> <%= fido:WoofWoof() %>`,
		"counts.lasp":   `<%= Application["inits"] %>/<%= Application["terminated"] %>`,
		"dict.lasp":     `<% local d = Server.CreateObject("Lasp.Dictionary") d:Add("a", {1, 2}) d.Add(d, "b", "x") %><%= d:Count() %> <%= d:Item("a")[2] %> <%= tostring(d:Exists("b")) %> <%= table.concat(d:Keys(), ",") %><% d:Remove("a") %> <%= d:Count() %>`,
		"hits.lasp":     `<% if not Application["hits"] then Application["hits"] = Server.CreateObject("Lasp.Counters") end %><%= Application["hits"]:Increment("page") %>`,
		"unknown.lasp":  `<% Server.CreateObject("No.Such") %>`,
		"bad.lasp":      `<% Server.CreateObject("Bad.Thing") %>`,
		"luaapp.lasp":   `<% Application["ed"] = Server.CreateObject("Animals.Dog") %>`,
		"horseapp.lasp": `<% Application["ed"] = Server.CreateObject("Animals.Horse") %>`,
		"horse.lasp":    `<%= Server.CreateObject("Animals.Horse"):Gallop() %>`,
	}, func(c *Config) {
		c.Components = []Component{{ProgID: "Animals.Horse", Threading: scope.Apartment,
			New: func() (scripting.Instance, error) { return horse{}, nil }}}
	})
	for _, tc := range []struct {
		page, want string
	}{
		{"create", "Woof #1,Woof #2"},
		{"tags", "\n\nWoof #1 Woof #2"},
		{"counts", "2/2"}, // two dogs made and ended; "never" was never created
		{"dict", "2 2 true a,b 1"},
		{"hits", "1"},
		{"hits", "2"},
		{"horse", "neigh"},
	} {
		if got := a.mustGet(t, "/"+tc.page+".lasp"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.page, got, tc.want)
		}
	}
	for page, want := range map[string]string{
		"unknown":  `unknown progid \"No.Such\"`,
		"bad":      `components/Bad.Thing.lua must return a table`,
		"luaapp":   `Application[\"ed\"]: Animals.Dog is apartment-threaded and cannot be stored in Application scope`,
		"horseapp": `Application[\"ed\"]: Animals.Horse is apartment-threaded and cannot be stored in Application scope`,
	} {
		if status, _ := a.get(t, "/"+page+".lasp"); status != 500 || !strings.Contains(a.log.String(), want) {
			t.Errorf("%s: status %d, log lacks %q", page, status, want)
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
