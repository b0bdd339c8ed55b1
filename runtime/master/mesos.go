package master

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/apronlab/apron/runtime/api"
)

// How the scheduler endpoint speaks HTTP as Mesos' does: the media types
// of calls and of the event stream, and the master's info in SUBSCRIBED.

const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/x-protobuf"
	recordIO      = "application/recordio"
)

// decodeCall reads a scheduler call: JSON, whatever the Content-Type but
// protobuf, which apron does not speak yet (415); too long a call is 413,
// one that is not a call 400, with the field that is wrong.
func (m *Master) decodeCall(w http.ResponseWriter, r *http.Request) (*api.Call, bool) {
	if mediaType(r.Header.Get("Content-Type")) == mediaProtobuf {
		refuse(w, http.StatusUnsupportedMediaType, "Content-Type", "apron's scheduler API speaks JSON (Content-Type: %s); protobuf is not supported yet", mediaJSON)
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSchedulerCall))
	if err != nil {
		var tooLong *http.MaxBytesError
		if errors.As(err, &tooLong) {
			refuse(w, http.StatusRequestEntityTooLarge, "", "the call is longer than %d bytes", maxSchedulerCall)
		} else {
			refuse(w, http.StatusBadRequest, "", "reading the call: %v", err)
		}
		return nil, false
	}
	c, err := api.DecodeCall(data)
	if err != nil {
		field := ""
		if ce := (*api.CallError)(nil); errors.As(err, &ce) {
			field = ce.Field
		}
		refuse(w, http.StatusBadRequest, field, "the call is not valid JSON for a scheduler call: %v", err)
		return nil, false
	}
	return c, true
}

func mediaType(v string) string {
	mt, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// streamMedia is the Content-Type of a SUBSCRIBE's stream, as the request
// accepts: JSON records (Mesos' answer to Accept: application/json, or to
// no Accept), or, for a client that asks for application/recordio,
// recordio with JSON records (Message-Content-Type). Anything else is 406.
func streamMedia(w http.ResponseWriter, r *http.Request) (string, bool) {
	accept := strings.Join(r.Header.Values("Accept"), ",")
	switch {
	case api.AcceptsJSON(accept):
		return mediaJSON, true
	case api.AcceptsRecordIO(accept):
		return recordIO, true
	}
	refuse(w, http.StatusNotAcceptable, "Accept", "Accept %.128q: apron's event stream is %s (or %s of JSON records); protobuf is not supported yet", accept, mediaJSON, recordIO)
	return "", false
}

// masterInfo describes the master as the subscribing client reached it:
// the address of the connection it came on, and the host it named.
func masterInfo(r *http.Request, id string) *api.MasterInfo {
	mi := &api.MasterInfo{ID: id, Version: api.MesosVersion}
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return mi
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "" {
		host = tcp.IP.String()
	}
	mi.Port = uint32(tcp.Port)
	mi.Hostname = host
	mi.Address = &api.Address{Hostname: host, IP: tcp.IP.String(), Port: int32(tcp.Port)}
	mi.IP = api.PackedIP(tcp.IP)
	return mi
}
