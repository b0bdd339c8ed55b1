// Package pki makes the secrets of a local cluster, as apron up and the
// live tests need them: a CA (ECDSA P-256), a certificate and key for
// each principal (its common name; loopback names and addresses; good
// for servers and clients), a random secret for each, the credentials
// files the masters and agents read (--credentials), the ACLs, and a
// client bundle per principal, all in one directory only its owner may
// enter (0700, files 0600). A CA already there and valid for a while yet
// is kept, so that a browser told to trust it keeps trusting it; every
// other file is made again.
package pki
