package master

import (
	"net/http"
	"time"
)

// NewServer returns an HTTP server for h that speaks HTTP/1.1 and, for
// clients that ask with prior knowledge, unencrypted HTTP/2 with up to
// 1,000 streams per connection: a process that simulates thousands of
// agents (package loadgen) holds their event streams on a few connections
// instead of one file descriptor each.
func NewServer(h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000}}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}
