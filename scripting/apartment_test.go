package scripting

import (
	"context"
	"io"
	"runtime"
	"testing"
	"testing/fstest"

	"lasp/scope"
)

// TestApartmentIsolation: an object sleeping in one apartment does not delay
// calls on an object of the same class in another apartment.
func TestApartmentIsolation(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{"components/Slow.Dog.lua": {Data: []byte(`local Dog = {}
function Dog:Sleep(s) Server.Sleep(s) return "slept" end
function Dog:Bark() return "woof" end
return Dog`)}}})
	defer e.Close()
	ctx := t.Context()
	a := e.NewApartment("session A", Env{})
	b := e.NewApartment("session B", Env{})
	defer a.Close(ctx)
	defer b.Close(ctx)
	dogA, err := a.Create(ctx, "Slow.Dog")
	if err != nil {
		t.Fatal(err)
	}
	dogB, err := b.Create(ctx, "Slow.Dog")
	if err != nil {
		t.Fatal(err)
	}
	slept := make(chan error, 1)
	go func() {
		_, err := dogA.Call(ctx, "Sleep", []any{float64(2)})
		slept <- err
	}()
	for range 10 {
		res, err := dogB.Call(ctx, "Bark", nil)
		if err != nil || len(res) != 1 || res[0] != "woof" {
			t.Fatalf("B's dog: %v %v", res, err)
		}
	}
	select {
	case err := <-slept:
		t.Fatalf("A's sleeping call ended (%v) before B's 10 calls", err)
	default:
	}
	if err := <-slept; err != nil {
		t.Fatal(err)
	}
}

const benchDog = `local Dog = {}
function Dog:Initialize() self.barks = 0 end
function Dog:Bark(n) self.barks = self.barks + 1 return n + 1 end
return Dog`

// BenchmarkCallAgile is a method call on an agile Go object (Lasp.Counters)
// from a page's Lua state, without HTTP.
func BenchmarkCallAgile(b *testing.B) {
	benchCall(b, `<% local c = Server.CreateObject("Lasp.Counters") for i = 1, 1000 do c:Increment("n") end %>`)
}

// BenchmarkCallProxy is the same number of calls through a proxy to a Lua
// object living in an apartment.
func BenchmarkCallProxy(b *testing.B) {
	benchCall(b, `<% for i = 1, 1000 do dog:Bark(i) end %>`)
}

func benchCall(b *testing.B, page string) {
	e := New(Config{FS: fstest.MapFS{
		"p.lasp":                   {Data: []byte(page)},
		"components/Bench.Dog.lua": {Data: []byte(benchDog)},
	}})
	defer e.Close()
	apt := e.NewApartment("bench", Env{})
	defer apt.Close(b.Context())
	dog, err := apt.Create(b.Context(), "Bench.Dog")
	if err != nil {
		b.Fatal(err)
	}
	p, err := e.Page("p.lasp")
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{Request: &testRequest{}, Declared: func(_ context.Context, id string) (scope.Object, bool, error) {
		return dog, id == "dog", nil
	}}
	b.ReportAllocs()
	for b.Loop() {
		env.Response = &testResponse{}
		if err := e.Run(b.Context(), io.Discard, p, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/call")
}

// TestApartmentMemory reports what one session apartment holding one small
// Lua object costs (go test -run ApartmentMemory -v).
func TestApartmentMemory(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{"components/Bench.Dog.lua": {Data: []byte(benchDog)}}})
	defer e.Close()
	const n = 200
	apts := make([]*Apartment, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range apts {
		apts[i] = e.NewApartment("m", Env{})
		if _, err := apts[i].Create(t.Context(), "Bench.Dog"); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("one apartment with one Lua object: %d bytes of heap (mean of %d)", int(after.HeapAlloc-before.HeapAlloc)/n, n)
	for _, a := range apts {
		a.Close(t.Context())
	}
}

// TestCrossingErrors: a value refused on its way into an object or out of
// an apartment is named once, with what it is and no empty scope name.
func TestCrossingErrors(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{
		"components/Evil.Comp.lua": {Data: []byte("local C = {}\nfunction C:Get() return function() end end\nfunction C:Take(x) return 1 end\nreturn C")},
		"get.lasp":                 {Data: []byte("<% local c = Application['c'] %>\n<% c:Get() %>")},
		"take.lasp":                {Data: []byte("<% local c = Application['c'] %>\n<% c:Take(function() end) %>")},
		"absent.lasp":              {Data: []byte("<% local c = Application['c'] %>\n<% c:Absent() %>")},
	}})
	defer e.Close()
	a := e.NewApartment("application", Env{})
	defer a.Close(t.Context())
	p, err := a.Create(t.Context(), "Evil.Comp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(t.Context(), "Get", nil); err == nil || err.Error() != "result 1 cannot leave its apartment (a function is not plain data)" {
		t.Errorf("Call from Go: %v", err)
	}
	app := scope.NewContents("Application")
	if err := app.Set("c", p); err != nil {
		t.Fatal(err)
	}
	for page, want := range map[string]string{
		"get.lasp":    "get.lasp:2: Evil.Comp.Get: result 1 cannot leave its apartment (a function is not plain data)",
		"take.lasp":   "take.lasp:2: Evil.Comp.Take: argument 1 cannot be passed (a function is not plain data)",
		"absent.lasp": `absent.lasp:2: Evil.Comp.Absent: Evil.Comp has no method "Absent"`,
	} {
		pg, err := e.Page(page)
		if err != nil {
			t.Fatal(err)
		}
		err = e.Run(t.Context(), io.Discard, pg, &Env{Request: &testRequest{}, Response: &testResponse{}, Application: Local(app)})
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", page, err, want)
		}
	}
}
