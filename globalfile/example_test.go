package globalfile_test

import (
	"fmt"

	"lasp/globalfile"
)

func ExampleParse() {
	src := `<!-- shared by every request -->
<object runat="server" scope="Application" id="hits" progid="Lasp.Counters"></object>
<OBJECT RUNAT="Server" SCOPE="session" ID="cart" PROGID="Shop.Cart" />

<script runat="server" language="lua">
function Session_OnStart() cart:Clear() end
</script>
`
	f, err := globalfile.Parse("global.lasa", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range f.Objects {
		fmt.Printf("line %d: %s %s is a %s\n", o.Pos.Line, o.Scope, o.ID, o.ProgID)
	}
	for _, s := range f.Scripts {
		fmt.Printf("script code starts on line %d: %q\n", s.Pos.Line, s.Code)
	}
	// Output:
	// line 2: Application hits is a Lasp.Counters
	// line 3: Session cart is a Shop.Cart
	// script code starts on line 5: "\nfunction Session_OnStart() cart:Clear() end\n"
}

func ExampleParse_error() {
	src := `<object runat="server" scope="Session" id="cart" progid="Shop.Cart"></object>
<object runat="server" scope="Page" id="cart" progid="Shop.Cart"></object>
`
	_, err := globalfile.Parse("global.lasa", src)
	fmt.Println(err)
	// Output:
	// global.lasa:2: object id "cart" declared twice (first on line 1)
}
