package master

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	mesosmaster "github.com/mesos/mesos-go/api/v1/lib/master"
)

// Mesos' operator API over HTTP: authentication and view_state, the
// media types, the call types served, not served and unknown, and the
// policy updates authorised and audited.
func TestOperatorAPI(t *testing.T) {
	url, audit := secureMaster(t)
	call := func(who, body string, hdr ...string) (int, string) {
		t.Helper()
		code, resp, _ := as(t, who, http.MethodPost, url+"/api/v1", []byte(body), append([]string{"Content-Type", "application/json"}, hdr...)...)
		return code, resp
	}
	for _, tc := range []struct {
		name, who, body string
		hdr             []string
		want            int
		says            string
	}{
		{"no credentials", "", `{"type":"GET_HEALTH"}`, nil, http.StatusUnauthorized, ""},
		{"health needs no view_state", "mallory", `{"type":"GET_HEALTH"}`, nil, http.StatusOK, `{"type":"GET_HEALTH","get_health":{"healthy":true}}`},
		{"version", "mallory", `{"type":"GET_VERSION"}`, nil, http.StatusOK, `"version_info":{"version":"1.11.0"`},
		{"state needs view_state", "mallory", `{"type":"GET_STATE"}`, nil, http.StatusForbidden, `may not view_state "state"`},
		{"metrics need view_state", "mallory", `{"type":"GET_METRICS"}`, nil, http.StatusForbidden, `may not view_state "metrics"`},
		{"state", "ops", `{"type":"GET_STATE","get_state":null,"bogus":{"x":1}}`, nil, http.StatusOK, `"get_tasks":{"tasks":[]`},
		{"metrics", "ops", `{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":5000000000}}}`, nil, http.StatusOK, `{"name":"master/elected","value":1}`},
		{"not served", "ops", `{"type":"GET_FLAGS"}`, nil, http.StatusNotImplemented, "apron does not serve GET_FLAGS"},
		{"unknown, as Mesos", "ops", `{"type":"UNKNOWN"}`, nil, http.StatusNotImplemented, "UNKNOWN"},
		{"no such type", "ops", `{"type":"GET_NOTHING"}`, nil, http.StatusBadRequest, `unknown call type "GET_NOTHING"`},
		{"no type", "ops", `{}`, nil, http.StatusBadRequest, "the call has no type"},
		{"not JSON", "ops", `{"type":`, nil, http.StatusBadRequest, "not valid JSON"},
		{"a type of the wrong kind", "ops", `{"type":7}`, nil, http.StatusBadRequest, "not valid JSON"},
		{"protobuf", "ops", `{"type":"GET_HEALTH"}`, []string{"Content-Type", "application/x-protobuf"}, http.StatusUnsupportedMediaType, "takes application/json"},
		{"answers JSON only", "ops", `{"type":"GET_HEALTH"}`, []string{"Accept", "application/x-protobuf"}, http.StatusNotAcceptable, "answers application/json"},
		{"accepts JSON among others", "ops", `{"type":"GET_HEALTH"}`, []string{"Accept", "application/x-protobuf, application/json;q=0.5"}, http.StatusOK, "healthy"},
		{"update without its object", "ops", `{"type":"UPDATE_WEIGHTS"}`, nil, http.StatusBadRequest, "needs update_weights"},
		{"a bad weight", "ops", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":-1}]}}`, nil, http.StatusBadRequest, "weights must be positive"},
		{"quota without the right", "alice", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"web","limits":{"cpus":{"value":2}}}]}}`, nil,
			http.StatusForbidden, `may not update_policy "quota"`},
		{"weights", "ops", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":3}]}}`, nil, http.StatusOK, ""},
		{"teardown of no framework", "ops", `{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}`, nil, http.StatusNotFound, "nope"},
	} {
		code, body := call(tc.who, tc.body, tc.hdr...)
		body = strings.ReplaceAll(body, `\"`, `"`)
		if code != tc.want || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %s; want %d saying %q", tc.name, code, body, tc.want, tc.says)
		}
	}
	for _, want := range []string{`"principal":"ops","action":"update_policy","object":"weights","allowed":true`,
		`"principal":"alice","action":"update_policy","object":"quota","allowed":false`} {
		if !strings.Contains(audit.String(), want) {
			t.Errorf("the audit log lacks %s:\n%s", want, audit)
		}
	}
	if code, _, _ := as(t, "ops", http.MethodGet, url+"/api/v1", nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/v1: %d, want 405", code)
	}
}

