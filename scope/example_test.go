package scope_test

import (
	"fmt"

	"lasp/scope"
)

// horse is an apartment-threaded component instance, as a Lua component
// always is.
type horse struct{}

func (horse) ProgID() string             { return "Animals.Horse" }
func (horse) Threading() scope.Threading { return scope.Apartment }

func ExampleContents() {
	session := scope.NewContents("Session")
	_ = session.Set("Cart", []scope.Value{"pen"})

	// Reading gives a fresh copy: changing it changes nothing stored...
	cart, _ := session.Get("cart") // keys are case-insensitive
	items := append(cart.([]scope.Value), "ink")
	v, _ := session.Get("CART")
	fmt.Println(v)

	// ...until it is assigned back, as with ASP arrays.
	_ = session.Set("cart", items)
	v, _ = session.Get("cart")
	fmt.Println(v, session.Keys())

	// Output:
	// [pen]
	// [pen ink] [Cart]
}

func ExampleCheck() {
	for _, tt := range []struct {
		scope, key string
		v          scope.Value
	}{
		{scope: "Session", key: "cart", v: map[string]scope.Value{"items": []scope.Value{"pen", 2.0}}},
		{scope: "Application", key: "ed", v: horse{}},
		{scope: "Session", key: "f", v: scope.Unstorable{What: "a function"}},
		{scope: "Session", key: "t", v: map[string]scope.Value{"handler": scope.Unstorable{What: "a function"}}},
	} {
		fmt.Println(scope.Check(tt.scope, tt.key, tt.v))
	}
	// Output:
	// <nil>
	// Application["ed"]: Animals.Horse is apartment-threaded and cannot be stored in Application scope
	// Session["f"]: a function cannot be stored in Session scope
	// Session["t"]: a function (at ["handler"]) cannot be stored in Session scope
}
