package pkitest

import (
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
)

// New makes a cluster's secrets in a temporary directory of the test:
// principals master, ops, the agents named and the others.
func New(t testing.TB, agents []string, others ...string) *pki.Secrets {
	t.Helper()
	s, err := pki.Generate(pki.Spec{Dir: t.TempDir(), Agents: agents, Others: others})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Client is principal's credential.
func Client(t testing.TB, s *pki.Secrets, principal string) *auth.Client {
	t.Helper()
	c, err := s.Client(principal)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// HTTPClient is an HTTP client whose calls carry principal's credential.
func HTTPClient(t testing.TB, s *pki.Secrets, principal string) *http.Client {
	t.Helper()
	return &http.Client{Transport: Client(t, s, principal).Transport(http.DefaultTransport.(*http.Transport))}
}

// Credentials are the principals of s, as a master reads them.
func Credentials(t testing.TB, s *pki.Secrets) *auth.Credentials {
	t.Helper()
	c, err := auth.LoadCredentials(s.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Serve serves srv on a free loopback port, over TLS when it has a TLS
// configuration, until the test ends, and returns its base URL.
func Serve(t testing.TB, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	serve := func() error { return srv.Serve(ln) }
	if srv.TLSConfig != nil {
		scheme = "https"
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serve(); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving %s: %v", ln.Addr(), err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return scheme + "://" + ln.Addr().String()
}