// The read-only endpoints: their aliases, view_state, bad parameters, and
// /version and /master/health open as Mesos'.
func TestMesosEndpointsHTTP(t *testing.T) {
	url, _ := secureMaster(t)
	for _, tc := range []struct {
		who, path string
		want      int
		says      string
	}{
		{"ops", "/master/state", http.StatusOK, `"version":"1.11.0"`},
		{"ops", "/state.json", http.StatusOK, `"unregistered_frameworks":[]`},
		{"ops", "/master/state.json", http.StatusOK, `"leader_info"`},
		{"", "/master/state", http.StatusUnauthorized, ""},
		{"mallory", "/master/state", http.StatusForbidden, "view_state"},
		{"ops", "/master/slaves", http.StatusOK, `{"slaves":[],"recovered_slaves":[]}`},
		{"ops", "/slaves?slave_id=a1", http.StatusOK, `"slaves":[]`},
		{"ops", "/master/frameworks?framework_id=x", http.StatusOK, `"frameworks":[]`},
		{"ops", "/master/tasks?limit=5&offset=2&order=asc", http.StatusOK, `{"tasks":[]}`},
		{"ops", "/master/tasks?limit=-1", http.StatusBadRequest, `limit \"-1\": want a whole number from 0 to 10000`},
		{"ops", "/tasks.json?limit=20000", http.StatusBadRequest, "from 0 to 10000"},
		{"ops", "/master/tasks?order=up", http.StatusBadRequest, `order \"up\": want asc`},
		{"ops", "/master/roles", http.StatusOK, `"roles":[]`},
		{"ops", "/metrics/snapshot", http.StatusOK, `"master/elected": 1`},
		{"mallory", "/metrics/snapshot", http.StatusForbidden, `view_state \"metrics\"`},
		{"", "/version", http.StatusOK, `"version": "1.11.0"`},
		{"", "/master/health", http.StatusOK, ""},
	} {
		code, body, hdr := as(t, tc.who, http.MethodGet, url+tc.path, nil)
		if code == http.StatusOK {
			body = strings.ReplaceAll(body, `\"`, `"`)
		}
		if code != tc.want || !strings.Contains(body, tc.says) {
			t.Errorf("%s %s: %d %s; want %d saying %q", tc.who, tc.path, code, body, tc.want, tc.says)
		}
		if code == http.StatusOK && tc.says != "" && !json.Valid([]byte(body)) {
			t.Errorf("%s: not JSON: %s", tc.path, body)
		}
		if code == http.StatusOK && tc.says != "" && hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", tc.path, hdr.Get("Content-Type"))
		}
	}
}

// A standby redirects the read-only endpoints and the operator API to
// the leader (307), as Mesos' does, and answers /version and
// /metrics/snapshot itself (master/elected 0).
func TestMesosEndpointsOnAStandby(t *testing.T) {
	r := startReplicated(t, 3, Options{Policy: allocator.Config{Policy: "drf"}, Fresh: true})
	lead := r.waitLeader(t)
	standby := r.urls[(lead+1)%3]
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/master/state", "/master/tasks?limit=1", "/master/slaves"} {
		// A standby learns who leads from the leader's first heartbeat:
		// until then it answers 503.
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var err error
			if resp, err = noRedirect.Get(standby + path); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
				break
			}
		}
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != r.urls[lead]+path {
			t.Errorf("%s on a standby: %s to %q, want 307 to the leader", path, resp.Status, resp.Header.Get("Location"))
		}
	}
	resp, err := noRedirect.Post(standby+"/api/v1", "application/json", strings.NewReader(`{"type":"GET_STATE"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("the operator API on a standby: %s, want 307", resp.Status)
	}
	var snap map[string]float64
	resp, err = noRedirect.Get(standby + "/metrics/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil || snap["master/elected"] != 0 || len(snap) != 2 {
		t.Errorf("a standby's /metrics/snapshot: %v %v", snap, err)
	}
}

// Every call type of master.proto is either served or answered 501, and
// docs/api.md's Operator API table has a row for each that says which.
func TestOperatorCallsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "### Operator API")
	section, _, _ = strings.Cut(section, "\n#")
	notServed := map[string]bool{} // by the table
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		for _, name := range strings.Split(cells[1], ",") {
			notServed[strings.Trim(strings.TrimSpace(name), "`")] = strings.TrimSpace(cells[3]) == "`501`"
		}
	}
	for _, typ := range mesosmaster.Call_Type_name {
		inDoc, documented := notServed[typ]
		switch {
		case !slices.Contains(served, typ) && unserved[typ] == "":
			t.Errorf("master.proto's %s is neither served nor answered 501", typ)
		case !documented:
			t.Errorf("docs/api.md's Operator API table has no row for %s", typ)
		case inDoc != (unserved[typ] != ""):
			t.Errorf("docs/api.md says %s is answered 501: %v; it is: %v", typ, inDoc, unserved[typ] != "")
		}
	}
	if len(notServed) != len(mesosmaster.Call_Type_name) {
		t.Errorf("docs/api.md's table has %d calls, master.proto %d", len(notServed), len(mesosmaster.Call_Type_name))
	}
}
