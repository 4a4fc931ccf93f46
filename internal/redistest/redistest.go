package redistest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server process that belongs to one test. Its data is
// kept in an append-only file, so a Stop and Start keep it, as a real
// deployment would.
type Server struct {
	Addr string // host:port
	URL  string // redis://host:port/0

	t   testing.TB
	dir string
	cmd *exec.Cmd
}

// Start runs redis-server on a free port until the test ends. Without
// redis-server the test is skipped, unless CI=true: then it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed (CI=true: .ci/run must install it)")
		}
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	s := &Server{t: t, dir: t.TempDir(), Addr: "127.0.0.1:" + strconv.Itoa(port)}
	s.URL = "redis://" + s.Addr + "/0"
	s.Start()
	t.Cleanup(func() { s.Kill() })
	return s
}

// Start starts the server again after Stop or Kill, on the same port and
// with the same data.
func (s *Server) Start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
	out, _ := s.cmd.StdoutPipe()
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("redis-server on %s did not start", s.Addr)
	}
}

// Stop shuts the server down gracefully (SIGTERM) and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the server (SIGKILL) and waits for it.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Pause stalls the server (SIGSTOP), as a long pause or a hung host
// would: its connections stay open and new ones are still accepted by the
// kernel, but nothing is answered; commands sent meanwhile wait, and run
// when it resumes.
func (s *Server) Pause() { s.send(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT): it runs the commands that
// waited, late.
func (s *Server) Resume() { s.send(syscall.SIGCONT) }

func (s *Server) send(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redis-server: %v: %v", sig, err)
	}
}

func (s *Server) signal(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	s.cmd.Wait()
	s.cmd = nil
}

// freePort asks the kernel for a free TCP port.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
