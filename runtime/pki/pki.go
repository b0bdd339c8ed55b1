package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
)

// The principals every local cluster has.
const (
	Master = "master" // the masters: raft peers, the sandbox proxy
	Ops    = "ops"    // the operator: apron execute, policy, curl, the web UI
)

// Spec is what to make.
type Spec struct {
	// Dir holds the secrets: made if missing, 0700, owned by this user.
	Dir string
	// Agents are the agents' names, each a principal of its own that may
	// register that agent only.
	Agents []string
	// Others are more principals (tests), with the rights of ops.
	Others []string
	// Frameworks are principals that may run frameworks (in any role, and
	// their tasks as anyone but root) and do nothing else: tests of one
	// framework's principal against another's.
	Frameworks []string
	// Hosts are the certificates' names and addresses; default
	// 127.0.0.1, ::1 and localhost.
	Hosts []string
}

// Identity is one principal's secrets.
type Identity struct {
	Principal string
	Secret    string // 32 random bytes, base64url
	Cert, Key string // its certificate and key (PEM)
	Bundle    string // its client bundle (auth.LoadClient)
}

// Secrets are the files made for a cluster.
type Secrets struct {
	Dir              string
	CA               string // ca.pem; its key is ca-key.pem
	Credentials      string // every principal: the masters' --credentials
	AgentCredentials string // master and ops: the agents' --credentials
	ACLs             string // acls.json: see ACLs
	ids              map[string]Identity
}

