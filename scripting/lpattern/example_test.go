package lpattern_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"lasp/scripting/lpattern"
)

func ExampleInstall() {
	L := lua.NewState()
	defer L.Close()
	lpattern.Install(L, L.GetGlobal("string").(*lua.LTable), 0)

	// Ordinary calls behave as before.
	if err := L.DoString(`print(("key = value"):match("(%w+)%s*=%s*(%w+)"))`); err != nil {
		fmt.Println(err)
	}

	// A catastrophic pattern stops at the run's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	err := L.DoString(`return string.find(("a"):rep(5000), ".-.-.-.-b")`)
	fmt.Println(strings.Contains(err.Error(), "context deadline exceeded"))
	// Output:
	// key	value
	// true
}

func ExampleInstall_stepLimit() {
	L := lua.NewState()
	defer L.Close()
	lpattern.Install(L, L.GetGlobal("string").(*lua.LTable), 100_000)

	err := L.DoString(`return string.find(("a"):rep(5000), ".-.-.-.-b")`)
	fmt.Println(err.(*lua.ApiError).Object)
	// Output:
	// <string>:1: pattern too complex (over 100000 steps)
}
