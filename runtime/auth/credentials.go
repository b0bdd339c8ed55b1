package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Credential is a principal and its secret, as Mesos writes them.
type Credential struct {
	Principal string `json:"principal"`
	Secret    string `json:"secret"`
}

// Credentials are the principals a server knows: Mesos' --credentials
// file, {"credentials": [{"principal": ..., "secret": ...}]}.
type Credentials struct {
	list []Credential
}

// LoadCredentials reads a credentials file, which no one but its owner
// may read or write (mode 0600 or stricter): a file others can read gives
// its secrets away, and is refused.
func LoadCredentials(path string) (*Credentials, error) {
	data, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Credentials []Credential `json:"credentials"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("credentials %s: not JSON of the form {\"credentials\": [{\"principal\": ..., \"secret\": ...}]}: %v", path, err)
	}
	seen := map[string]bool{}
	for i, c := range f.Credentials {
		switch {
		case c.Principal == "" || c.Secret == "":
			return nil, fmt.Errorf("credentials %s: credentials[%d]: a principal and a secret are both required", path, i)
		case seen[c.Principal]:
			return nil, fmt.Errorf("credentials %s: credentials[%d]: principal %q is named twice", path, i, c.Principal)
		case len(c.Secret) < 16:
			return nil, fmt.Errorf("credentials %s: credentials[%d]: the secret of %q has %d characters; at least 16", path, i, c.Principal, len(c.Secret))
		}
		seen[c.Principal] = true
	}
	if len(f.Credentials) == 0 {
		return nil, fmt.Errorf("credentials %s: no credentials", path)
	}
	return &Credentials{list: f.Credentials}, nil
}

// readPrivate reads a file only its owner may read.
func readPrivate(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o: others may read its secrets; chmod 600 %s", path, perm, path)
	}
	return os.ReadFile(path)
}

// NewCredentials makes credentials from a list (tests, apron up).
func NewCredentials(list ...Credential) *Credentials { return &Credentials{list: list} }

// List is the credentials, in the file's order.
func (c *Credentials) List() []Credential { return append([]Credential(nil), c.list...) }

// verify finds the principal whose secret this is: a basic auth pair (its
// principal given) or a bearer token (any principal's secret). Every
// secret is compared in constant time.
func (c *Credentials) verify(principal, secret string) (string, bool) {
	found := ""
	want := sha256.Sum256([]byte(secret))
	for _, cr := range c.list {
		got := sha256.Sum256([]byte(cr.Secret))
		match := subtle.ConstantTimeCompare(want[:], got[:]) == 1
		if match && (principal == "" || principal == cr.Principal) && found == "" {
			found = cr.Principal
		}
	}
	return found, found != ""
}

// has says whether principal is one of the credentials.
func (c *Credentials) has(principal string) bool {
	for _, cr := range c.list {
		if cr.Principal == principal {
			return true
		}
	}
	return false
}

// ErrNoCredentials is a request that presents none.
var ErrNoCredentials = errors.New("no credentials: give HTTP basic auth (principal and secret), a bearer token, or a client certificate")

// Authenticate returns the principal a request proves it is: by a client
// certificate the server verified (its common name, which must be a
// principal of the credentials; HTTP basic authentication sent with it
// must be the same principal's), by HTTP basic authentication, or by a
// bearer token or session cookie (a principal's secret).
func (c *Credentials) Authenticate(r *http.Request) (string, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		cn := r.TLS.VerifiedChains[0][0].Subject.CommonName
		if !c.has(cn) {
			return "", fmt.Errorf("the client certificate is principal %q's, who is not in the credentials", cn)
		}
		if p, s, ok := r.BasicAuth(); ok {
			if who, ok := c.verify(p, s); !ok || who != cn {
				return "", fmt.Errorf("the client certificate is principal %q's, and the basic authentication (principal %q) is not", cn, p)
			}
		}
		return cn, nil
	}
	if p, s, ok := r.BasicAuth(); ok {
		if who, ok := c.verify(p, s); ok {
			return who, nil
		}
		return "", fmt.Errorf("principal %q: wrong secret, or no such principal", p)
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if who, ok := c.verify("", strings.TrimSpace(tok)); ok {
			return who, nil
		}
		return "", errors.New("the bearer token is no principal's secret")
	}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		if who, ok := c.verify("", ck.Value); ok {
			return who, nil
		}
	}
	return "", ErrNoCredentials
}

// SessionCookie carries a web UI session's secret (set by a login link).
const SessionCookie = "apron_session"

type principalKey struct{}

// Principal is who a request proved it is (see Require); "" when the
// server runs without credentials (--insecure).
func Principal(r *http.Request) string {
	p, _ := r.Context().Value(principalKey{}).(string)
	return p
}

// Require wraps h so that every request but those to open paths must
// prove who it is: one that does not is answered 401 with a Basic
// challenge. Without credentials (c nil) it is h. A request that proved
// it already (one handler handing it to another) is not checked again.
func (c *Credentials) Require(open func(path string) bool, h http.Handler) http.Handler {
	if c == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, done := r.Context().Value(principalKey{}).(string); done || open != nil && open(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		who, err := c.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="apron"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error(), "field": "Authorization"})
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, who)))
	})
}
