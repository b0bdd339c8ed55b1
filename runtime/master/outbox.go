package master

import (
	"net/http"
	"sync"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// outbox is one stream's queue of RecordIO frames. The master appends under
// its own lock and never blocks on a slow reader; the HTTP handler that
// owns the stream drains it. It holds at most max bytes: a subscriber that
// lets more pile up is disconnected rather than buffered for ever.
type outbox struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	max    int
	closed bool
}

func newOutbox(max int) *outbox {
	o := &outbox{max: max}
	o.cond = sync.NewCond(&o.mu)
	return o
}

// send queues v; after close it is dropped. It reports false when the
// outbox is full, and closes it.
func (o *outbox) send(v any) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return true
	}
	o.buf, _ = api.AppendRecord(o.buf, v) // the wire types always marshal
	if len(o.buf) > o.max {
		o.buf, o.closed = nil, true
		o.cond.Broadcast()
		return false
	}
	o.cond.Signal()
	return true
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.cond.Broadcast()
	o.mu.Unlock()
}

// writeTimeout bounds one write to a stream: a peer that stops reading
// with its TCP window full is cut off.
const writeTimeout = 30 * time.Second

// drain writes queued frames to w until the outbox is closed or a write
// fails (the client went away; the request's context ending closes it).
func (o *outbox) drain(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
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
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(out); err != nil {
			o.close()
			return
		}
		if err := rc.Flush(); err != nil {
			o.close()
			return
		}
		spare = out
	}
}

// serveStream writes the stream's headers and drains it until the client
// goes away or the master closes it; gone runs after. The server's read
// deadline, meant for requests, is lifted: a stream lives long.
func serveStream(w http.ResponseWriter, r *http.Request, o *outbox, contentType string, gone func()) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", contentType)
	if contentType == recordIO {
		w.Header().Set("Message-Content-Type", mediaJSON)
	}
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
