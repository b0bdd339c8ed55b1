package webui_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"testing"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
	"github.com/apronlab/apron/runtime/pki/pkitest"
)

// The login link works at a master that knows no leader: it only sets
// the session cookie, which every master accepts, and the overview it
// leads to says to try again (503) until a master leads. Before, the link
// itself answered 503 and set nothing, so a browser that opened it during
// an election stayed locked out (401) on every master.
func TestLoginAtAMasterWithoutLeader(t *testing.T) {
	secrets := pkitest.New(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	self := "https://" + ln.Addr().String()
	peers := []string{self, "https://127.0.0.1:1", "https://127.0.0.1:2"} // never answer: no leader
	serveReplica(t, secrets, ln, peers, 1)

	// The test checks the master's answers, not its certificate.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ops, _ := secrets.Identity(pki.Ops)
	resp, err := client.Get(self + "/login?token=" + ops.Secret)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || cookies[0].Name != auth.SessionCookie {
		t.Errorf("the login link at a master without leader: %s, cookies %v; want 303 and the session cookie", resp.Status, cookies)
	}
	req, _ := http.NewRequest(http.MethodGet, self+"/", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("the overview at a master without leader: %s, want 503", resp.Status)
	}
}
