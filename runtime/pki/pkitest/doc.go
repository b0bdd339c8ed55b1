// Package pkitest gives tests a cluster's secrets (package pki), clients
// that carry a principal's credential, and servers on loopback ports that
// serve TLS with them.
package pkitest
