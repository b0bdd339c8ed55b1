package webui

import (
	"net/http"

	"github.com/apronlab/apron/runtime/auth"
)

// maxToken bounds a login link's token.
const maxToken = 4096

// login is a login link's landing (/login?token=SECRET, as apron up
// prints it): the token, a principal's secret, goes in the session
// cookie (HttpOnly, Secure, SameSite=Strict), which every page after
// authenticates, and the browser goes on to the overview. The link's
// token is not checked here: a wrong one gets the overview's 401.
func login(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" || len(tok) > maxToken {
		http.Error(w, "want /login?token=SECRET, a principal's secret (apron up prints the link)", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
