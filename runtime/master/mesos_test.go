package master

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/apronlab/apron/runtime/api"
)

// The scheduler endpoint speaks HTTP as Mesos' does: the stream's type is
// what Accept asks for, a protobuf call is 415, an Accept of protobuf
// only 406, and SUBSCRIBED says where the master was reached.
func TestSchedulerMediaTypes(t *testing.T) {
	_, url := newTestMaster(t, Options{}, ServerLimits{})
	sub := subscribeBody(api.FrameworkInfo{Name: "f"})
	tests := []struct {
		name, accept, contentType string
		code                      int
		streamType, messageType   string
	}{
		{"no Accept", "", "", http.StatusOK, "application/json", ""},
		{"json", "application/json", "application/json", http.StatusOK, "application/json", ""},
		{"anything", "*/*", "application/json; charset=utf-8", http.StatusOK, "application/json", ""},
		{"recordio", "application/recordio", "application/json", http.StatusOK, "application/recordio", "application/json"},
		{"protobuf accepted only", "application/x-protobuf", "application/json", http.StatusNotAcceptable, "", ""},
		{"protobuf sent", "application/json", "application/x-protobuf", http.StatusUnsupportedMediaType, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/scheduler", bytes.NewReader(sub))
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.code)
			}
			if tt.code != http.StatusOK {
				return
			}
			if ct, mt := resp.Header.Get("Content-Type"), resp.Header.Get("Message-Content-Type"); ct != tt.streamType || mt != tt.messageType {
				t.Errorf("Content-Type %q, Message-Content-Type %q; want %q, %q", ct, mt, tt.streamType, tt.messageType)
			}
			var e api.Event
			if err := api.NewRecordReader(resp.Body).Decode(&e); err != nil || e.Type != api.EventSubscribed {
				t.Fatalf("first event %v %v", e.Type, err)
			}
			mi := e.Subscribed.MasterInfo
			if mi == nil || mi.Address == nil || mi.Address.IP != "127.0.0.1" || mi.IP != 0x0100007f || mi.Port == 0 || !strings.HasSuffix(url, ":"+itoa(mi.Port)) {
				t.Errorf("master_info %+v (url %s)", mi, url)
			}
		})
	}
}

// UPDATE_FRAMEWORK is answered 200, typed JSON, with no body.
func TestUpdateFrameworkAnswer(t *testing.T) {
	m, url := newTestMaster(t, Options{}, ServerLimits{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/scheduler", bytes.NewReader(subscribeBody(api.FrameworkInfo{Name: "f"})))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sid := resp.Header.Get("Mesos-Stream-Id")
	var e api.Event
	if err := api.NewRecordReader(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	id := e.Subscribed.FrameworkID
	call, _ := json.Marshal(api.Call{Type: api.CallUpdateFramework, FrameworkID: &id, UpdateFramework: &api.UpdateFramework{
		FrameworkInfo: api.FrameworkInfo{ID: &id, Name: "g"}}})
	up, _ := http.NewRequest(http.MethodPost, url+"/api/v1/scheduler", bytes.NewReader(call))
	up.Header.Set("Mesos-Stream-Id", sid)
	r2, err := http.DefaultClient.Do(up)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK || r2.Header.Get("Content-Type") != "application/json" || r2.ContentLength > 0 {
		t.Errorf("UPDATE_FRAMEWORK: %s %q %d", r2.Status, r2.Header.Get("Content-Type"), r2.ContentLength)
	}
	if got := m.State().Frameworks[0].Name; got != "g" {
		t.Errorf("name %q after the update", got)
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
