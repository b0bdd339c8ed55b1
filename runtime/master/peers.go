package master

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"github.com/apronlab/apron/runtime/auth"
	"io"
	"net/http"
	"strings"
	"time"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// peer carries raft messages to another master: a bounded queue and one
// goroutine that posts them in batches to its /api/v1/raft. A message that
// cannot go is dropped and raft told the peer is unreachable; raft sends
// again what matters.
type peer struct {
	r   *replication
	id  uint64
	url string
	q   chan *pb.Message
	hc  *http.Client
}

const (
	peerQueue = 4096
	peerBatch = 64
	// maxRaftBody bounds a post of raft messages: a snapshot is the
	// registry, which --retain and the other limits bound.
	maxRaftBody = 1 << 30
)

func newPeer(r *replication, id uint64, url string) *peer {
	return &peer{r: r, id: id, url: strings.TrimSuffix(url, "/"), q: make(chan *pb.Message, peerQueue), hc: r.m.Client(10 * time.Second)}
}

// send queues a message. Called with the master's lock held.
func (p *peer) send(m *pb.Message) {
	select {
	case p.q <- m:
	default:
		p.r.node.ReportUnreachable(p.id)
	}
}

func (p *peer) run(ctx context.Context) {
	for {
		var batch []*pb.Message
		select {
		case <-ctx.Done():
			return
		case m := <-p.q:
			batch = append(batch, m)
		}
	more:
		for len(batch) < peerBatch {
			select {
			case m := <-p.q:
				batch = append(batch, m)
			default:
				break more
			}
		}
		err := p.post(ctx, batch)
		p.r.m.mu.Lock()
		if err != nil {
			p.r.node.ReportUnreachable(p.id)
		}
		for _, m := range batch {
			if m.GetType() == pb.MsgSnap {
				p.r.node.ReportSnapshot(p.id, err == nil)
			}
		}
		p.r.m.mu.Unlock()
	}
}

func (p *peer) post(ctx context.Context, batch []*pb.Message) error {
	var body bytes.Buffer
	for _, m := range batch {
		data, err := proto.Marshal(m)
		if err != nil {
			return err
		}
		body.Write(binary.AppendUvarint(nil, uint64(len(data))))
		body.Write(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/api/v1/raft", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-raft")
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("peer %d: %s", p.id, resp.Status)
	}
	return nil
}

// serveRaft takes raft messages from a peer.
func (m *Master) serveRaft(w http.ResponseWriter, r *http.Request) {
	if who := Principal(r); m.opts.Credentials != nil && who != m.opts.MasterPrincipal {
		m.opts.Audit.Record(auth.Event{Principal: who, Action: "raft", Detail: "only the masters' principal " + m.opts.MasterPrincipal + " may send raft messages"})
		refuse(w, http.StatusForbidden, "", "principal %q may not send raft messages: only the masters (principal %q) may", who, m.opts.MasterPrincipal)
		return
	}
	if m.rep == nil {
		refuse(w, http.StatusNotFound, "", "this master is not replicated")
		return
	}
	msgs, err := readRaft(http.MaxBytesReader(w, r.Body, maxRaftBody))
	if err != nil {
		refuse(w, http.StatusBadRequest, "", "raft messages: %v", err)
		return
	}
	m.rep.step(msgs)
	w.WriteHeader(http.StatusNoContent)
}

func readRaft(r io.Reader) ([]*pb.Message, error) {
	br := bufio.NewReader(r)
	var out []*pb.Message
	for {
		n, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return out, nil
		}
		if err != nil || n > maxRaftBody {
			return nil, fmt.Errorf("a message's length: %v", err)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, err
		}
		m := &pb.Message{}
		if err := proto.Unmarshal(data, m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
}
