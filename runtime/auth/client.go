package auth

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
)

// ClientEnv names the client bundle when no --credential flag does.
const ClientEnv = "APRON_CREDENTIALS"

// WrittenByUp marks a bundle apron up wrote: the next apron up may
// overwrite it, and no other.
const WrittenByUp = "apron up"

// Bundle is a client bundle as stored: a principal and its secret, the CA
// that signs the servers' certificates and optionally a client
// certificate and key. Paths are relative to the bundle's folder.
type Bundle struct {
	Principal string `json:"principal"`
	Secret    string `json:"secret,omitempty"`
	CA        string `json:"ca,omitempty"`
	Cert      string `json:"cert,omitempty"`
	Key       string `json:"key,omitempty"`
	WrittenBy string `json:"written_by,omitempty"` // WrittenByUp, or empty
}

// Client is what a client proves who it is with: every request carries
// HTTP basic authentication with the principal and secret and, over TLS,
// the client certificate; the servers are verified against the CA.
type Client struct {
	Bundle
	Path string      // the bundle's file
	tls  *tls.Config // nil: no CA and no certificate
}

// LoadClient reads a client bundle, which no one but its owner may read
// or write, and the files it names.
func LoadClient(path string) (*Client, error) {
	data, err := readPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("client credential: %w", err)
	}
	c := &Client{Path: path}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.Bundle); err != nil {
		return nil, fmt.Errorf("client credential %s: %v; want {\"principal\": ..., \"secret\": ..., \"ca\": FILE, \"cert\": FILE, \"key\": FILE} (ca, cert and key optional)", path, err)
	}
	b := &c.Bundle
	switch {
	case b.Principal == "":
		return nil, fmt.Errorf("client credential %s: no principal", path)
	case b.Secret == "" && b.Cert == "":
		return nil, fmt.Errorf("client credential %s: no secret and no certificate; give one or both", path)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&b.CA, &b.Cert, &b.Key} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if b.CA != "" || b.Cert != "" || b.Key != "" {
		if c.tls, err = ClientTLS(b.CA, b.Cert, b.Key); err != nil {
			return nil, fmt.Errorf("client credential %s: %w", path, err)
		}
	}
	return c, nil
}

// DefaultClientPath is where clients look for a bundle when neither a
// flag nor $APRON_CREDENTIALS names one: os.UserConfigDir()/apron/credentials.json.
func DefaultClientPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "apron", "credentials.json"), nil
}

// ClientPath is the bundle a client uses: flag when given, else
// $APRON_CREDENTIALS, else the default path (which may not exist).
func ClientPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(ClientEnv); env != "" {
		return env, nil
	}
	return DefaultClientPath()
}

// FindClient loads the bundle a client uses (see ClientPath); nil when
// none is named and the default file does not exist. A bundle named by the
// flag or the environment must exist.
func FindClient(flag string) (*Client, error) {
	path, err := ClientPath(flag)
	if err != nil {
		return nil, nil // no config dir: no default bundle
	}
	named := flag != "" || os.Getenv(ClientEnv) != ""
	if _, err := os.Stat(path); !named && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return LoadClient(path)
}

// TLS is the client's TLS configuration: nil without a CA or certificate.
func (c *Client) TLS() *tls.Config {
	if c == nil || c.tls == nil {
		return nil
	}
	return c.tls.Clone()
}

// Scheme is the scheme of a server given as host:port: https when the
// client speaks TLS (it has a CA to verify servers with, or a
// certificate).
func (c *Client) Scheme() string {
	if c != nil && c.tls != nil {
		return "https"
	}
	return "http"
}

// ClientFromTLS is the credential of a server that calls others (a master
// its peers and agents, an agent its master) as itself: its certificate
// and key, whose common name is its principal, and the CA that verifies
// the servers it calls.
func ClientFromTLS(caFile, certFile, keyFile string) (*Client, error) {
	cfg, err := ClientTLS(caFile, certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if len(cfg.Certificates) == 0 {
		return nil, fmt.Errorf("a server's own credential needs its certificate and key")
	}
	return &Client{Bundle: Bundle{Principal: cfg.Certificates[0].Leaf.Subject.CommonName, CA: caFile, Cert: certFile, Key: keyFile}, tls: cfg}, nil
}

// Transport is base (cloned) with the client's TLS configuration, whose
// requests carry its credentials: HTTP basic authentication, added where
// a request has no Authorization of its own, and only over https when the
// client speaks TLS, so that the secret goes to no server its CA has not
// vouched for. A nil client returns base as it is.
func (c *Client) Transport(base *http.Transport) http.RoundTripper {
	if c == nil {
		return base
	}
	t := base.Clone()
	if c.tls != nil {
		t.TLSClientConfig = c.TLS()
		t.ForceAttemptHTTP2 = true
		if t.Protocols != nil {
			t.Protocols.SetHTTP2(true) // a transport that chose its protocols (h2c) gets h2 over TLS
		}
	}
	if c.Secret == "" {
		return t
	}
	return &withAuth{next: t, header: "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Principal+":"+c.Secret)), httpsOnly: c.tls != nil}
}

// withAuth adds an Authorization header to requests.
type withAuth struct {
	next      http.RoundTripper
	header    string
	httpsOnly bool
}

func (a *withAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" || a.httpsOnly && r.URL.Scheme != "https" {
		return a.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", a.header)
	return a.next.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport below.
func (a *withAuth) CloseIdleConnections() {
	if t, ok := a.next.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
