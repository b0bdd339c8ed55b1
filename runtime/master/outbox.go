package master

import (
	"net/http"
	"sync"

	"github.com/apronlab/apron/runtime/api"
)

// outbox is one stream's queue of RecordIO frames. The master appends under
// its own lock and never blocks on a slow reader; the HTTP handler that
// owns the stream drains it.
type outbox struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newOutbox() *outbox {
	o := &outbox{}
	o.cond = sync.NewCond(&o.mu)
	return o
}

// send queues v; after close it is dropped.
func (o *outbox) send(v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.buf, _ = api.AppendRecord(o.buf, v) // the wire types always marshal
	o.cond.Signal()
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.cond.Broadcast()
	o.mu.Unlock()
}

// drain writes queued frames to w until the outbox is closed or a write
// fails (the client went away; the request's context ending closes it).
func (o *outbox) drain(w http.ResponseWriter) {
	flusher, _ := w.(http.Flusher)
	var spare []byte
	for {
		o.mu.Lock()
		for len(o.buf) == 0 && !o.closed {
			o.cond.Wait()
		}
		if len(o.buf) == 0 {
			o.mu.Unlock()
			return
		}
		out := o.buf
		o.buf = spare[:0]
		o.mu.Unlock()
		if _, err := w.Write(out); err != nil {
			o.close()
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		spare = out
	}
}

// serveStream writes the stream's headers and drains it until the client
// goes away or the master closes it; gone runs after.
func serveStream(w http.ResponseWriter, r *http.Request, o *outbox, gone func()) {
	w.Header().Set("Content-Type", "application/recordio")
	w.Header().Set("Message-Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	stop := make(chan struct{})
	go func() {
		select {
		case <-r.Context().Done():
			o.close()
		case <-stop:
		}
	}()
	o.drain(w)
	close(stop)
	gone()
}
