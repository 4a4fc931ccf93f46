package framework

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"lasp/framework/session"
)

// fromProxy believes X-Forwarded-For and X-Forwarded-Proto when r comes
// from a trusted proxy (Config.TrustedProxies), and ignores them otherwise:
// REMOTE_ADDR becomes the rightmost address of X-Forwarded-For that is not
// itself a trusted proxy (the ones left of it the client could have
// written), and X-Forwarded-Proto: https (its last value, the nearest
// proxy's) makes HTTPS "on" and the session cookie Secure.
func (s *Server) fromProxy(r *http.Request) *http.Request {
	if len(s.cfg.TrustedProxies) == 0 {
		return r
	}
	peer, ok := hostAddr(r.RemoteAddr)
	if !ok || !s.trusted(peer) {
		return r
	}
	client := peer
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // not an address: nothing left of it can be believed
		}
		client = a.Unmap()
		if !s.trusted(client) {
			break
		}
	}
	if client != peer {
		r = r.WithContext(r.Context()) // a copy
		r.RemoteAddr = net.JoinHostPort(client.String(), "0")
	}
	protos := strings.Split(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","), ",")
	if strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https") && r.TLS == nil {
		r = session.MarkSecure(r)
	}
	return r
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hostAddr is the IP address of a host:port.
func hostAddr(hostport string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