// Generate makes the secrets of spec.
func Generate(spec Spec) (*Secrets, error) {
	if err := privateDir(spec.Dir); err != nil {
		return nil, err
	}
	if len(spec.Hosts) == 0 {
		spec.Hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	principals := slices.Concat([]string{Master, Ops}, spec.Others, spec.Frameworks, spec.Agents)
	for i, p := range principals {
		if err := api.ValidName(p); err != nil {
			return nil, fmt.Errorf("pki: principal %q: %w", p, err)
		}
		if slices.Contains(principals[:i], p) {
			return nil, fmt.Errorf("pki: principal %q is named twice (%s and %s are always made)", p, Master, Ops)
		}
	}
	s := &Secrets{Dir: spec.Dir, CA: filepath.Join(spec.Dir, "ca.pem"), Credentials: filepath.Join(spec.Dir, "credentials.json"),
		AgentCredentials: filepath.Join(spec.Dir, "agent-credentials.json"), ACLs: filepath.Join(spec.Dir, "acls.json"), ids: map[string]Identity{}}
	ca, caKey, err := loadOrMakeCA(s.CA, filepath.Join(spec.Dir, "ca-key.pem"))
	if err != nil {
		return nil, err
	}
	var all, agentSide []auth.Credential
	for _, p := range principals {
		id, err := s.issue(p, spec.Hosts, ca, caKey)
		if err != nil {
			return nil, err
		}
		s.ids[p] = id
		all = append(all, auth.Credential{Principal: p, Secret: id.Secret})
		if p == Master || p == Ops {
			agentSide = append(agentSide, auth.Credential{Principal: p, Secret: id.Secret})
		}
	}
	if err := writeJSON(s.Credentials, map[string]any{"credentials": all}); err != nil {
		return nil, err
	}
	if err := writeJSON(s.AgentCredentials, map[string]any{"credentials": agentSide}); err != nil {
		return nil, err
	}
	if err := writeJSON(s.ACLs, ACLs(spec)); err != nil {
		return nil, err
	}
	return s, nil
}

// ACLs are a local cluster's: ops (and the others) may do everything but
// run tasks as root; the frameworks' principals may run frameworks,
// reserve resources for their roles and unreserve their own
// reservations; each agent's principal may register that agent only;
// every principal may view the state.
func ACLs(spec Spec) *auth.ACLs {
	any := auth.Entity{Type: "ANY"}
	operators := auth.Rule{Principals: auth.Entity{Values: append([]string{Ops}, spec.Others...)}, Objects: any}
	frameworks := auth.Rule{Principals: auth.Entity{Values: spec.Frameworks}, Objects: any}
	a := &auth.ACLs{Permissive: false, Rules: map[string][]auth.Rule{}}
	for _, action := range []string{auth.RegisterFrameworks, auth.TeardownFrameworks, auth.UpdatePolicy, auth.KillTasks, auth.AccessSandboxes,
		auth.ReserveResources, auth.UnreserveResources} {
		a.Rules[action] = []auth.Rule{operators}
	}
	a.Rules[auth.ViewState] = []auth.Rule{{Principals: any, Objects: any}}
	// No one runs tasks as root (principals NONE: a rule that forbids).
	a.Rules[auth.RunTasks] = []auth.Rule{{Principals: auth.Entity{Type: "NONE"}, Objects: auth.Entity{Values: []string{"root"}}}, operators}
	if len(spec.Frameworks) > 0 {
		a.Rules[auth.RegisterFrameworks] = append(a.Rules[auth.RegisterFrameworks], frameworks)
		a.Rules[auth.RunTasks] = append(a.Rules[auth.RunTasks], frameworks)
		a.Rules[auth.ReserveResources] = append(a.Rules[auth.ReserveResources], frameworks)
		for _, p := range spec.Frameworks {
			own := auth.Entity{Values: []string{p}}
			a.Rules[auth.UnreserveResources] = append(a.Rules[auth.UnreserveResources], auth.Rule{Principals: own, Objects: own})
		}
	}
	for _, name := range spec.Agents {
		a.Rules[auth.RegisterAgents] = append(a.Rules[auth.RegisterAgents], auth.Rule{Principals: auth.Entity{Values: []string{name}}, Objects: auth.Entity{Values: []string{name}}})
	}
	return a
}

// ServerFlags are the flags that secure apron master (principal Master,
// with its audit log at auditLog) or apron agent (an agent's principal)
// with these secrets: TLS with the principal's certificate, mutual TLS by
// the CA, the principals that may call it, its own credential.
func (s *Secrets) ServerFlags(principal, auditLog string) []string {
	id := s.ids[principal]
	flags := []string{"--tls-cert", id.Cert, "--tls-key", id.Key, "--tls-ca", s.CA, "--credential", id.Bundle}
	if principal != Master {
		return append(flags, "--credentials", s.AgentCredentials)
	}
	return append(flags, "--credentials", s.Credentials, "--acls", s.ACLs, "--audit-log", auditLog)
}

// Identity is principal's secrets; ok false for a principal not made.
func (s *Secrets) Identity(principal string) (Identity, bool) {
	id, ok := s.ids[principal]
	return id, ok
}

// Client loads principal's client bundle.
func (s *Secrets) Client(principal string) (*auth.Client, error) {
	id, ok := s.ids[principal]
	if !ok {
		return nil, fmt.Errorf("pki: no principal %q in %s", principal, s.Dir)
	}
	return auth.LoadClient(id.Bundle)
}

// ServerTLS is the TLS configuration of a server that is principal.
func (s *Secrets) ServerTLS(principal string) (*tls.Config, error) {
	id, ok := s.ids[principal]
	if !ok {
		return nil, fmt.Errorf("pki: no principal %q in %s", principal, s.Dir)
	}
	return auth.ServerTLS(id.Cert, id.Key, s.CA)
}

// issue makes principal's key, certificate, secret and bundle.
func (s *Secrets) issue(principal string, hosts []string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (Identity, error) {
	id := Identity{Principal: principal, Cert: filepath.Join(s.Dir, principal+".pem"), Key: filepath.Join(s.Dir, principal+"-key.pem"),
		Bundle: filepath.Join(s.Dir, principal+".json")}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: principal, Organization: []string{"apron"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if err := makeCert(tmpl, ca, caKey, id.Cert, id.Key, 365*24*time.Hour); err != nil {
		return id, err
	}
	var err error
	if id.Secret, err = NewSecret(); err != nil {
		return id, err
	}
	b := auth.Bundle{Principal: principal, Secret: id.Secret, CA: filepath.Base(s.CA), Cert: filepath.Base(id.Cert), Key: filepath.Base(id.Key)}
	return id, writeJSON(id.Bundle, b)
}

// NewSecret is 32 random bytes, base64url without padding.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// caKeep is how long a CA found in the directory must be valid for yet to
// be kept.
const caKeep = 30 * 24 * time.Hour

// loadOrMakeCA keeps the CA of the directory if it is one and valid for
// caKeep yet, or makes a new one (valid 10 years).
func loadOrMakeCA(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if ca, key, err := loadCA(certFile, keyFile); err == nil && time.Until(ca.NotAfter) > caKeep {
		return ca, key, nil
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "apron local CA", Organization: []string{"apron"}},
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	if err := makeCert(tmpl, nil, nil, certFile, keyFile, 10*365*24*time.Hour); err != nil {
		return nil, nil, err
	}
	return loadCA(certFile, keyFile)
}

func loadCA(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !pair.Leaf.IsCA {
		return nil, nil, errors.New("not an ECDSA CA")
	}
	return pair.Leaf, key, nil
}

// makeCert makes a key and a certificate of tmpl, signed by parent (nil:
// self-signed), valid for life from an hour ago (clocks differ).
func makeCert(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, certFile, keyFile string, life time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)); err != nil {
		return err
	}
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = tmpl.NotBefore.Add(life)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return fmt.Errorf("pki: certificate %s: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return err
	}
	return writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(data, '\n'))
}

// writeFile writes a file only its owner may read, replacing one there
// (through a new file renamed over it, never through a link).
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("pki: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}
