package master

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master/core"
)

// Principal is who a request to the master proved it is; "" when the
// master runs without credentials (--insecure).
func Principal(r *http.Request) string { return auth.Principal(r) }

// openPaths answer without credentials: a load balancer's health check,
// finding the leader, the version (as Mesos' are), the login link that
// sets a web UI session, and the UI's static files.
func openPath(path string) bool {
	switch path {
	case "/health", "/master/redirect", "/login", "/master/health", "/version":
		return true
	}
	return len(path) > len("/static/") && path[:len("/static/")] == "/static/"
}

// Authenticate wraps h so that every request but the open ones must prove
// who it is (see auth.Credentials.Require). Without credentials it is h.
func (m *Master) Authenticate(h http.Handler) http.Handler {
	return m.opts.Credentials.Require(openPath, h)
}

// Allowed asks the ACLs whether the request's principal may do action on
// object, answering a denial with 403 and the rule that denied it. An
// operator's action (audit) is recorded, allowed or not.
func (m *Master) Allowed(w http.ResponseWriter, r *http.Request, action, object string, audit bool) bool {
	d := m.Decide(r, action, object, audit)
	if !d.Allowed {
		refuse(w, http.StatusForbidden, "", "principal %q may not %s %q: %s", Principal(r), action, object, d)
	}
	return d.Allowed
}

// Decide is Allowed's decision, for a caller that answers a denial
// itself (a page that shows less).
func (m *Master) Decide(r *http.Request, action, object string, audit bool) auth.Decision {
	who := Principal(r)
	d := m.authorizer().Authorize(who, action, object)
	if audit || !d.Allowed {
		m.opts.Audit.Record(auth.Event{Principal: who, Action: action, Object: object, Allowed: d.Allowed, Rule: d.Rule, Detail: r.Method + " " + r.URL.Path})
	}
	return d
}

// authorizer is the master's ACLs; a master without credentials allows
// everything.
func (m *Master) authorizer() auth.Authorizer {
	if m.opts.Credentials == nil || m.opts.Authorizer == nil {
		return auth.AllowAll{}
	}
	return m.opts.Authorizer
}

// viewing wraps a read-only endpoint in view_state on object.
func (m *Master) viewing(object string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if m.Allowed(w, r, auth.ViewState, object, false) {
			h(w, r)
		}
	}
}

// audited records a call the core refused for want of permission: a
// client acting for a framework or an agent not its own.
func (m *Master) audited(r *http.Request, what string, ref *core.Refusal) {
	if ref != nil && ref.Code == http.StatusForbidden {
		m.opts.Audit.Record(auth.Event{Principal: Principal(r), Action: what, Allowed: false, Detail: ref.Message})
	}
}

// checkAgentURL refuses (403) an agent URL the master would not reach the agent
// at: the master's sandbox proxy follows it, so a client that could name
// any URL could make the master fetch from any host it can reach (SSRF).
// The URL must be http or https with no user, path or query, and its host
// the address the registration came from (any loopback address counts
// for a loopback one; a name must resolve to it). An agent with no URL
// serves no sandboxes, and the master never calls it.
func checkAgentURL(ctx context.Context, remoteAddr, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("url %.128q: want http(s)://host:port of the agent's API, with no user, path or query", raw)
	}
	from, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return fmt.Errorf("the registration's address %q: %v", remoteAddr, err)
	}
	src := net.ParseIP(from)
	ips := []net.IP{net.ParseIP(u.Hostname())}
	if ips[0] == nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIP(ctx, "ip", u.Hostname())
		if err != nil {
			return fmt.Errorf("url %.128q: its host does not resolve: %v", raw, err)
		}
		ips = addrs
	}
	for _, ip := range ips {
		if ip.Equal(src) || ip.IsLoopback() && src != nil && src.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("url %.128q: its host is not %s, where the registration came from; an agent registers the address it serves at", raw, from)
}

// idKey is the key that signs framework ids (core.Config.IDKey): derived
// from the masters' own secret, which every master of a cluster has and
// keeps across restarts; failing that, from all the credentials.
func idKey(creds *auth.Credentials, masterPrincipal string) []byte {
	if creds == nil {
		return nil
	}
	h := sha256.New()
	h.Write([]byte("apron framework ids\x00"))
	list := creds.List()
	for _, c := range list {
		if c.Principal == masterPrincipal {
			list = []auth.Credential{c}
		}
	}
	slices.SortFunc(list, func(a, b auth.Credential) int { return strings.Compare(a.Principal, b.Principal) })
	for _, c := range list {
		h.Write([]byte(c.Principal + "\x00" + c.Secret + "\x00"))
	}
	return h.Sum(nil)
}
