package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/pki"
)

// oddCert writes a certificate for 127.0.0.1 signed by the CA of s (or
// self-signed when s is nil), with the validity and usages given, and
// returns its and its key's paths.
func oddCert(t *testing.T, s *pki.Secrets, from, to time.Time, usage x509.ExtKeyUsage) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "odd"}, NotBefore: from, NotAfter: to,
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	parent, parentKey := tmpl, any(key)
	if s != nil {
		pair, err := tls.LoadX509KeyPair(s.CA, filepath.Join(s.Dir, "ca-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		parent, parentKey = pair.Leaf, pair.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "odd.pem"), filepath.Join(dir, "odd-key.pem")
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func secrets(t *testing.T) *pki.Secrets {
	t.Helper()
	s, err := pki.Generate(pki.Spec{Dir: t.TempDir(), Agents: []string{"agent-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Each mistake in a server's or client's TLS files is refused, naming the
// file and what is wrong with it.
func TestTLSFilesChecked(t *testing.T) {
	s := secrets(t)
	other := secrets(t)
	master, _ := s.Identity(pki.Master)
	ops, _ := s.Identity(pki.Ops)
	now := time.Now()
	expiredCert, expiredKey := oddCert(t, s, now.Add(-48*time.Hour), now.Add(-24*time.Hour), x509.ExtKeyUsageServerAuth)
	clientOnly, clientOnlyKey := oddCert(t, s, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageClientAuth)
	selfSigned, selfSignedKey := oddCert(t, nil, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageServerAuth)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	openKey := filepath.Join(t.TempDir(), "key.pem")
	data, _ := os.ReadFile(master.Key)
	os.WriteFile(openKey, data, 0o644)

	for _, c := range []struct {
		name          string
		cert, key, ca string
		want          []string
		client        bool
	}{
		{name: "key of another", cert: master.Cert, key: ops.Key, ca: s.CA, want: []string{ops.Key, "does not match", master.Cert}},
		{name: "expired", cert: expiredCert, key: expiredKey, ca: s.CA, want: []string{expiredCert, "expired on"}},
		{name: "another CA", cert: master.Cert, key: master.Key, ca: other.CA, want: []string{master.Cert, "not signed by the CA", other.CA}},
		{name: "self-signed", cert: selfSigned, key: selfSignedKey, ca: s.CA, want: []string{selfSigned, "not signed by the CA"}},
		{name: "client certificate as a server's", cert: clientOnly, key: clientOnlyKey, ca: s.CA, want: []string{clientOnly, "may not authenticate a server"}},
		{name: "CA not PEM", cert: master.Cert, key: master.Key, ca: notPEM, want: []string{notPEM, "no PEM certificate"}},
		{name: "CA a leaf", cert: master.Cert, key: master.Key, ca: ops.Cert, want: []string{ops.Cert, "not a CA certificate"}},
		{name: "key others may read", cert: master.Cert, key: openKey, ca: s.CA, want: []string{openKey, "mode 0644"}},
		{name: "missing", cert: master.Cert + ".gone", key: master.Key, ca: s.CA, want: []string{master.Cert + ".gone", "no such file"}},
		{name: "client: another CA", cert: ops.Cert, key: ops.Key, ca: other.CA, client: true, want: []string{ops.Cert, "not signed by the CA"}},
		{name: "client: half a pair", cert: ops.Cert, ca: s.CA, client: true, want: []string{"give both or neither"}},
	} {
		var err error
		if c.client {
			_, err = auth.ClientTLS(c.ca, c.cert, c.key)
		} else {
			_, err = auth.ServerTLS(c.cert, c.key, c.ca)
		}
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v; want an error that says %q", c.name, err, w)
			}
		}
	}
	if _, err := auth.ServerTLS(master.Cert, master.Key, s.CA); err != nil {
		t.Errorf("good files: %v", err)
	}
}

func writeBundle(t *testing.T, mode os.FileMode, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadClient(t *testing.T) {
	s := secrets(t)
	for body, want := range map[string]string{
		`{"secret": "0123456789abcdef"}`:                           "no principal",
		`{"principal": "ops"}`:                                     "no secret and no certificate",
		`{"principal": "ops", "secret": "x", "pass": "y"}`:         `unknown field "pass"`,
		`{"principal": "ops", "secret": "x", "ca": "missing.pem"}`: "missing.pem",
		`{"principal": "ops", "secret": "x", "cert": "a.pem"}`:     "give both or neither",
	} {
		if _, err := auth.LoadClient(writeBundle(t, 0o600, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	if _, err := auth.LoadClient(writeBundle(t, 0o640, `{"principal": "ops", "secret": "0123456789abcdef"}`)); err == nil || !strings.Contains(err.Error(), "mode 0640") {
		t.Errorf("a bundle others may read: %v", err)
	}
	id, _ := s.Identity(pki.Ops)
	c, err := auth.LoadClient(id.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	if c.CA != s.CA || c.Cert != id.Cert || c.Scheme() != "https" || c.TLS() == nil || len(c.TLS().Certificates) != 1 {
		t.Errorf("the bundle's paths are not read relative to its folder, or its TLS is missing: %+v", c.Bundle)
	}
}

// A bundle is found on the flag, else $APRON_CREDENTIALS, else the default
// file if it exists.
func TestFindClient(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv(auth.ClientEnv, "")
	if c, err := auth.FindClient(""); c != nil || err != nil {
		t.Errorf("with nothing anywhere: %v %v, want no bundle", c, err)
	}
	def, _ := auth.DefaultClientPath()
	os.MkdirAll(filepath.Dir(def), 0o700)
	os.WriteFile(def, []byte(`{"principal": "default", "secret": "0123456789abcdef"}`), 0o600)
	env := writeBundle(t, 0o600, `{"principal": "env", "secret": "0123456789abcdef"}`)
	flag := writeBundle(t, 0o600, `{"principal": "flag", "secret": "0123456789abcdef"}`)
	for _, c := range []struct{ flag, env, want string }{{"", "", "default"}, {"", env, "env"}, {flag, env, "flag"}} {
		t.Setenv(auth.ClientEnv, c.env)
		got, err := auth.FindClient(c.flag)
		if err != nil || got.Principal != c.want {
			t.Errorf("flag %q, env %q: %v %+v, want %s", c.flag, c.env, err, got, c.want)
		}
	}
	t.Setenv(auth.ClientEnv, env+".gone")
	if _, err := auth.FindClient(""); err == nil {
		t.Error("a bundle named in the environment that does not exist was ignored")
	}
}

// The transport sends HTTP basic authentication, and with a CA only over
// https: a secret goes to no server the CA has not vouched for.
func TestTransportSendsCredentials(t *testing.T) {
	var got []string
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = append(got, r.Header.Get("Authorization")) })
	plain := httptest.NewServer(h)
	defer plain.Close()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:0123456789abcdef"))
	c, _ := auth.LoadClient(writeBundle(t, 0o600, `{"principal": "ops", "secret": "0123456789abcdef"}`))
	hc := &http.Client{Transport: c.Transport(http.DefaultTransport.(*http.Transport))}
	hc.Get(plain.URL)
	s := secrets(t)
	withCA, _ := s.Client(pki.Ops)
	hc = &http.Client{Transport: withCA.Transport(http.DefaultTransport.(*http.Transport))}
	hc.Get(plain.URL)
	if len(got) != 2 || got[0] != want || got[1] != "" {
		t.Errorf("Authorization sent: %q; want %q without a CA, and nothing over http with one", got, want)
	}
}
