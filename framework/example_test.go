package framework_test

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"lasp/framework"
)

//go:embed testdata/exampleapp
var embedded embed.FS

// An application embedded in the binary with go:embed, mounted under /app/
// of an ordinary Go router. Its pages build links from APPL_PATH, the
// application's root as the client sees it ("/app/" here), and the
// framework's own directory redirects are relative, so both stay under
// the prefix.
func ExampleNew() {
	root, err := fs.Sub(embedded, "testdata/exampleapp")
	if err != nil {
		log.Fatal(err)
	}
	app, err := framework.New(framework.Config{Root: root})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", app))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer app.Close(context.Background())

	for _, path := range []string{"/app/hello.lasp", "/app/hello.lasp?name=%3CGopher%3E", "/app/menu.lasp", "/app/lib/greet.lua"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			body = nil // the generic error page
		}
		fmt.Printf("%d %s\n", res.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 Hello, world!
	// 200 Hello, &lt;Gopher&gt;!
	// 200 <a href="/app/hello.lasp">hello</a>
	// 404
}
