package scripting

import (
	"context"
	"testing"
	"testing/fstest"
	"testing/synctest"

	"lasp/scope"
)

// testGate is an apartment-threaded Go component whose Wait holds its
// apartment until release is closed.
type testGate struct{ entered, release chan struct{} }

func (g *testGate) Call(ctx context.Context, method string, _ []scope.Value) ([]scope.Value, error) {
	g.entered <- struct{}{}
	<-g.release
	return nil, nil
}

// TestApartmentsSnapshot: a live apartment is listed with its objects, the
// call running in it and the calls queued behind it; a closed one is not.
func TestApartmentsSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := &testGate{entered: make(chan struct{}), release: make(chan struct{})}
		e := New(Config{FS: fstest.MapFS{}, Components: []Component{{ProgID: "Test.Gate", Threading: scope.Apartment,
			New: func() (Instance, error) { return gate, nil }}}})
		defer e.Close()
		ctx := context.Background()
		a := e.NewApartment("Session 0123", Env{})
		b := e.NewApartment("Application", Env{})
		p, err := a.Create(ctx, "Test.Gate")
		if err != nil {
			t.Fatal(err)
		}
		calls := make(chan error, 2)
		go func() { _, err := p.Call(ctx, "Wait", nil); calls <- err }()
		<-gate.entered
		go func() { _, err := p.Call(ctx, "Wait", nil); calls <- err }()
		synctest.Wait() // the second call is queued

		list, total := e.Apartments(0)
		want := []ApartmentStats{
			{Name: "Application"},
			{Name: "Session 0123", Objects: 1, Queued: 1, Running: true},
		}
		if total != 2 || len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
			t.Fatalf("Apartments(0) = %+v, %d; want %+v, 2", list, total, want)
		}
		if list, total := e.Apartments(1); total != 2 || len(list) != 1 || list[0].Name != "Application" {
			t.Errorf("Apartments(1) = %+v, %d; want Application only, of 2", list, total)
		}

		close(gate.release)
		<-gate.entered
		for range 2 {
			if err := <-calls; err != nil {
				t.Fatal(err)
			}
		}
		if list, _ := e.Apartments(0); list[1].Queued != 0 || list[1].Running {
			t.Errorf("after the calls: %+v", list[1])
		}
		b.Close(ctx)
		a.Close(ctx)
		if list, total := e.Apartments(0); total != 0 || len(list) != 0 {
			t.Errorf("after Close: %+v, %d", list, total)
		}
	})
}

// TestStatsDropped: a state damaged by a failed run is thrown away and
// counted; one that ran well goes back to the pool.
func TestStatsDropped(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{
		"ok.lasp":   {Data: []byte(`ok`)},
		"fail.lasp": {Data: []byte(`<% local t = nil; local x = t.y %>`)},
	}})
	defer e.Close()
	if _, err := runPage(t, e, "ok.lasp", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := runPage(t, e, "fail.lasp", nil); err == nil {
		t.Fatal("fail.lasp did not fail")
	}
	want := Stats{Created: 1, Idle: 0, Dropped: 1}
	if got := e.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if m := e.Memory(); m != (MemoryStats{}) {
		t.Errorf("Memory() without a limit = %+v, want zero", m)
	}
}

// TestMemorySnapshot: with a limit, the watch reports it and what was in
// use at its last tick.
func TestMemorySnapshot(t *testing.T) {
	e := New(Config{FS: fstest.MapFS{}, MemoryLimit: 1 << 40})
	defer e.Close()
	m := e.Memory()
	if m.Limit != 1<<40 || m.Short || m.Stops != 0 {
		t.Errorf("Memory() = %+v", m)
	}
}
