package webui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/auth"
)

// A login link sets the session cookie, which scripts cannot read, only
// https carries and no other site's request sends, and goes on to the
// overview; a link without a token says what it wants.
func TestLoginSetsTheSession(t *testing.T) {
	w := httptest.NewRecorder()
	login(w, httptest.NewRequest(http.MethodGet, "/login?token=s3cret-s3cret-s3cret", nil))
	resp := w.Result()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("login: %s to %q (referrer policy %q), want 303 to / with no referrer", resp.Status, resp.Header.Get("Location"), resp.Header.Get("Referrer-Policy"))
	}
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != auth.SessionCookie || cs[0].Value != "s3cret-s3cret-s3cret" || !cs[0].HttpOnly || !cs[0].Secure ||
		cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" {
		t.Errorf("login sets %+v; want the session cookie, HttpOnly, Secure, SameSite=Strict, for /", cs)
	}
	for _, q := range []string{"", "?token=", "?token=" + strings.Repeat("x", maxToken+1)} {
		w := httptest.NewRecorder()
		login(w, httptest.NewRequest(http.MethodGet, "/login"+q, nil))
		if w.Code != http.StatusBadRequest || len(w.Result().Cookies()) != 0 {
			t.Errorf("/login%.20s: %d with cookies %v, want 400 and none", q, w.Code, w.Result().Cookies())
		}
	}
}
