package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key to
// PEM files in a temporary directory and returns their paths, with a pool
// that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lasp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: with -tls-cert and -tls-key (or their variables) serve speaks
// HTTPS, HTTP/2 to a client that offers it; pages see HTTPS "on" and the
// session cookie is Secure; responses are still gzipped.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	root := t.TempDir()
	writeApp(t, root, map[string]string{
		"index.lasp": `<% Session["n"] = 1 %>HTTPS=<%= Request.ServerVariables("HTTPS") %> <%= string.rep("padding ", 200) %>`,
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flags", []string{"-root", root, "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile}, nil},
		{"variables", []string{"-root", root, "-addr", "127.0.0.1:0"}, map[string]string{"LASP_TLS_CERT": certFile, "LASP_TLS_KEY": keyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServe(t, tc.args, tc.env)
			if !strings.HasPrefix(s.url, "https://") {
				t.Fatalf("url %q, want https://", s.url)
			}
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			resp, body := get(t, &http.Client{Transport: tr}, s.url+"/")
			if resp.ProtoMajor != 2 {
				t.Errorf("protocol %s, want HTTP/2", resp.Proto)
			}
			if !strings.HasPrefix(body, "HTTPS=on ") {
				t.Errorf("body %.40q, want HTTPS=on", body)
			}
			if !resp.Uncompressed {
				t.Errorf("the page was not gzipped (Uncompressed false)")
			}
			cookies := resp.Cookies()
			if len(cookies) == 0 {
				t.Fatalf("no session cookie: %v", resp.Header)
			}
			for _, c := range cookies {
				if !c.Secure {
					t.Errorf("cookie %s is not Secure over HTTPS", c.Name)
				}
			}
			// An HTTP/1.1 client is served too.
			tr1 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			defer tr1.CloseIdleConnections()
			if resp, _ := get(t, &http.Client{Transport: tr1}, s.url+"/"); resp.ProtoMajor != 1 {
				t.Errorf("HTTP/1.1 client got %s", resp.Proto)
			}
		})
	}
}

// TestTLSErrors: a certificate without its key (or the reverse) is a usage
// error; a certificate that does not load stops serve before it listens.
func TestTLSErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	root := t.TempDir()
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantErr   string
		wantUsage bool
	}{
		{name: "cert without key", args: []string{"-tls-cert", certFile}, wantErr: "-tls-cert needs -tls-key", wantUsage: true},
		{name: "key without cert", args: []string{"-tls-key", keyFile}, wantErr: "-tls-key needs -tls-cert", wantUsage: true},
		{name: "variable without key", env: map[string]string{"LASP_TLS_CERT": certFile}, wantErr: "LASP_TLS_CERT needs -tls-key", wantUsage: true},
		{name: "missing file", args: []string{"-root", root, "-addr", "127.0.0.1:0", "-tls-cert", filepath.Join(root, "none.pem"), "-tls-key", keyFile}, wantErr: "-tls-cert, -tls-key"},
		{name: "key of another file", args: []string{"-root", root, "-addr", "127.0.0.1:0", "-tls-cert", keyFile, "-tls-key", certFile}, wantErr: "-tls-cert, -tls-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, mapEnv(tt.env), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run: %v, want an error containing %q", err, tt.wantErr)
			}
			var usage *usageError
			if got := errors.As(err, &usage); got != tt.wantUsage {
				t.Errorf("error %q is a usage error: %v, want %v", err, got, tt.wantUsage)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

// TestParseOptionsTLSAndCompress: -tls-cert, -tls-key and -compress, from
// flags and variables.
func TestParseOptionsTLSAndCompress(t *testing.T) {
	for _, tc := range []struct {
		name              string
		args              []string
		env               map[string]string
		wantCert, wantKey string
		wantNoCompression bool
		wantErr           string
	}{
		{name: "defaults"},
		{name: "tls flags", args: []string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, wantCert: "c.pem", wantKey: "k.pem"},
		{name: "tls variables", env: map[string]string{"LASP_TLS_CERT": "c.pem", "LASP_TLS_KEY": "k.pem"}, wantCert: "c.pem", wantKey: "k.pem"},
		{name: "compress off", args: []string{"-compress=false"}, wantNoCompression: true},
		{name: "compress on", args: []string{"-compress"}},
		{name: "compress variable", env: map[string]string{"LASP_COMPRESS": "false"}, wantNoCompression: true},
		{name: "flag wins", args: []string{"-compress=true"}, env: map[string]string{"LASP_COMPRESS": "0"}},
		{name: "bad variable", env: map[string]string{"LASP_COMPRESS": "maybe"}, wantErr: `invalid value "maybe" for LASP_COMPRESS`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseOptions(tc.args, mapEnv(tc.env), &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.tlsCert != tc.wantCert || o.tlsKey != tc.wantKey || o.noCompression != tc.wantNoCompression {
				t.Errorf("tls %q %q, noCompression %v; want %q %q, %v", o.tlsCert, o.tlsKey, o.noCompression, tc.wantCert, tc.wantKey, tc.wantNoCompression)
			}
		})
	}
}
