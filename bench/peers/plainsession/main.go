// Command plainsession is the plain Go peer of bench/app/counter.lasp for
// bench/peers.sh: a session counter in a map behind a mutex, keyed by a
// random cookie, printing the new count ("n\n") like the Lasp page.
package main

import (
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "where to listen")
	flag.Parse()
	var (
		mu       sync.Mutex
		sessions = map[string]int{}
	)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if c, err := r.Cookie("SID"); err == nil {
			id = c.Value
		}
		mu.Lock()
		n, ok := sessions[id]
		if !ok {
			b := make([]byte, 24)
			rand.Read(b)
			id = base64.RawURLEncoding.EncodeToString(b)
		}
		n++
		sessions[id] = n
		mu.Unlock()
		if !ok {
			http.SetCookie(w, &http.Cookie{Name: "SID", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(strconv.AppendInt(nil, int64(n), 10))
		w.Write([]byte("\n"))
	})))
}
