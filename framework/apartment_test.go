package framework

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// donBox is Don Box's example from docs/objects.md: an Application-scope cat,
// Page-scope parrots, components that call each other through proxies.
var donBox = map[string]string{
	"global.lasa": `<object runat="server" scope="Application" id="g_morris" progid="Animals.Cat"></object>
<object runat="server" scope="Application" id="g_never" progid="Animals.Cat"></object>
<object runat="server" scope="Application" id="g_rex" progid="Animals.Parrot"></object>
<object runat="server" scope="Application" id="g_counts" progid="Lasp.Counters"></object>
<object runat="server" scope="Page" id="p_polly" progid="Animals.Parrot"></object>
<script runat="server">
function Application_OnStart() Application["cats"] = 0 end
</script>`,
	"components/Animals.Cat.lua": `local Cat = {}
function Cat:Initialize() self.lives = 9 self.mates = 0 Application["cats"] = Application["cats"] + 1 end
function Cat:Meow() return "Meow, " .. self.lives .. " lives" end
function Cat:MateWith(other) self.mates = self.mates + 1 return other:Speak() .. " (" .. self.mates .. ")" end
function Cat:Nap(seconds) Server.Sleep(seconds) return "napped" end
function Cat:Fail() local t = nil return t.x end
function Cat:Leak() return function() end end
return Cat
`,
	"components/Animals.Parrot.lua": `local Parrot = {}
function Parrot:Initialize() self.words = 0 end
function Parrot:Speak() self.words = self.words + 1 return "Polly #" .. self.words end
return Parrot
`,
	"meow.lasp":     `<%= g_morris:Meow() %>|<%= g_morris.Meow(g_morris) %>|<%= Application["cats"] %>|<%= g_counts:Increment("hits") %>`,
	"mate.lasp":     `<%= g_morris:MateWith(g_rex) %>`,
	"matepage.lasp": `<%= g_morris:MateWith(p_polly) %>`,
	"store.lasp":    `<% Application["cat"] = g_morris %><%= Application["cat"]:Meow() %>`,
	"nap.lasp":      `<%= g_morris:Nap(1) %>`,
	"fail.lasp":     `<% g_morris:Fail() %>`,
	"leak.lasp":     `<% g_morris:Leak() %>`,
	"polly.lasp":    `<%= p_polly:Speak() %> <%= p_polly:Speak() %>`,
	"nothing.lasp":  `<%= tostring(no_such_object) %>`,
}

// TestApartments: Application objects are created once, on first
// reference, in the application's apartment, and reached through agile
// proxies from any request; page objects are per request.
func TestApartments(t *testing.T) {
	a := newApp(t, donBox)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			res, err := a.Client().Get(a.URL + "/meow.lasp")
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.HasPrefix(string(body), "Meow, 9 lives|Meow, 9 lives|1|") {
				t.Errorf("meow: %q", body)
			}
		})
	}
	wg.Wait()
	for _, tc := range []struct{ page, want string }{
		{"meow", "Meow, 9 lives|Meow, 9 lives|1|21"}, // one cat for 21 requests
		{"mate", "Polly #1 (1)"},                     // a proxy passed to another object
		{"mate", "Polly #2 (2)"},
		{"store", "Meow, 9 lives"}, // proxies are agile
		{"polly", "Polly #1 Polly #2"},
		{"nothing", "nil"},
	} {
		if got := a.mustGet(t, "/"+tc.page+".lasp"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.page, got, tc.want)
		}
	}
	for page, want := range map[string]string{
		"fail":     `components/Animals.Cat.lua:6: attempt to index`,
		"leak":     `Animals.Cat.Leak: result 1 cannot leave its apartment (a function`,
		"matepage": `Animals.Cat.MateWith: argument 1 cannot be passed (Animals.Parrot is apartment-threaded`,
	} {
		if status, _ := a.get(t, "/"+page+".lasp"); status != http.StatusInternalServerError || !strings.Contains(a.log.String(), want) {
			t.Errorf("%s: %d; log lacks %q", page, status, want)
		}
	}
	if got := a.mustGet(t, "/meow.lasp"); !strings.HasPrefix(got, "Meow, 9 lives") {
		t.Errorf("after failed calls: %q", got)
	}
	if n, _ := a.srv.app.Get("cats"); n != float64(1) {
		t.Errorf("%v cats made, want 1 (g_never is never referenced)", n)
	}
}

// TestApartmentDoesNotBlockPages: a call sleeping in the application's
// apartment holds up no request that does not call into it.
func TestApartmentDoesNotBlockPages(t *testing.T) {
	t.Parallel()
	a := newApp(t, donBox)
	a.mustGet(t, "/meow.lasp") // the cat exists
	napped := make(chan string, 1)
	go func() {
		res, err := a.Client().Get(a.URL + "/nap.lasp")
		if err != nil {
			napped <- err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		napped <- string(body)
	}()
	waitFor(t, "the nap to start", func() bool { return a.srv.engine.Stats().InUse == 1 })
	for range 10 {
		if got := a.mustGet(t, "/polly.lasp"); got != "Polly #1 Polly #2" {
			t.Fatalf("polly: %q", got)
		}
	}
	select {
	case body := <-napped:
		t.Fatalf("the nap (%q) ended before 10 other pages were served", body)
	default:
	}
	if body := <-napped; body != "napped" {
		t.Errorf("nap: %q", body)
	}
}
