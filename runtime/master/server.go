package master

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ServerLimits bound a server's connections and how long a request may
// take to arrive. Event streams lift the read deadline once subscribed,
// and every write to a stream has its own deadline.
type ServerLimits struct {
	MaxConnections    int           // open at once; more are closed on accept (default 10000)
	ReadHeaderTimeout time.Duration // default 10s
	ReadTimeout       time.Duration // a whole request, body included (default 60s)
	IdleTimeout       time.Duration // a kept-alive connection between requests (default 2m)
}

func (l *ServerLimits) defaults() {
	if l.MaxConnections <= 0 {
		l.MaxConnections = 10000
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = time.Minute
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 2 * time.Minute
	}
}

// NewServer returns an HTTP server for h with the default limits.
func NewServer(h http.Handler) *http.Server { return NewServerWith(h, ServerLimits{}) }

// NewServerWith returns an HTTP server for h that speaks HTTP/1.1 and, for
// clients that ask with prior knowledge, unencrypted HTTP/2 with up to
// 1,000 streams per connection: a process that simulates thousands of
// agents (package loadgen) holds their event streams on a few connections
// instead of one file descriptor each. Connections past the limit are
// closed as they arrive, so a flood of idle clients cannot take the
// master's file descriptors.
func NewServerWith(h http.Handler, l ServerLimits) *http.Server {
	l.defaults()
	var open atomic.Int64
	srv := &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout, IdleTimeout: l.IdleTimeout,
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000},
		ConnState: func(c net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				if open.Add(1) > int64(l.MaxConnections) {
					_ = c.Close()
				}
			case http.StateHijacked, http.StateClosed:
				open.Add(-1)
			}
		}}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}

// NewServerTLS is NewServerWith serving TLS with cfg: HTTP/1.1 and HTTP/2
// by ALPN, and no unencrypted HTTP/2. A nil cfg is NewServerWith's plain
// HTTP (a cluster run --insecure).
func NewServerTLS(h http.Handler, l ServerLimits, cfg *tls.Config) *http.Server {
	srv := NewServerWith(h, l)
	if cfg != nil {
		srv.TLSConfig = cfg
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetHTTP2(true)
	}
	return srv
}

// Serve serves srv on ln: TLS when srv has a TLS configuration.
func Serve(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}
