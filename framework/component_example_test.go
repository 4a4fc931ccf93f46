package framework_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing/fstest"

	"lasp/framework"
	"lasp/scope"
	"lasp/scripting"
)

// prices is a Go component: its methods take and return plain values, so
// pages, Application and Session scope and apartments can all call it.
type prices struct{ vat float64 }

func (p *prices) Call(_ context.Context, method string, args []scope.Value) ([]scope.Value, error) {
	switch method {
	case "WithVAT":
		net, ok := args[0].(float64)
		if !ok {
			return nil, fmt.Errorf("WithVAT needs a number")
		}
		return []scope.Value{net * (1 + p.vat)}, nil
	}
	return nil, fmt.Errorf("no method %q", method)
}

// A Go component registered with its progid and threading model. An agile
// one is shared as it is; one that is not agile lives in an apartment.
func ExampleComponent() {
	app, err := framework.New(framework.Config{
		Root: fstest.MapFS{"cart.lasp": {Data: []byte(`<% local p = Server.CreateObject("Shop.Prices") %><%= p:WithVAT(100) %>`)}},
		Components: []framework.Component{{
			ProgID:    "Shop.Prices",
			Threading: scope.Agile,
			New:       func() (scripting.Instance, error) { return &prices{vat: 0.2}, nil },
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close(context.Background())
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/cart.lasp", nil))
	body, _ := io.ReadAll(w.Body)
	fmt.Println(w.Code, strings.TrimSpace(string(body)))
	// Output: 200 120
}
