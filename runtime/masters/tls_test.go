package masters

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/pki"
)

// With a credential whose bundle has a CA, host:port masters are https,
// verified by the CA; every call, the one a standby's 307 leads to
// included, carries the credential and the client certificate; a master
// whose certificate another CA signed is refused.
func TestCredentialOverTLS(t *testing.T) {
	s, err := pki.Generate(pki.Spec{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	opsID, _ := s.Identity(pki.Ops)
	srvTLS, err := s.ServerTLS(pki.Master)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string // principal by certificate, then by basic auth, per call
	leader := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		byCert := r.TLS.VerifiedChains[0][0].Subject.CommonName
		byBasic, secret, _ := r.BasicAuth()
		if secret != opsID.Secret {
			byBasic = "a wrong secret"
		}
		seen = append(seen, byCert+"/"+byBasic)
		w.WriteHeader(http.StatusOK)
	}))
	leader.TLS = srvTLS
	leader.StartTLS()
	defer leader.Close()
	standby := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, leader.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	standby.TLS = srvTLS
	standby.StartTLS()
	defer standby.Close()

	ops, err := s.Client(pki.Ops)
	if err != nil {
		t.Fatal(err)
	}
	hostPort := strings.TrimPrefix(standby.URL, "https://")
	l, err := WithCredential(hostPort, ops)
	if err != nil {
		t.Fatal(err)
	}
	if l.URL() != standby.URL {
		t.Fatalf("host:port with a CA: %s, want %s", l.URL(), standby.URL)
	}
	resp, err := l.Do(context.Background(), l.Client(0), Request{Path: "/state"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(seen) != 1 || seen[0] != "ops/ops" || l.URL() != leader.URL {
		t.Errorf("through a standby's 307: the leader saw %q (want ops/ops), current master %s", seen, l.URL())
	}

	other, err := pki.Generate(pki.Spec{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := other.Client(pki.Ops)
	l2, _ := WithCredential(hostPort, stranger)
	if _, err := l2.Do(context.Background(), l2.Client(0), Request{Path: "/state"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a master the CA did not sign: %v, want a certificate error", err)
	}
	if len(seen) != 1 {
		t.Errorf("a call reached the leader through a master of another CA: %q", seen)
	}
}
