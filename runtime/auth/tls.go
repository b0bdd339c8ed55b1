package auth

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ServerTLS is a server's TLS configuration: its certificate and key, and
// the CA that signs its clients' certificates. With a CA, a client may
// present a certificate (mutual TLS): it is verified against the CA, and
// its common name is the client's principal; without one, no client
// certificate is asked for. TLS 1.2 at least.
func ServerTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var pool *x509.CertPool
	if caFile != "" {
		var err error
		if pool, err = LoadCA(caFile); err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	cert, err := loadPair(certFile, keyFile, caFile, pool, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// ClientTLS is a client's TLS configuration: the CA that signs the
// servers' certificates (none: the system's), and a certificate and key
// to present (none: no client certificate). TLS 1.2 at least.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		var err error
		if cfg.RootCAs, err = LoadCA(caFile); err != nil {
			return nil, err
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("client certificate %q and key %q: give both or neither", certFile, keyFile)
	}
	if certFile != "" {
		cert, err := loadPair(certFile, keyFile, caFile, cfg.RootCAs, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// LoadCA reads a PEM file of CA certificates, each of which must be a CA
// and valid now.
func LoadCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA %s: certificate %d: %v", path, n+1, err)
		}
		if !c.IsCA {
			return nil, fmt.Errorf("CA %s: certificate %d (%s) is not a CA certificate (basic constraints CA:FALSE)", path, n+1, c.Subject)
		}
		if err := validNow(c); err != nil {
			return nil, fmt.Errorf("CA %s: %w", path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA %s: no PEM certificate in it (want -----BEGIN CERTIFICATE-----)", path)
	}
	return pool, nil
}

// loadPair reads a certificate and its key and checks that they match,
// that the certificate is valid now and, with a CA, that the CA signed it
// for usage.
func loadPair(certFile, keyFile, caFile string, pool *x509.CertPool, usage x509.ExtKeyUsage) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, fmt.Errorf("a certificate and its key are both required (certificate %q, key %q)", certFile, keyFile)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate: %w", err)
	}
	keyPEM, err := readPrivate(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	switch {
	case err != nil && strings.Contains(err.Error(), "does not match"):
		return cert, fmt.Errorf("key %s does not match the certificate %s", keyFile, certFile)
	case err != nil:
		return cert, fmt.Errorf("certificate %s and key %s: %v", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if err := validNow(leaf); err != nil {
		return cert, fmt.Errorf("certificate %s: %w", certFile, err)
	}
	if pool == nil {
		return cert, nil
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return cert, fmt.Errorf("certificate %s may not %s (its extended key usage)", certFile, usageText[usage])
	case err != nil:
		return cert, fmt.Errorf("certificate %s (%s) is not signed by the CA %s: %v", certFile, leaf.Subject, caFile, err)
	}
	return cert, nil
}

var usageText = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageServerAuth: "authenticate a server",
	x509.ExtKeyUsageClientAuth: "authenticate a client",
}

// validNow checks a certificate's validity period.
func validNow(c *x509.Certificate) error {
	now := time.Now()
	span := fmt.Sprintf("valid from %s to %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	switch {
	case now.After(c.NotAfter):
		return fmt.Errorf("%s expired on %s (%s)", c.Subject, c.NotAfter.UTC().Format(time.RFC3339), span)
	case now.Before(c.NotBefore):
		return fmt.Errorf("%s is not valid yet (%s)", c.Subject, span)
	}
	return nil
}
