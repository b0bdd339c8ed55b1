// Package auth is who may talk to a live cluster and what they may do:
// principals and their secrets (a credentials file, as Mesos'
// --credentials), the authentication of an HTTP request (HTTP basic, a
// bearer token, or a client certificate verified by the cluster's CA),
// access control lists in the manner of Mesos' --acls, an audit log of
// every operator action, the TLS configurations of servers and clients
// (files checked, errors that name the file and what is wrong), and the
// client bundle every client proves who it is with (--credential,
// $APRON_CREDENTIALS, or os.UserConfigDir()/apron/credentials.json).
//
// ACL evaluation is pure: the same ACLs, principal, action and object give
// the same decision, which names the rule that made it. The master's core
// takes an Authorizer and calls it where it decides.
package auth
